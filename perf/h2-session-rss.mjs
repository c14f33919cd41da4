#!/usr/bin/env node
// What node:http2 keeps per session: RSS per single-stream h2 viewer on the bare Node server (bare-viewers.mjs)
// under node:http2 options that could shrink a session (header tables, window sizes, the session memory bound),
// each beside the defaults, in alternating rounds. Whatever lowers the bare server's RSS is worth taking into
// timegif's own h2 server (lib/http/http2.ts); whatever does not is recorded as such.
//
//   node perf/h2-session-rss.mjs          VIEWERS=2000 ROUNDS=3 NO_RESULTS=1
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { machine, median, record, sleep, stopChild } from './common.mjs';
import { holdViewers } from './tls-viewers.mjs';
import { TLS_WRITE_PIECE_BYTES } from '../dist/lib/stream/viewer.js';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const VIEWERS = Number(process.env.VIEWERS ?? 2000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
const PROCS = 2;
/** The sizes timegif sends a single-stream h2 viewer (tls-bench.mjs measures them from its /metrics). */
const INTRO = 590, FRAME = 64;

const VARIANTS = {
  'defaults': {},
  'headerTableSize 0 (our HPACK decoder table)': { settings: { headerTableSize: 0 } },
  'maxDeflateDynamicTableSize 0 (our HPACK encoder table)': { maxDeflateDynamicTableSize: 0 },
  'initialWindowSize 16384': { settings: { initialWindowSize: 16384 } },
  'maxSessionMemory 1 MB': { maxSessionMemory: 1 },
  'maxConcurrentStreams 8': { settings: { maxConcurrentStreams: 8 } },
};

const rss = (pid) => 1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);

async function one(cert, options) {
  const srv = spawn(process.execPath, [join(HERE, 'bare-viewers.mjs'), 'h2', cert.cert, cert.key, String(INTRO), String(FRAME), String(TLS_WRITE_PIECE_BYTES), JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    srv.stdout.once('data', (d) => resolve(Number(/port (\d+)/.exec(String(d))[1])));
    srv.once('exit', (c) => reject(new Error(`bare-viewers exited with ${c}`)));
  });
  await sleep(1000);
  const before = rss(srv.pid);
  const { clients, receiving } = await holdViewers('h2', port, VIEWERS, PROCS);
  if (receiving !== VIEWERS) throw new Error(`${JSON.stringify(options)}: ${receiving} of ${VIEWERS} streams receiving`);
  await sleep(3000);
  const after = rss(srv.pid);
  for (const c of clients) c.send('exit');
  await stopChild(srv);
  return (after - before) / VIEWERS / 1024;
}

const dir = mkdtempSync(join(tmpdir(), 'h2-rss-'));
const cert = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', cert.key,
  '-out', cert.cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'pipe' });
const kib = Object.fromEntries(Object.keys(VARIANTS).map((k) => [k, []]));
try {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [name, options] of Object.entries(VARIANTS)) {
      const k = await one(cert, options);
      kib[name].push(k);
      console.log(`round ${round} ${name}: ${k.toFixed(1)} KiB per session`);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const base = kib.defaults;
record([
  '',
  `## What node:http2 keeps per session (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
  '',
  `Command: \`node perf/h2-session-rss.mjs\` (VIEWERS=${VIEWERS} ROUNDS=${ROUNDS}); ${machine()}.`,
  `The bare node:http2 server (perf/bare-viewers.mjs), ${VIEWERS} sessions of one stream each receiving a ${INTRO} B intro and ${FRAME} B a second; ` +
    'RSS per session after 3 s idle, each variant once per round, rounds alternating.',
  '',
  '| node:http2 option | KiB per session (rounds) | vs defaults (median of rounds) |',
  '|---|---:|---:|',
  ...Object.entries(kib).map(([name, xs]) => `| ${name} | ${median(xs).toFixed(1)} (${xs.map((x) => x.toFixed(1)).join(', ')}) | ${median(xs.map((x, i) => x / base[i])).toFixed(2)}× |`),
  '',
]);
