#!/usr/bin/env node
// Finite GIFs at e-mail scale: CPU per `?seconds=N` request beside a canned 404 and beside nginx serving the same
// bytes as a static file, every server timed side by side.
//
//   make -C perf finite                 (build first: npx tsc -p .; the client is perf/out/flood)
//   ROUNDS=3 SECONDS=5 CONNS=20 NO_RESULTS=1 node perf/finite-bench.mjs
//
// Five servers run at once, all on CPU 0, each loaded by its own perf/out/flood (keep-alive, then one connection per
// request) on CPU 1:
//   404        timegif answering GET /no-such-page (a canned 404: the floor for "an answer");
//   finite-60  timegif answering GET /time.gif?seconds=60: requests in every second, so each second assembles its
//              GIF once from the face's held seconds and every other request of that second writes the same bytes;
//   nginx-60   nginx writing a 60-second GIF of the same size from a file (sendfile);
//   finite-3600, nginx-3600: the same for an hour (224 KB).
// CHECK first (every response the expected status, none dropped or cut short; the files are timegif's own GIFs),
// then each round reads every server's on-CPU time over the same seconds. Targets: a 60-second GIF costs at most
// 1.5x a canned 404; an hour costs what writing its bytes costs (reported beside nginx).

import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { freePort, machine, median, record, sleep, stopChild } from './common.mjs';
import { commonWindow, FLOOD, listeningPort, runFlood } from './flood-run.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const num = (k, d) => (process.env[k] === undefined ? d : Number(process.env[k]));
const ROUNDS = num('ROUNDS', 3);
const SECONDS = num('SECONDS', 5);
const CONNS = num('CONNS', 20);

async function startTimegif(name, path, expect) {
  const child = spawn('taskset', ['-c', '0', process.execPath, `${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', '--conn-rate-per-ip', '100000'], { stdio: ['ignore', 'pipe', 'pipe'] });
  child.stderr.resume();
  const port = await listeningPort(child, name);
  return { name, child, pid: child.pid, port, path, expect };
}

/** GET a path once (for the files nginx serves: timegif's own bytes). */
function fetchBody(port, path) {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(`GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`));
    const chunks = [];
    s.on('data', (d) => chunks.push(d));
    s.on('error', reject);
    s.on('close', () => {
      const all = Buffer.concat(chunks);
      resolve(all.subarray(all.indexOf('\r\n\r\n') + 4));
    });
  });
}

/** nginx (master + one worker) serving `files` from a temp prefix; CPU is the worker's. */
async function startNginx(files) {
  const prefix = mkdtempSync(`${tmpdir()}/timegif-nginx-`);
  chmodSync(prefix, 0o755); // run as root, nginx's worker is `nobody`: it must be able to read the files
  mkdirSync(`${prefix}/tmp`);
  mkdirSync(`${prefix}/www`, { mode: 0o755 });
  for (const [name, body] of Object.entries(files)) writeFileSync(`${prefix}/www/${name}`, body, { mode: 0o644 });
  const port = await freePort();
  writeFileSync(`${prefix}/nginx.conf`, readFileSync(`${HERE}nginx/static.conf.in`, 'utf8').replaceAll('@PREFIX@', prefix).replaceAll('@LISTEN@', `127.0.0.1:${port}`));
  const child = spawn('taskset', ['-c', '0', 'nginx', '-p', prefix, '-c', `${prefix}/nginx.conf`], { stdio: ['ignore', 'ignore', 'pipe'] });
  child.stderr.resume();
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    let kids = '';
    try { kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim(); } catch { /* not yet */ }
    const ok = await new Promise((r) => { const s = connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (kids && ok) return { child, pid: Number(kids.split(/\s+/)[0]), port };
  }
  throw new Error(`nginx did not start${existsSync(`${prefix}/error.log`) ? `: ${readFileSync(`${prefix}/error.log`, 'utf8')}` : ''}`);
}

if (!existsSync(FLOOD)) throw new Error(`${FLOOD} missing: make -C perf out/flood`);
if (!existsSync(`${ROOT}dist/server.js`)) throw new Error('dist/server.js missing: npx tsc -p .');
const servers = [
  await startTimegif('404', '/no-such-page', '404'),
  await startTimegif('finite-60', '/time.gif?seconds=60', '200'),
  await startTimegif('finite-3600', '/time.gif?seconds=3600', '200'),
];
const gif60 = await fetchBody(servers[1].port, '/time.gif?seconds=60');
const gif3600 = await fetchBody(servers[2].port, '/time.gif?seconds=3600');
if (gif60.subarray(0, 6).toString() !== 'GIF89a' || gif60.at(-1) !== 0x3b || gif3600.at(-1) !== 0x3b) throw new Error('check: timegif did not send whole GIFs');
const nginx = await startNginx({ 'f60.gif': gif60, 'f3600.gif': gif3600 });
servers.push({ name: 'nginx-60', ...nginx, path: '/f60.gif', expect: '200' });
servers.push({ name: 'nginx-3600', ...nginx, pid: nginx.pid, path: '/f3600.gif', expect: '200' });
// nginx's two files share one worker: time them in turn, each beside the three timegif servers.
const groups = [servers.filter((s) => s.name !== 'nginx-3600'), servers.filter((s) => s.name !== 'nginx-60')];
const rows = [];
try {
  await sleep(500);
  for (const mode of ['keepalive', 'close']) {
    for (let round = 1; round <= ROUNDS; round++) {
      for (const [g, group] of groups.entries()) {
        const runs = await Promise.all(group.map((srv, i) => runFlood(srv, { mode, conns: CONNS, seconds: SECONDS, src: `127.${(i * 10 + round * 2 + g) % 250 + 1}.0.0/16`, host: 'localhost', path: srv.path })));
        const [from, to] = commonWindow(runs);
        runs.forEach((r, i) => {
          const srv = group[i];
          const a = r.ticks.find((t) => t.sec === from);
          const b = r.ticks.find((t) => t.sec === to);
          const wrong = Object.keys(r.status).filter((c) => c !== srv.expect);
          if (wrong.length > 0 || b.bad > 0) throw new Error(`${srv.name} ${mode}: statuses ${JSON.stringify(r.status)}, ${b.bad} dropped/partial/errors`);
          if (g === 1 && srv.name !== 'nginx-3600') return; // the timegif servers are counted in the first group
          rows.push({ server: srv.name, mode, round, responses: b.responses - a.responses, usPer: ((b.cpu - a.cpu) * 1e6) / (b.responses - a.responses) });
        });
        await sleep(300);
      }
      const mine = rows.filter((x) => x.mode === mode && x.round === round);
      console.log(`${mode} round ${round}: ${mine.map((x) => `${x.server} ${x.usPer.toFixed(1)} µs`).join(', ')} of CPU per response`);
    }
  }
} finally {
  for (const srv of servers.slice(0, 3)) await stopChild(srv.child);
  await stopChild(nginx.child);
}

const per = (name, mode) => rows.filter((r) => r.server === name && r.mode === mode).sort((a, b) => a.round - b.round);
const ratio = (a, b, mode) => per(a, mode).map((r, i) => r.usPer / per(b, mode)[i].usPer);
const lines = [
  '',
  `## Finite GIFs beside a canned 404 and nginx, side by side (${new Date().toISOString()})`,
  '',
  `Command: \`make -C perf finite\` (perf/finite-bench.mjs; ROUNDS=${ROUNDS} SECONDS=${SECONDS} CONNS=${CONNS})  `,
  `${machine()} (at the end). Servers on CPU 0, each loaded by its own perf/out/flood (${CONNS} connections) on CPU 1, CPU read over the same seconds; ` +
    `every response checked (404 or 200, whole). The 60-second GIF is ${gif60.length} B, the hour ${gif3600.length} B; nginx serves those bytes from files (sendfile).`,
  '',
  '| server | keep-alive: µs CPU per response (rounds) | one connection per request: µs CPU per response (rounds) |',
  '|---|---|---|',
  ...servers.map((s) => `| ${s.name} | ${['keepalive', 'close'].map((m) => `${median(per(s.name, m).map((r) => r.usPer)).toFixed(1)} (${per(s.name, m).map((r) => r.usPer.toFixed(1)).join(', ')})`).join(' | ')} |`),
  '',
];
for (const mode of ['keepalive', 'close']) {
  const r60 = ratio('finite-60', '404', mode);
  lines.push(`- ${mode}: a 60-second GIF costs ${median(r60).toFixed(2)}× a canned 404 [${r60.map((x) => x.toFixed(2)).join(', ')}] (target ≤ 1.5×: ${median(r60) <= 1.5 ? 'met' : 'MISSED'}); ` +
    `${median(ratio('finite-60', 'nginx-60', mode)).toFixed(2)}× nginx writing the same bytes; an hour ${median(ratio('finite-3600', 'nginx-3600', mode)).toFixed(2)}× nginx's hour, ` +
    `${median(ratio('finite-3600', '404', mode)).toFixed(2)}× a canned 404.`);
}
lines.push('');
record(lines);
