#!/usr/bin/env node
// Multipart (WebKit) viewers against endless-GIF viewers on one timegif process, side by side in one run:
// VIEWERS streams of one mode held for SECONDS, then the same count of the other mode, alternating ROUNDS times.
// CHECK first: a sampled stream of each mode is decoded (the first multipart part is a one-frame GIF, every later part a whole PNG read by pngjs; the
// GIF stream by verify-gif's two decoders). TIME: server CPU (on-CPU time from /proc)
// per viewer-second and bytes per viewer-second, medians over the rounds. Appends a section to RESULTS.md.
//
//   make -C perf multipart                  VIEWERS=5000 SECONDS=10 ROUNDS=3 (defaults)

import { spawn } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { decodeOmggif, decodePngjs } from '../dist/spec/decoders.js';
import { procStats, expandCidrs } from './load.mjs';
import { verifyStream } from './verify-gif.mjs';
import { machine, median, sleep } from './common.mjs';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const VIEWERS = Number(env.VIEWERS || 5000);
const SECONDS = Number(env.SECONDS || 10);
const ROUNDS = Number(env.ROUNDS || 3);
const BOUNDARY = Buffer.from('\r\n--timegif-frame\r\n');

function startServer() {
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, `${ROOT}dist/server.js`, 'serve',
    '--listen', '127.0.0.1:0', '--max-viewers', String(VIEWERS + 100), '--max-streams-per-ip', String(VIEWERS + 100), '--conn-rate-per-ip', '100000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(String(d));
      if (m) resolve({ child, port: Number(m[1]) });
    });
    child.once('exit', () => reject(new Error('server exited')));
  });
}

/** VIEWERS sockets on `mode`; resolves once each has its first bytes. Each counts bytes and boundaries (parts). */
async function openViewers(port, mode, n, srcs) {
  const viewers = [];
  let ready = 0;
  await new Promise((resolve, reject) => {
    for (let i = 0; i < n; i++) {
      const v = { bytes: 0, parts: 0, sample: [], sampleLen: 0, socket: null };
      const s = connect({ port, host: '127.0.0.1', localAddress: srcs[i % srcs.length] });
      v.socket = s;
      s.on('error', reject);
      s.once('data', () => ++ready === n && resolve());
      s.on('data', (d) => {
        v.bytes += d.length;
        if (mode === 'multipart') for (let at = d.indexOf(BOUNDARY); at >= 0; at = d.indexOf(BOUNDARY, at + 1)) v.parts++;
        if (i === 0 && v.sampleLen < 8192) (v.sample.push(d), (v.sampleLen += d.length));
      });
      s.write(`GET /time.gif?stream=${mode} HTTP/1.1\r\nHost: bench\r\nUser-Agent: multipart-bench\r\n\r\n`);
      viewers.push(v);
    }
  });
  return viewers;
}

function checkMultipart(bytes) {
  const body = bytes.subarray(bytes.indexOf('\r\n\r\n') + 4);
  const parts = [];
  let at = body.indexOf('\r\n\r\n') + 4;
  for (let next = body.indexOf(BOUNDARY, at); next >= 0; next = body.indexOf(BOUNDARY, at)) {
    parts.push(body.subarray(at, next));
    at = body.indexOf('\r\n\r\n', next + BOUNDARY.length) + 4;
  }
  if (parts.length < 2) return { ok: false, error: `only ${parts.length} whole parts` };
  for (const [k, p] of parts.entries()) {
    try {
      if (k === 0) { // the intro's part is a one-frame GIF (lib/stream/multipart.ts FIRST_PART_HEAD)
        if (decodeOmggif(p).frames.length !== 1) throw new Error('the first part is not a one-frame GIF');
      } else decodePngjs(p);
    } catch (e) {
      return { ok: false, error: `part ${k}: ${e.message}` };
    }
  }
  return { ok: true, parts: parts.length, partBytes: parts[1].length + BOUNDARY.length + 'Content-Type: image/png\r\n\r\n'.length };
}

async function round(port, pid, mode, srcs) {
  const viewers = await openViewers(port, mode, VIEWERS, srcs);
  await sleep(1500); // every viewer past its intro
  const b0 = viewers.reduce((a, v) => a + v.bytes, 0);
  const p0 = procStats(pid);
  const t0 = Date.now();
  await sleep(SECONDS * 1000);
  const p1 = procStats(pid);
  const wallS = (Date.now() - t0) / 1000;
  const b1 = viewers.reduce((a, v) => a + v.bytes, 0);
  const sample = Buffer.concat(viewers[0].sample);
  for (const v of viewers) v.socket.destroy();
  await sleep(1500);
  const viewerSeconds = VIEWERS * wallS;
  return { mode, usPerViewerS: ((p1.runS - p0.runS) * 1e6) / viewerSeconds, bytesPerViewerS: (b1 - b0) / viewerSeconds, sample };
}

const { child, port } = await startServer();
const srcs = expandCidrs(['127.3.0.0/24']);
const rows = { gif: [], multipart: [] };
let partBytes = 0;
try {
  // CHECK
  for (const mode of ['gif', 'multipart']) {
    const [v] = await openViewers(port, mode, 1, srcs);
    await sleep(3200);
    const bytes = Buffer.concat(v.sample);
    v.socket.destroy();
    const c = mode === 'gif' ? verifyStream(bytes) : checkMultipart(bytes);
    if (!c.ok) throw new Error(`check ${mode}: ${c.error}`);
    if (mode === 'multipart') partBytes = c.partBytes;
    console.log(`check ${mode}: ok`);
  }
  // TIME, alternating
  for (let r = 0; r < ROUNDS; r++)
    for (const mode of r % 2 === 0 ? ['gif', 'multipart'] : ['multipart', 'gif']) {
      const x = await round(port, child.pid, mode, srcs);
      rows[mode].push(x);
      console.log(`round ${r + 1} ${mode}: ${x.usPerViewerS.toFixed(2)} µs CPU and ${x.bytesPerViewerS.toFixed(1)} B per viewer-second`);
    }
} finally {
  child.kill('SIGTERM');
}
const med = (mode, k) => median(rows[mode].map((x) => x[k]));
const cpuRatio = med('multipart', 'usPerViewerS') / med('gif', 'usPerViewerS');
const lines = [
  '',
  `## Multipart vs GIF viewers (${new Date().toISOString()})`,
  '',
  `\`make -C perf multipart VIEWERS=${VIEWERS} SECONDS=${SECONDS} ROUNDS=${ROUNDS}\` · ${machine()}`,
  '',
  '| mode | server CPU µs / viewer-second (median) | bytes / viewer-second (median) | rounds |',
  '| --- | --- | --- | --- |',
  `| gif | ${med('gif', 'usPerViewerS').toFixed(2)} | ${med('gif', 'bytesPerViewerS').toFixed(1)} | ${rows.gif.map((x) => x.usPerViewerS.toFixed(2)).join(', ')} |`,
  `| multipart | ${med('multipart', 'usPerViewerS').toFixed(2)} | ${med('multipart', 'bytesPerViewerS').toFixed(1)} | ${rows.multipart.map((x) => x.usPerViewerS.toFixed(2)).join(', ')} |`,
  '',
  `Multipart CPU ${cpuRatio.toFixed(2)}× GIF (target ≤ 1.1×); the sampled part was ${partBytes} B on the wire (PNG + the next part's head).`,
  '',
];
console.log(lines.join('\n'));
if (!env.NO_RESULTS) appendFileSync(new URL('RESULTS.md', import.meta.url), lines.join('\n'));
