#!/usr/bin/env node
// The attacker's cases as a repeatable, bounded loopback script, run against one or more builds side by side
// (BUILDS=dir,dir: each a checkout with dist/ built; default this one):
//  1. SESSIONS idle h2 sessions (TLS + ALPN h2, then silence): how many are still open after WAIT_S seconds;
//  2. PIPELINERS connections with 2 KiB receive windows (spec/fixtures/smallbuf.py) each pipelining 1,000
//     `GET /` and never reading: the server's kernel send queues (ss Send-Q) after 2 s and after WAIT_S, and
//     the server-side sockets left.
// Appends a section to RESULTS.md.
//
//   make -C perf attack                         SESSIONS=300 PIPELINERS=100 WAIT_S=16
//   BUILDS=/tmp/before,.. node perf/attack-bench.mjs   (a worktree of an older commit, built, beside this one)

import { spawn, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverSendQueue } from '../dist/spec/helpers.js';
import { sleep } from './common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const env = process.env;
const BUILDS = (env.BUILDS || resolve(HERE, '..')).split(',').map((d) => resolve(d));
const SESSIONS = Number(env.SESSIONS || 300);
const PIPELINERS = Number(env.PIPELINERS || 100);
const WAIT_S = Number(env.WAIT_S || 16);

const dir = mkdtempSync(join(tmpdir(), 'timegif-attack-'));
const cert = join(dir, 'c.pem');
const key = join(dir, 'c.key');
execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert,
  '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });

function startServer(root) {
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, join(root, 'dist/server.js'),
    '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0', '--cert', cert, '--key', key, '--conn-rate-per-ip', '100000'],
  { stdio: ['ignore', 'pipe', 'ignore'] });
  const ports = {};
  return new Promise((res, rej) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d;
      for (const m of buf.matchAll(/listening on (https?):\/\/127\.0\.0\.1:(\d+)/g)) ports[m[1]] = Number(m[2]);
      if (ports.http && ports.https) res({ child, ...ports });
    });
    child.once('exit', () => rej(new Error(`${root}: server exited`)));
  });
}

/** The server's own count of open connections, from /metrics on loopback. */
async function connectionsOpen(httpPort) {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  return Number(/^timegif_connections_open (\d+)/m.exec(await res.text())?.[1] ?? NaN) - 1; // less this request's own
}

async function idleSessions(port, httpPort) {
  const socks = await Promise.all(Array.from({ length: SESSIONS }, () => new Promise((res) => {
    const s = tlsConnect({ host: '127.0.0.1', port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: 'localhost' });
    s.on('error', () => undefined);
    s.once('secureConnect', () => res(s));
  })));
  await sleep(500);
  const open0 = await connectionsOpen(httpPort);
  await sleep(WAIT_S * 1000);
  const open1 = await connectionsOpen(httpPort);
  for (const s of socks) s.destroy();
  return { open0, open1 };
}

async function pipeliners(port) {
  const py = spawn('python3', [join(HERE, '../spec/fixtures/smallbuf.py'), 'pipeline', String(port), String(PIPELINERS), '1000'], { stdio: ['pipe', 'pipe', 'ignore'] });
  await new Promise((r) => py.stdout.once('data', r));
  await sleep(2000);
  const q0 = serverSendQueue(port);
  await sleep(WAIT_S * 1000 - 2000);
  const q1 = serverSendQueue(port);
  py.kill();
  return { q0, q1 };
}

const rows = [];
for (const root of BUILDS) {
  const commit = (() => { try { return execFileSync('git', ['-C', root, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim(); } catch { return '?'; } })();
  const srv = await startServer(root);
  try {
    const h2 = await idleSessions(srv.https, srv.http);
    const pl = await pipeliners(srv.http);
    rows.push({ commit, ...h2, ...pl });
    console.log(commit, JSON.stringify(rows.at(-1)));
  } finally {
    srv.child.kill('SIGKILL');
  }
  await sleep(1000);
}
const mb = (b) => (b / 1048576).toFixed(1);
const cpu = cpus();
const lines = [
  '',
  `## Attacks: idle h2 sessions, pipeliners that never read (${new Date().toISOString()})`,
  '',
  `\`SESSIONS=${SESSIONS} PIPELINERS=${PIPELINERS} WAIT_S=${WAIT_S} BUILDS=… node perf/attack-bench.mjs\` · Node ${process.version} · ${cpu.length}× ${cpu[0]?.model ?? '?'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB`,
  '',
  `| build | idle h2 sessions: connections_open after 0.5 s → ${WAIT_S} s | pipeliners: server send queues after 2 s (sockets) | after ${WAIT_S} s (sockets) |`,
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.commit} | ${r.open0} → ${r.open1} | ${mb(r.q0.bytes)} MiB (${r.q0.sockets}) | ${mb(r.q1.bytes)} MiB (${r.q1.sockets}) |`),
  '',
];
console.log(lines.join('\n'));
if (!env.NO_RESULTS) appendFileSync(new URL('RESULTS.md', import.meta.url), lines.join('\n'));
