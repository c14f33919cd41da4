#!/usr/bin/env node
// TLS benchmark: full ECDSA P-256 handshakes per server CPU-second, timegif vs nginx (one worker, same
// certificate, TLS defaults) vs a bare node:tls server (the Node floor), then RSS per idle
// TLS viewer (HTTP/1.1 over TLS and h2).
//
//   node perf/tls-bench.mjs            (build first: npx tsc -p .)
//   SECONDS=10 ROUNDS=3 RSS_ROUNDS=3 CLIENTS=2 INFLIGHT=8 VIEWERS=2000 NO_RECORD=1 node perf/tls-bench.mjs
//
// Handshakes: CLIENTS processes each keep INFLIGHT connections going: connect (no session offered, so every
// handshake is full), wait for secureConnect, end, wait for the server's close; count completions. The
// server's CPU (utime + stime of its processes, /proc/PID/stat) is read at the start and end of the window.
// Checked first: both servers present the same certificate, negotiate TLS 1.3 with an ECDSA P-256 key, and
// never resume a session. Viewers: VIEWERS streams from client processes, each on its own connection;
// RSS is taken before and once every stream has frames; also checked through /metrics.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { connect as h2Connect } from 'node:http2';
import { X509Certificate } from 'node:crypto';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, machine, median, sleep, stopChild } from './common.mjs';
import { holdViewers } from './tls-viewers.mjs';
import { procStats } from './load.mjs';
import { TLS_WRITE_PIECE_BYTES } from '../dist/lib/stream/viewer.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const env = (k, d) => (process.env[k] === undefined ? d : Number(process.env[k]));
const SECONDS = env('SECONDS', 10);
const ROUNDS = env('ROUNDS', 3);
const RSS_ROUNDS = env('RSS_ROUNDS', 3);
const CLIENTS = env('CLIENTS', 2);
const INFLIGHT = env('INFLIGHT', 8);
const VIEWERS = env('VIEWERS', 2000);
const KIND_NAMES = {
  h1: 'HTTP/1.1 over TLS, one connection each',
  h2: 'h2, one session each',
  h2x8: 'h2, 8 streams per session (a page of 8 GIFs)',
};
const VIEWER_PROCS = env('VIEWER_PROCS', 2);
const mark = (ok) => (ok ? 'PASS' : 'FAIL');
// Handshakes side by side (default where taskset exists; TOGETHER=0 times one server after another): each round runs
// every server at the same time, all on CPU 0, each with its own clients on CPU 1, and reads every server's CPU over
// the same window. A change in the shared machine's speed then hits all of them alike; timed one after another, the
// same server moved by up to 30% between rounds (timegif 773 and 1021 handshakes per CPU-second in one run).
const TOGETHER = process.env.TOGETHER !== '0' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
/** `cmd args` on one CPU when timing side by side. */
const onCpu = (cpu, cmd, args) => (TOGETHER ? ['taskset', ['-c', String(cpu), cmd, ...args]] : [cmd, args]);
/** What the checks saw, per server: `TLSv1.3 TLS_AES_256_GCM_SHA384`. */
const checked = {};

// ---- client processes -------------------------------------------------------------------------------------

if (process.argv[2] === 'handshake-client') {
  const port = Number(process.argv[3]);
  let counting = false;
  let count = 0;
  let errors = 0;
  let stop = false;
  const one = () => {
    if (stop) return;
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    let ok = false;
    s.once('secureConnect', () => {
      ok = true;
      s.end();
    });
    s.on('error', () => undefined);
    s.once('close', () => {
      if (counting) ok ? count++ : errors++;
      setImmediate(one);
    });
    s.resume();
  };
  for (let i = 0; i < INFLIGHT; i++) one();
  process.on('disconnect', () => process.exit(0)); // the bench is gone: do not go on handshaking
  process.on('message', (m) => {
    if (m === 'start') {
      counting = true;
      count = errors = 0;
    } else if (m === 'stop') {
      counting = false;
      process.send({ count, errors }, () => {
        stop = true;
        process.exit(0);
      });
    }
  });
} else if (process.argv[2] === 'viewer-client') {
  const [, , , kind, port, n] = process.argv;
  const got = new Array(Number(n)).fill(0);
  const keep = [];
  for (let i = 0; i < Number(n); i++) {
    if (kind === 'h1') {
      const s = tlsConnect({ host: '127.0.0.1', port: Number(port), servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
      s.on('secureConnect', () => s.write('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n'));
      s.on('data', (c) => (got[i] += c.length));
      s.on('error', () => undefined);
      keep.push(s);
    } else if (kind === 'h2') {
      const sess = h2Connect(`https://localhost:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
      sess.on('error', () => undefined);
      const st = sess.request({ ':path': '/time.gif' });
      st.on('data', (c) => (got[i] += c.length));
      st.on('error', () => undefined);
      keep.push(sess);
    } else {
      // h2x8: a browser page with eight GIFs, one session carrying eight streams.
      if (i % 8 === 0) {
        const sess = h2Connect(`https://localhost:${port}`, { rejectUnauthorized: false, servername: 'localhost' });
        sess.on('error', () => undefined);
        keep.push(sess);
      }
      const st = keep[keep.length - 1].request({ ':path': `/time.gif?r=${i % 8}` });
      st.on('data', (c) => (got[i] += c.length));
      st.on('error', () => undefined);
    }
    if (i % 100 === 99) await sleep(20);
  }
  process.on('message', (m) => {
    if (m === 'report') process.send({ receiving: got.filter((b) => b > 0).length, bytes: got.reduce((a, b) => a + b, 0) });
    if (m === 'exit') process.exit(0);
  });
  process.send('ready');
} else await main();

// ---- servers ----------------------------------------------------------------------------------------------


/** Server CPU (utime + stime) and RSS, summed over its process tree (nginx: master + worker): load.mjs procStats. */
function cpuSeconds(pid) {
  return procStats(pid).cpuS;
}
function rssBytes(pid) {
  return procStats(pid).rssKB * 1024;
}

async function startTimegif(cert, extra = []) {
  const child = spawn(...onCpu(0, process.execPath, [join(ROOT, 'dist/server.js'), 'serve', '--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0',
    '--cert', cert.cert, '--key', cert.key, '--conn-rate-per-ip', '1000000', '--max-streams-per-ip', '1000000', ...extra]),
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const urls = await new Promise((resolve, reject) => {
    let buf = '';
    const found = {};
    child.stdout.on('data', (d) => {
      buf += d;
      for (const m of buf.matchAll(/listening on (https?):\/\/([\d.]+):(\d+)/g)) found[m[1]] = Number(m[3]);
      if (found.http && found.https) resolve(found);
    });
    child.once('exit', (c) => reject(new Error(`timegif exited with ${c}`)));
  });
  child.stdout.resume();
  return { name: 'timegif', pid: child.pid, port: urls.https, httpPort: urls.http, stop: () => stopChild(child) };
}

async function startNginx(cert) {
  const prefix = mkdtempSync(join(tmpdir(), 'tls-bench-nginx-'));
  mkdirSync(join(prefix, 'logs'));
  const port = await freePort();
  const conf = join(prefix, 'nginx.conf');
  writeFileSync(conf, `worker_processes 1;
daemon off;
${process.getuid?.() === 0 ? 'user root;' : ''}
error_log ${prefix}/logs/error.log warn;
pid ${prefix}/nginx.pid;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fcgi;
  uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${cert.cert};
    ssl_certificate_key ${cert.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    # Defaults otherwise (no session cache; TLS 1.3 tickets issued, as Node does): clients never resume.
    location / { return 404; }
  }
}
`);
  const child = spawn(...onCpu(0, 'nginx', ['-p', prefix, '-e', join(prefix, 'logs/error.log'), '-c', conf]), { stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; ; i++) {
    const up = await new Promise((r) => {
      const s = netConnect(port, '127.0.0.1', () => (s.destroy(), r(true)));
      s.on('error', () => r(false));
    });
    if (up) break;
    if (i === 100 || child.exitCode !== null) throw new Error(`nginx did not start (see above); config ${conf}`);
    await sleep(50);
  }
  return { name: 'nginx', pid: child.pid, port, stop: async () => { await stopChild(child); rmSync(prefix, { recursive: true, force: true }); } };
}

/** The floor for Node: tls.createServer with the same certificate, ALPN http/1.1, closing after the handshake. */
async function startNodeTls(cert) {
  const code = `import { createServer } from 'node:tls'; import { readFileSync } from 'node:fs';
    const srv = createServer({ cert: readFileSync(${JSON.stringify(cert.cert)}), key: readFileSync(${JSON.stringify(cert.key)}), ALPNProtocols: ['http/1.1'] },
      (s) => { s.on('error', () => {}); s.resume(); s.on('end', () => s.end()); });
    srv.listen(0, '127.0.0.1', () => console.log('port ' + srv.address().port));`;
  const child = spawn(...onCpu(0, process.execPath, ['--input-type=module', '-e', code]), { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve) => child.stdout.once('data', (d) => resolve(Number(/port (\d+)/.exec(String(d))[1]))));
  return { name: 'node-tls', pid: child.pid, port, stop: () => stopChild(child) };
}

// ---- check, then time -------------------------------------------------------------------------------------

function handshakeInfo(port) {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    s.once('secureConnect', () => {
      const c = s.getPeerX509Certificate();
      const info = { protocol: s.getProtocol(), fingerprint: c.fingerprint256, keyType: c.publicKey.asymmetricKeyType,
        curve: c.publicKey.asymmetricKeyDetails?.namedCurve, reused: s.isSessionReused(), cipher: s.getCipher().name };
      s.destroy();
      resolve(info);
    });
    s.once('error', reject);
  });
}

async function checkServer(srv, certFp) {
  for (let i = 0; i < 3; i++) {
    const h = await handshakeInfo(srv.port);
    const bad = h.protocol !== 'TLSv1.3' ? `protocol ${h.protocol}` : h.fingerprint !== certFp ? 'another certificate'
      : h.keyType !== 'ec' || h.curve !== 'prime256v1' ? `key ${h.keyType}/${h.curve}` : h.reused ? 'session reused' : null;
    if (bad) throw new Error(`${srv.name}: check failed: ${bad}`);
    checked[srv.name] = `${h.protocol} ${h.cipher}`;
    if (i === 0) console.log(`  ${srv.name}: ${h.protocol} ${h.cipher}, ECDSA ${h.curve}, same certificate, no resumption`);
  }
}

/** Handshakes per server CPU-second of each of `servers`, all timed over the same window. */
async function timeHandshakes(servers) {
  const clients = servers.flatMap((srv) => Array.from({ length: CLIENTS }, () => ({
    srv, child: spawn(...onCpu(1, process.execPath, [SELF, 'handshake-client', String(srv.port)]), { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  })));
  await sleep(1500); // warm up: connections flowing, JIT and session state settled
  const cpu0 = servers.map((srv) => cpuSeconds(srv.pid));
  const t0 = process.hrtime.bigint();
  for (const c of clients) c.child.send('start');
  await sleep(SECONDS * 1000);
  const results = await Promise.all(clients.map((c) => new Promise((r) => { c.child.once('message', (m) => r({ srv: c.srv, ...m })); c.child.send('stop'); })));
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = servers.map((srv, i) => cpuSeconds(srv.pid) - cpu0[i]);
  await Promise.all(clients.map((c) => (c.child.exitCode !== null ? null : new Promise((r) => c.child.once('exit', r)))));
  return servers.map((srv, i) => {
    const mine = results.filter((r) => r.srv === srv);
    const count = mine.reduce((a, r) => a + r.count, 0);
    const errors = mine.reduce((a, r) => a + r.errors, 0);
    return { srv, count, errors, wall, cpu: cpu[i], perCpuS: count / cpu[i], perS: count / wall };
  });
}

/** timegif's /metrics text over plain HTTP. */
function metricsText(port) {
  return new Promise((resolve, reject) => {
    const s = netConnect(port, '127.0.0.1', () => s.write('GET /metrics HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n'));
    let b = '';
    s.on('data', (d) => (b += d));
    s.on('end', () => resolve(b));
    s.on('error', reject);
  });
}

async function metricsOf(port) {
  const text = await metricsText(port);
  const v = (re) => Number(re.exec(text)?.[1] ?? NaN);
  return { h1tls: v(/timegif_viewers\{transport="h1_tls"\} (\d+)/), h2: v(/timegif_viewers\{transport="h2"\} (\d+)/) };
}

/** The Node floor for viewers (bare-viewers.mjs): node:tls or node:http2 streaming the same bytes, nothing on top. */
async function startBare(cert, kind, sizes) {
  const child = spawn(process.execPath, [join(ROOT, 'perf/bare-viewers.mjs'), kind === 'h1' ? 'tls' : 'h2', cert.cert, cert.key,
    String(sizes.intro), String(sizes.frame), String(sizes.piece)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise((resolve, reject) => {
    child.stdout.once('data', (d) => resolve(Number(/port (\d+)/.exec(String(d))[1])));
    child.once('exit', (c) => reject(new Error(`bare-viewers exited with ${c}`)));
  });
  return { name: 'bare', pid: child.pid, port, httpPort: null, stop: () => stopChild(child) };
}

/** What timegif sent per viewer (from its /metrics): the intro, and the mean frame after it. */
async function streamSizes(port) {
  const text = await metricsText(port);
  const v = (name) => Number(text.split('\n').find((l) => l.startsWith(`timegif_${name} `))?.split(' ')[1] ?? NaN);
  const frames = v('frames_sent_total{kind="delta"}') + v('frames_sent_total{kind="keyframe"}');
  return { intro: Math.round(v('intro_bytes_total') / v('viewers_started_total')), frame: Math.round(v('frame_bytes_total') / frames) };
}

async function viewerRss(cert, kind, server = 'timegif', sizes = null) {
  const srv = server === 'timegif' ? await startTimegif(cert, ['--max-viewers', String(VIEWERS + 1000)]) : await startBare(cert, kind, sizes);
  await sleep(1500);
  const before = rssBytes(srv.pid);
  const { clients, receiving } = await holdViewers(kind, srv.port, VIEWERS, VIEWER_PROCS);
  // Checked: every stream receiving, the server counts them all; then they idle through a few frames.
  const m = srv.httpPort === null ? null : await metricsOf(srv.httpPort);
  const counted = m === null ? VIEWERS : kind === 'h1' ? m.h1tls : m.h2; // h2 and h2x8 both count as h2 viewers
  if (receiving !== VIEWERS || counted !== VIEWERS) throw new Error(`${server} ${kind}: ${receiving} streams receiving, server counts ${counted}, want ${VIEWERS}`);
  await sleep(3000);
  const after = rssBytes(srv.pid);
  const sent = srv.httpPort === null ? null : await streamSizes(srv.httpPort);
  for (const c of clients) c.send('exit');
  await srv.stop();
  return { kind, server, before, after, perViewer: (after - before) / VIEWERS, sent };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'tls-bench-'));
  const cert = { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') };
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', cert.key,
    '-out', cert.cert, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'], { stdio: 'pipe' });
  const fp = new X509Certificate(readFileSync(cert.cert)).fingerprint256;
  const nginxVersion = spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr.replace('nginx version: ', '').trim();
  const load0 = loadavg()[0];
  console.log(`TLS handshakes: ${ROUNDS} rounds × ${SECONDS} s, ${CLIENTS} client processes × ${INFLIGHT} in flight per server, ` +
    (TOGETHER ? 'the servers side by side (all on CPU 0 at once, clients on CPU 1)' : 'one server after another'));
  const rows = { timegif: [], nginx: [], 'node-tls': [] };
  try {
    const starts = [startTimegif, startNginx, startNodeTls];
    for (let round = 0; round < ROUNDS; round++) {
      // Side by side: the three servers at once; else one after another.
      for (const group of TOGETHER ? [starts] : starts.map((s) => [s])) {
        const servers = [];
        try {
          for (const start of group) servers.push(await start(cert));
          if (round === 0) for (const srv of servers) await checkServer(srv, fp);
          for (const r of await timeHandshakes(servers)) {
            const name = r.srv.name;
            if (r.count === 0 || r.errors > r.count / 100) throw new Error(`${name}: ${r.count} handshakes, ${r.errors} failed`);
            rows[name].push(r);
            console.log(`  round ${round + 1} ${name.padEnd(8)} ${r.count} handshakes in ${r.wall.toFixed(1)} s, server CPU ${r.cpu.toFixed(2)} s: ${Math.round(r.perCpuS)} /CPU-s, ${Math.round(r.perS)} /s (${r.errors} failed)`);
          }
        } finally {
          for (const srv of servers) await srv.stop();
        }
      }
    }
    console.log(`RSS per idle TLS viewer, ${VIEWERS} viewers, ${RSS_ROUNDS} rounds of timegif then the bare Node server with the same bytes`);
    const rss = [];
    for (const kind of ['h1', 'h2', 'h2x8']) {
      let sizes = null;
      for (let round = 1; round <= RSS_ROUNDS; round++) {
        for (const server of ['timegif', 'bare']) {
          const r = await viewerRss(cert, kind, server, sizes);
          if (r.sent) sizes ??= { ...r.sent, piece: TLS_WRITE_PIECE_BYTES };
          rss.push({ ...r, round, sizes });
          console.log(`  round ${round} ${server.padEnd(7)} ${KIND_NAMES[kind]}: RSS ${(r.before / 2 ** 20).toFixed(1)} → ${(r.after / 2 ** 20).toFixed(1)} MiB: ${(r.perViewer / 1024).toFixed(1)} KiB per viewer` +
            (r.sent ? ` (intro ${r.sent.intro} B, frames ${r.sent.frame} B)` : ''));
        }
      }
    }
    if (!process.env.NO_RECORD) record(rows, rss, nginxVersion, [load0, loadavg()[0]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function record(rows, rss, nginxVersion, load) {
  const hsRatio = (other) => rows.timegif.map((r, i) => r.perCpuS / rows[other][i].perCpuS);
  const sum = (rs, k) => rs.reduce((a, r) => a + r[k], 0);
  const agg = (name) => ({ count: sum(rows[name], 'count'), cpu: sum(rows[name], 'cpu'), wall: sum(rows[name], 'wall') });
  const n = agg('nginx');
  const nRate = n.count / n.cpu;
  const row = (name) => {
    const a = agg(name);
    const rate = a.count / a.cpu;
    return `| ${name} | ${a.count} | ${a.cpu.toFixed(2)} | ${Math.round(rate)} | ${Math.round(a.count / a.wall)} | ${(rate / nRate).toFixed(2)}× |`;
  };
  const lines = [
    '',
    `## TLS: handshakes per CPU-second vs nginx, RSS per TLS viewer (${new Date().toISOString()})`,
    '',
    `Command: \`node perf/tls-bench.mjs\` (SECONDS=${SECONDS} ROUNDS=${ROUNDS} RSS_ROUNDS=${RSS_ROUNDS} CLIENTS=${CLIENTS} INFLIGHT=${INFLIGHT} VIEWERS=${VIEWERS}${TOGETHER ? '' : ' TOGETHER=0'})  `,
    `${machine()} at the end; ${nginxVersion || 'nginx'} (1 worker, TLS defaults) (the client processes run on the same cores; ` +
      `1-min load average ${load[0].toFixed(1)} at the start, ${load[1].toFixed(1)} at the end).  `,
    `Checked first: the same self-signed ECDSA P-256 certificate on each, ${Object.entries(checked).map(([k, v]) => `${k} ${v}`).join(', ')}, no session resumption. ` +
      'Each connection: full handshake, client ends, server closes. Server CPU = utime + stime of its processes from /proc. ' +
      (TOGETHER ? 'Side by side: in each round the three servers ran at the same time, all on CPU 0, each with its own clients on CPU 1, their CPU read over the same window.'
        : 'One after another (TOGETHER=0), unpinned.'),
    '',
    '| server | handshakes | server CPU s | handshakes / CPU-s | handshakes / s (wall) | vs nginx |',
    '|---|---:|---:|---:|---:|---:|',
    row('timegif'),
    row('nginx'),
    row('node-tls'),
    '',
    `Per round: ${['timegif', 'nginx', 'node-tls'].map((k) => `${k} ${rows[k].map((r) => Math.round(r.perCpuS)).join(', ')}`).join('; ')} handshakes/CPU-s.`,
    '',
    `- ${mark(median(hsRatio('node-tls')) >= 0.95)} handshakes per CPU-second: timegif = ${median(hsRatio('node-tls')).toFixed(2)}× bare node:tls ` +
      `(median of the per-round ratios ${hsRatio('node-tls').map((x) => x.toFixed(2)).join(', ')}; target ≥ 0.95×); ${median(hsRatio('nginx')).toFixed(2)}× nginx`,
    '',
    ...(RSS_ROUNDS === 0 ? ['RSS per viewer: not measured in this run (RSS_ROUNDS=0).', ''] : rssLines(rss)),
  ];
  appendFileSync(join(ROOT, 'perf/RESULTS.md'), lines.join('\n'));
  console.log('appended to perf/RESULTS.md');
}

function rssLines(rss) {
  return [
    `RSS per viewer: ${VIEWERS} idle viewers receiving frames, ${RSS_ROUNDS} rounds, each round timegif and then the bare Node server (perf/bare-viewers.mjs: ` +
      'node:tls or node:http2 with the same certificate, the same intro in the same write pieces and the same frame size each second, nothing else). ' +
      'RSS of the server process before the viewers and after they idled 3 s.',
    '',
    '| viewers | timegif KiB per viewer (rounds) | bare Node KiB per viewer (rounds) | timegif / bare (median of rounds) | target | bytes sent |',
    '|---|---:|---:|---:|---|---|',
    ...['h1', 'h2', 'h2x8'].map((kind) => {
      const t = rss.filter((r) => r.kind === kind && r.server === 'timegif').map((r) => r.perViewer / 1024);
      const b = rss.filter((r) => r.kind === kind && r.server === 'bare').map((r) => r.perViewer / 1024);
      const ratios = t.map((x, i) => x / b[i]);
      const target = { h1: 1.05, h2: 1.15, h2x8: null }[kind];
      const sz = rss.find((r) => r.kind === kind)?.sizes;
      return `| ${VIEWERS} × ${KIND_NAMES[kind]} | ${median(t).toFixed(1)} (${t.map((x) => x.toFixed(1)).join(', ')}) | ${median(b).toFixed(1)} (${b.map((x) => x.toFixed(1)).join(', ')}) | ` +
        `${median(ratios).toFixed(2)}× | ${target === null ? 'reported' : `${mark(median(ratios) <= target)} ≤ ${target}×`} | intro ${sz?.intro} B in ${sz?.piece} B pieces, ${sz?.frame} B/s |`;
    }),
    '',
  ];
}
