#!/usr/bin/env node
// Blocked floods dropped in the kernel (timegif nft) against the in-process check alone, side by side in one run,
// inside a private network namespace (it re-runs itself under `unshare -n`; needs root, nft and perf/out/flood).
// For each mode: timegif with a blocklist holding 127.77.0.0/16 and VIEWERS viewers from 127.3.0.0/24, then
// flood.c's connection-per-request flood from 127.77.0.0/16 for SECONDS: server CPU per blocked connection
// attempt, connections the server accepted, and the viewers' p99 delay after the second boundary. Also the time
// `nft -f` takes for 5,000 and 50,000 ranges. Appends a section to RESULTS.md.
//
//   make -C perf nft            VIEWERS=500 SECONDS=8 CONNS=200

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { procStats } from './load.mjs';
import { sleep } from './common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = process.env;
const VIEWERS = Number(env.VIEWERS || 500);
const SECONDS = Number(env.SECONDS || 8);
const CONNS = Number(env.CONNS || 200);

if (process.argv[2] !== '--inner') {
  const r = spawnSync('unshare', ['-n', process.execPath, fileURLToPath(import.meta.url), '--inner'], { stdio: 'inherit', env });
  process.exit(r.status ?? 1);
}

execFileSync('ip', ['link', 'set', 'lo', 'up']);
const dir = mkdtempSync(join(tmpdir(), 'timegif-nftbench-'));
function list(n) {
  const lines = ['127.77.0.0/16'];
  for (let i = 0; lines.length < n; i++) lines.push(`${1 + (i % 126)}.${(i >> 8) & 255}.${i & 255}.0/24`, `2a01:${(i & 0xffff).toString(16)}:${(i >> 16).toString(16)}::/48`);
  const p = join(dir, `block-${n}.txt`);
  writeFileSync(p, lines.slice(0, n).join('\n') + '\n');
  return p;
}
const block = list(5000);

function startServer() {
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$0" "$@"', process.execPath, join(ROOT, 'dist/server.js'), '--listen', '127.0.0.1:0',
    '--blocklist', block, '--max-streams-per-ip', '100000', '--conn-rate-per-ip', '100000'], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((res) => child.stdout.on('data', (d) => {
    const m = /127\.0\.0\.1:(\d+)/.exec(String(d));
    if (m) res({ child, port: Number(m[1]) });
  }));
}

async function metric(port, name) {
  const t = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  return Number(new RegExp(`^${name} (\\d+)`, 'm').exec(t)?.[1] ?? NaN);
}

function nftApply(args) {
  const gen = spawnSync(process.execPath, [join(ROOT, 'dist/server.js'), 'nft', ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const f = join(dir, 't.nft');
  writeFileSync(f, gen.stdout);
  const t0 = process.hrtime.bigint();
  execFileSync('nft', ['-f', f]);
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

async function run(mode) {
  const { child, port } = await startServer();
  if (mode === 'kernel') nftApply(['--blocklist', block, '--ports', String(port)]);
  else spawnSync('nft', ['delete', 'table', 'inet', 'timegif']);
  const delays = [];
  const socks = [];
  for (let i = 0; i < VIEWERS; i++) {
    const s = connect({ port, host: '127.0.0.1', localAddress: `127.3.0.${1 + (i % 250)}` });
    let first = true;
    s.on('data', () => {
      if (first) return void (first = false);
      delays.push(Date.now() % 1000);
    });
    s.on('error', () => undefined);
    s.write('GET /time.gif HTTP/1.1\r\nHost: x\r\n\r\n');
    socks.push(s);
  }
  await sleep(2000);
  delays.length = 0;
  const acc0 = await metric(port, 'timegif_connections_accepted_total');
  const p0 = procStats(child.pid);
  // Asynchronously: the viewers' frames are read (and timed) while the flood runs.
  const flood = spawn(join(HERE, 'out/flood'), ['--mode', 'close', '--conns', String(CONNS), '--seconds', String(SECONDS), '--src', '127.77.0.0/16', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  let floodOut = '';
  flood.stdout.on('data', (d) => (floodOut += d));
  const killer = setTimeout(() => flood.kill(), (SECONDS + 20) * 1000);
  await new Promise((r) => flood.once('exit', r));
  clearTimeout(killer);
  const p1 = procStats(child.pid);
  const acc1 = (await metric(port, 'timegif_connections_accepted_total')) - 1; // less the /metrics request itself
  const last = floodOut.split('\n').filter((l) => l.startsWith('sec ')).at(-1) ?? '';
  const connects = Number(/connects (\d+)/.exec(last)?.[1] ?? 0);
  for (const s of socks) s.destroy();
  child.kill('SIGKILL');
  const sorted = delays.sort((a, b) => a - b);
  const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? NaN;
  // Attempts: with the kernel drop, flood.c's connects never complete; count SYNs from the drop counter.
  const dropped = mode === 'kernel' ? Number(/@block4 counter packets (\d+)/.exec(execFileSync('nft', ['list', 'table', 'inet', 'timegif'], { encoding: 'utf8' }))?.[1] ?? 0) : 0;
  return { mode, cpuS: p1.runS - p0.runS, accepted: acc1 - acc0, connects, dropped, p99, frames: sorted.length };
}

const rows = [await run('in-process'), await run('kernel')];
const t50k = nftApply(['--blocklist', list(50000), '--ports', '80,443']);
spawnSync('nft', ['delete', 'table', 'inet', 'timegif']);
const t5k = nftApply(['--blocklist', list(5000), '--ports', '80,443']);
const cpu = cpus();
const lines = [
  '',
  `## Blocked flood: kernel drop vs in-process check (${new Date().toISOString()})`,
  '',
  `\`make -C perf nft VIEWERS=${VIEWERS} SECONDS=${SECONDS} CONNS=${CONNS}\` (in a private network namespace) · Node ${process.version} · ${cpu.length}× ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  '',
  `| drop | server CPU over the ${SECONDS} s flood, ${VIEWERS} viewers included (s) | connections the server accepted | flood connects completed | SYNs dropped by the kernel | µs server CPU per blocked connection | viewers p99 after the boundary (ms) |`,
  '| --- | --- | --- | --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.mode} | ${r.cpuS.toFixed(2)} | ${r.accepted} | ${r.connects} | ${r.dropped} | ${r.accepted > 0 ? ((r.cpuS * 1e6) / r.accepted).toFixed(1) : '— (none reached it)'} | ${r.p99} (${r.frames} frames) |`),
  '',
  'With the kernel drop no SYN becomes a socket: flood.c waits on connects that never complete (the SYNs counted are its retries), so the flood offers fewer packets than the in-process run; what the server spends is its viewers.',
  '',
  `nft -f: 50,000 ranges ${t50k.toFixed(0)} ms (replacing a 5,000-range table), 5,000 ranges ${t5k.toFixed(0)} ms (replacing the 50,000).`,
  '',
];
console.log(lines.join('\n'));
if (!env.NO_RESULTS) appendFileSync(new URL('RESULTS.md', import.meta.url), lines.join('\n'));
