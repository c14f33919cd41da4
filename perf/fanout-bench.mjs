#!/usr/bin/env node
// Fan-out benchmark: the C write() floor (cwrite.c), the naive Node loop (naive-server.mjs) and timegif
// (dist/server.js serve), one after another in one run, each holding the same VIEWERS for SECONDS.
// For each server: start it, record idle RSS, CHECK (a few viewers, every sampled stream decoded by two
// decoders), then TIME (the load tool with VIEWERS), then stop it. Prints a table with ratios to the C floor
// and appends a dated section to perf/RESULTS.md.
//
//   make -C perf fanout                                   quick: VIEWERS=2000 SECONDS=10
//   make -C perf fanout VIEWERS=19000 SECONDS=30 PROCS=4  the full run
// Also: RATE (connections/s while ramping, default 2000), ONLY=cwrite,naive,timegif (add timegif-w2 and
// timegif-w2none for --workers 2, round-robin and shared socket, beside one process, and cwrite-w2 for the C
// floor's own two-process time), NO_RESULTS=1.
//
// The floors serve timegif's own bytes when timegif runs (its prologue and a delta frame taken from the check
// run), else a fixed 132×28 stream (naive-server.mjs fixedStream()).

import { spawn, execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, appendFileSync, mkdirSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { runLoad, procStats } from './load.mjs';
import { fixedStream } from './naive-server.mjs';
import { GifFrameSplitter } from './gif-frames.mjs';
import { fmt, machine, sleep } from './common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${HERE}out/`;
const env = process.env;
const VIEWERS = Number(env.VIEWERS || 2000);
const SECONDS = Number(env.SECONDS || 10);
const PROCS = Number(env.PROCS || 0);
const RATE = Number(env.RATE || 2000);
const ONLY = (env.ONLY || 'cwrite,naive,timegif').split(',');
const CHECK_VIEWERS = 20;
const CHECK_SECONDS = 3;

const SERVERS = {
  cwrite: { label: 'C write() floor', cmd: () => [`${OUT}cwrite`, `${OUT}prologue.bin`, `${OUT}frame.bin`, '127.0.0.1:0'] },
  // The C floor for two workers: two processes on the one listening socket, each writing to the viewers it accepted.
  'cwrite-w2': {
    label: 'C write() floor, 2 processes on a shared socket',
    env: { CWRITE_PROCS: '2' },
    cmd: () => [`${OUT}cwrite`, `${OUT}prologue.bin`, `${OUT}frame.bin`, '127.0.0.1:0'],
  },
  naive: { label: 'naive Node loop', cmd: () => [process.execPath, `${HERE}naive-server.mjs`, '--prologue', `${OUT}prologue.bin`, '--frame', `${OUT}frame.bin`] },
  timegif: {
    label: 'timegif',
    cmd: () => [process.execPath, `${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', '--max-viewers', String(VIEWERS + 1000)],
  },
  // --workers 2 on the same cores: connections handed out by the primary (round-robin), or accepted by the
  // workers on the shared socket (NODE_CLUSTER_SCHED_POLICY=none). CPU and RSS are summed over the process tree.
  'timegif-w2': {
    label: 'timegif --workers 2, round-robin',
    env: { NODE_CLUSTER_SCHED_POLICY: 'rr' },
    cmd: () => [process.execPath, `${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', '--workers', '2', '--max-viewers', String(VIEWERS + 1000)],
  },
  'timegif-w2none': {
    label: 'timegif --workers 2, shared socket',
    env: { NODE_CLUSTER_SCHED_POLICY: 'none' },
    cmd: () => [process.execPath, `${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', '--workers', '2', '--max-viewers', String(VIEWERS + 1000)],
  },
};
const ORDER = ['cwrite', 'cwrite-w2', 'naive', 'timegif', 'timegif-w2', 'timegif-w2none'];

// Starts a server under the hard open-files limit; resolves with its pid, port and collected stdout lines.
function startServer(name) {
  const [file, ...args] = SERVERS[name].cmd();
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', file, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: { ...process.env, ...SERVERS[name].env },
  });
  const lines = [];
  let buf = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: no "listening on" line within 10 s`)), 10000);
    child.stdout.on('data', (d) => {
      buf += d;
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        lines.push(line);
        const m = /listening on http:\/\/([^\s/]+):(\d+)/.exec(line);
        if (m) { clearTimeout(timer); resolve({ child, pid: child.pid, port: Number(m[2]), lines }); }
      }
    });
    child.stderr.on('data', (d) => { if (env.VERBOSE) process.stderr.write(`[${name}] ${d}`); });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${name} exited (code ${code})`)); });
  });
}

async function stopServer(s) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  const t = setTimeout(() => s.child.kill('SIGKILL'), 8000);
  await exited;
  clearTimeout(t);
}

function scrape(port) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => {
        const get = (name) => { const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(body); return m ? Number(m[1]) : null; };
        resolve({ sumS: get('timegif_tick_delivery_seconds_sum'), count: get('timegif_tick_delivery_seconds_count'), skipped: get('timegif_frames_skipped_total'), evicted: get('timegif_viewers_evicted_total') });
      });
    });
    req.on('error', (e) => { console.log(`timegif /metrics: ${e.message}`); resolve(null); });
    req.on('timeout', () => { console.log('timegif /metrics: timed out'); req.destroy(); });
  });
}

// Splits a recorded stream into its GIF prologue (through the first frame) and its median-sized later frame.
function splitSample(bytes) {
  const ends = [];
  const s = new GifFrameSplitter();
  let pos = 0;
  s.onFrame = () => { ends.push(pos + 1); };
  for (; pos < bytes.length; pos++) if (s.feed(bytes, pos, pos + 1) < 0) return null;
  if (ends.length < 2) return null;
  const frames = ends.slice(1).map((e, i) => bytes.subarray(ends[i], e)).sort((a, b) => a.length - b.length);
  const gifStart = bytes.indexOf('\r\n\r\n') + 4;
  return { prologue: bytes.subarray(gifStart, ends[0]), frame: frames[Math.floor((frames.length - 1) / 2)] };
}

async function check(name, srv) {
  const r = await runLoad({
    url: `http://127.0.0.1:${srv.port}/time.gif`, viewers: CHECK_VIEWERS, seconds: CHECK_SECONDS, procs: 1, src: [],
    rate: 200, slow: 0, churn: 0, serverPid: 0, sample: CHECK_VIEWERS, quiet: true, rampTimeoutS: 10, log: console.log,
  });
  const problems = [];
  if (r.connected !== CHECK_VIEWERS) problems.push(`${r.connected}/${CHECK_VIEWERS} viewers got a prologue`);
  if (r.frames.delivered === 0 || r.frames.missed > 0) problems.push(`frames ${r.frames.delivered}/${r.frames.expected}`);
  if (Object.keys(r.streamErrors).length > 0) problems.push(`stream errors ${JSON.stringify(r.streamErrors)}`);
  if (r.samples.count !== CHECK_VIEWERS || r.samples.ok !== r.samples.count) problems.push(`decoded ${r.samples.ok}/${r.samples.count} streams: ${r.samples.errors[0] ?? ''}`);
  console.log(`${name}: check ${problems.length ? 'FAILED: ' + problems.join('; ') : `ok (${CHECK_VIEWERS} viewers, ${r.samples.frames} frames decoded by omggif and gifuct-js)`}`);
  return { ok: problems.length === 0, problems, result: r };
}

async function bench(name) {
  const srv = await startServer(name);
  try {
    await sleep(1500);
    const c = await check(name, srv);
    if (!c.ok) return { name, check: c };
    await sleep(1500);
    const idle = procStats(srv.pid);
    const linesBefore = srv.lines.length;
    // timegif's own tick-delivery histogram, scraped at every half second so the window's part can be cut out.
    const scraped = new Map();
    let scraper = null;
    if (name.startsWith('timegif')) {
      const next = () => { scraper = setTimeout(async () => { const sec = Math.floor(Date.now() / 1000); const m = await scrape(srv.port); if (m) scraped.set(sec, m); next(); }, 1500 - (Date.now() % 1000)); };
      next();
    }
    console.log(`${name}: ${VIEWERS} viewers for ${SECONDS} s (idle RSS ${idle.rssKB} KB)`);
    const r = await runLoad({
      url: `http://127.0.0.1:${srv.port}/time.gif`, viewers: VIEWERS, seconds: SECONDS, procs: PROCS, src: [], rate: RATE,
      slow: 0, churn: 0, serverPid: srv.pid, sample: 1, quiet: !env.VERBOSE, rampTimeoutS: 0, log: console.log,
    });
    clearTimeout(scraper);
    const m0 = scraped.get(r.window[0] - 1) ?? null;
    const m1 = scraped.get(r.window[1]) ?? null;
    // The floors' own per-tick lines for the window's boundaries. Several processes (cwrite-w2) print a line each per
    // second: a second's writes are done when the later one is, its CPU and sockets are the sums.
    const lines = srv.lines.slice(linesBefore).map((l) => /^tick (\d+) sockets (\d+) loop_us (\d+) us_per_write (\S+) cpu_us (\d+) lag_us (\d+)/.exec(l))
      .filter((m) => m && Number(m[1]) >= r.window[0] && Number(m[1]) <= r.window[1])
      .map((m) => ({ sec: Number(m[1]), sockets: Number(m[2]), loopUs: Number(m[3]), usPerWrite: Number(m[4]), cpuUs: Number(m[5]), lagUs: Number(m[6]) }));
    const ticks = [];
    for (const t of lines) {
      const s = ticks.find((x) => x.sec === t.sec);
      if (s === undefined) ticks.push({ ...t, doneUs: t.lagUs + t.loopUs });
      else {
        s.doneUs = Math.max(s.doneUs, t.lagUs + t.loopUs);
        s.loopUs = Math.max(s.loopUs, t.loopUs);
        s.cpuUs += t.cpuUs;
        s.usPerWrite = (s.usPerWrite * s.sockets + t.usPerWrite * t.sockets) / (s.sockets + t.sockets || 1); // weighted by sockets
        s.sockets += t.sockets;
      }
    }
    const mean = (k) => (ticks.length ? ticks.reduce((a, t) => a + t[k], 0) / ticks.length : null);
    const self = ticks.length
      ? { doneMs: mean('doneUs') / 1000, loopMs: mean('loopUs') / 1000, usPerWrite: mean('usPerWrite'), cpuUsPerWrite: mean('cpuUs') / mean('sockets') }
      : m0 && m1 && m1.count > m0.count ? { doneMs: (1000 * (m1.sumS - m0.sumS)) / (m1.count - m0.count), skipped: m1.skipped - m0.skipped, evicted: m1.evicted - m0.evicted } : null;
    writeFileSync(`${OUT}fanout-${name}.json`, JSON.stringify({ ...r, ticks, metrics: [m0, m1] }, null, 1));
    const rssPerViewerKB = r.server.rssKB !== null && r.connected > 0 ? (r.server.rssKB - idle.rssKB) / r.connected : null;
    return { name, check: c, r, idleRssKB: idle.rssKB, rssPerViewerKB, self };
  } finally {
    await stopServer(srv);
  }
}

function table(rows) {
  const c = rows.find((x) => x.name === 'cwrite' && x.r);
  const ratio = (x, k) => (c && x.r && k(c) && k(x) !== null ? `${(k(x) / k(c)).toFixed(2)}×` : '');
  // [label, value, digits]: digits null = not a number, negative = no ratio to C (meaningless there).
  const metrics = [
    ['viewers connected', (x) => x.r.connected, 0],
    ['frames delivered / expected', (x) => `${x.r.frames.delivered}/${x.r.frames.expected}`, null],
    ['frames missed (seconds without a frame)', (x) => x.r.frames.missed, 0],
    ['duplicates (a late frame, then a timely one)', (x) => x.r.frames.duplicates, 0],
    ['keyframes after the first', (x) => x.r.frames.keyframes, 0],
    ['delay p50 (ms after boundary)', (x) => x.r.delayMs.p50, 1],
    ['delay p99 (ms)', (x) => x.r.delayMs.p99, 1],
    ['delay max (ms)', (x) => x.r.delayMs.max, 1],
    ['last viewer, mean per second (ms)', (x) => x.r.delayMs.last, 1],
    ['server: last write done (ms, self-reported)', (x) => x.self?.doneMs ?? null, 1],
    ['server CPU per viewer-frame (µs, schedstat)', (x) => x.r.server.cpuUsPerViewerFrame, 2],
    ['server CPU per viewer-frame (µs, utime+stime)', (x) => x.r.server.statUsPerViewerFrame, 2],
    ['server CPU (% of one core)', (x) => x.r.server.cpuPct, 1],
    ['RSS per viewer (KB, user space only)', (x) => x.rssPerViewerKB, -2],
    ['server CPU during the ramp (s)', (x) => x.r.server.rampCpuS, 2],
    ['RSS idle / loaded (MB)', (x) => `${fmt(x.idleRssKB / 1024)} / ${fmt(x.r.server.rssKB / 1024)}`, null],
    ['TTFF fresh idle server p50 / max (ms; check run, 20 viewers)', (x) => `${fmt(x.check.result.ttffMs.p50, 2)} / ${fmt(x.check.result.ttffMs.max, 2)}`, null],
    ['TTFF during the ramp p50 (ms)', (x) => x.r.ttffMs.p50, 2],
    ['TTFF during the ramp p99 (ms)', (x) => x.r.ttffMs.p99, 2],
    ['bytes per viewer-second', (x) => x.r.bytesPerViewerSecond, 1],
    ['client CPU in window (s)', (x) => x.r.clientCpuS, 2],
  ];
  const cols = rows.map((x) => x.name);
  const head = ['metric', ...cols, ...cols.filter((n) => n !== 'cwrite' && c).map((n) => `${n}/C`)];
  const out = [head, head.map(() => '---')];
  for (const [label, get, digits] of metrics) {
    const line = [label];
    for (const x of rows) {
      if (!x.r) { line.push(x.check.ok ? '-' : 'check failed'); continue; }
      const v = get(x);
      line.push(typeof v === 'number' && digits !== null ? fmt(v, Math.abs(digits)) : String(v ?? '-'));
    }
    for (const x of rows) if (x.name !== 'cwrite' && c) line.push(x.r && digits !== null && digits > 0 ? ratio(x, get) : '');
    out.push(line);
  }
  return out.map((l) => `| ${l.join(' | ')} |`).join('\n');
}

function targets(rows) {
  const c = rows.find((x) => x.name === 'cwrite')?.r ? rows.find((x) => x.name === 'cwrite') : null;
  const t = rows.find((x) => x.name === 'timegif');
  if (!t || !t.r) return t ? [`timegif check failed: ${t.check.problems.join('; ')}`] : [];
  const r = t.r;
  const L = [];
  const mark = (ok) => (ok ? 'PASS' : 'FAIL');
  const all = r.connected === VIEWERS && r.frames.missed === 0 && r.frames.expected > 0 && r.viewersWithMissed === 0 && r.closed.server === 0;
  L.push(`${mark(all)} every viewer every frame: ${r.connected}/${VIEWERS} viewers, ${r.frames.delivered}/${r.frames.expected} frames, ${r.viewersWithMissed} viewers with a miss, ${r.closed.server} closed by the server`);
  if (c) {
    const cpu = r.server.cpuUsPerViewerFrame / c.r.server.cpuUsPerViewerFrame;
    L.push(`${mark(cpu <= 1.2)} CPU per viewer-frame ${fmt(r.server.cpuUsPerViewerFrame, 2)} µs = ${fmt(cpu, 2)}× C (target ≤ 1.2×)`);
    const last = r.delayMs.last / c.r.delayMs.last;
    L.push(`${mark(last <= 1.2)} last viewer's frame ${fmt(r.delayMs.last)} ms after the boundary = ${fmt(last, 2)}× C's ${fmt(c.r.delayMs.last)} ms, both seen by the clients (target ≤ 1.2×)`);
  }
  L.push(`${mark(t.rssPerViewerKB !== null && t.rssPerViewerKB <= 5)} RSS per viewer ${fmt(t.rssPerViewerKB, 2)} KB (target ≤ 5 KB)`);
  const c2 = c ? rows.find((x) => x.name === 'cwrite-w2' && x.r) : null;
  if (c2) {
    L.push(`- the C floor itself with two processes: last viewer's frame ${fmt(c2.r.delayMs.last)} ms = ${fmt(c2.r.delayMs.last / c.r.delayMs.last, 2)}× one C process's ${fmt(c.r.delayMs.last)} ms, ` +
      `${c2.r.frames.delivered}/${c2.r.frames.expected} frames (what two processes gain on these two cores, clients included)`);
  }
  for (const w of rows.filter((x) => x.name.startsWith('timegif-w') && x.r)) {
    const last = w.r.delayMs.last / r.delayMs.last;
    const every = w.r.connected === VIEWERS && w.r.frames.missed === 0 && w.r.frames.expected > 0;
    L.push(`${mark(last <= 0.6 && every)} ${SERVERS[w.name].label}: ${w.r.frames.delivered}/${w.r.frames.expected} frames, last viewer's frame ${fmt(w.r.delayMs.last)} ms after the boundary = ` +
      `${fmt(last, 2)}× one process's ${fmt(r.delayMs.last)} ms (target ≤ 0.6×); CPU per viewer-frame ${fmt(w.r.server.cpuUsPerViewerFrame, 2)} µs (one process ${fmt(r.server.cpuUsPerViewerFrame, 2)}), RSS per viewer ${fmt(w.rssPerViewerKB, 2)} KB`);
  }
  const idle = t.check.result.ttffMs;
  L.push(`${mark(idle.p50 !== null && idle.p50 <= 5)} TTFF on the fresh, idle server: p50 ${fmt(idle.p50, 2)} ms, max ${fmt(idle.max, 2)} ms (the first request after start included; target ≤ 5 ms)`);
  L.push(`${mark(r.ttffMs.p50 !== null && r.ttffMs.p50 <= 5)} TTFF while ramping to ${VIEWERS} at ${RATE}/s: p50 ${fmt(r.ttffMs.p50, 2)} ms, p99 ${fmt(r.ttffMs.p99, 2)} ms ` +
    `(target ≤ 5 ms; C floor p50 ${fmt(c?.r.ttffMs.p50, 2)}, p99 ${fmt(c?.r.ttffMs.p99, 2)} ms: connections arriving during a tick wait for it)`);
  return L;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(`${OUT}cwrite`)) execFileSync('make', ['-C', HERE, 'out/cwrite'], { stdio: 'inherit' });
  const haveTimegif = existsSync(`${ROOT}dist/server.js`);
  const names = ONLY.filter((n) => SERVERS[n] && (!n.startsWith('timegif') || haveTimegif));
  if (ONLY.includes('timegif') && !haveTimegif) console.log('timegif: dist/server.js not built (npx tsc -p .); skipped');

  // Bytes for the floors: timegif's own when it is there, else the fixed stream.
  let bytesFrom = 'fixed 132×28 stream (naive-server.mjs fixedStream())';
  let fixture = fixedStream();
  const rows = [];
  if (names.includes('timegif')) {
    const t = await bench('timegif');
    rows.push(t);
    const recorded = t.check.result.sampleBytes;
    const sample = recorded.length > 0 ? splitSample(recorded[0]) : null;
    if (sample) { fixture = sample; bytesFrom = 'timegif\'s own prologue and a delta frame from the check run'; }
  }
  writeFileSync(`${OUT}prologue.bin`, fixture.prologue);
  writeFileSync(`${OUT}frame.bin`, fixture.frame);
  console.log(`floors serve ${bytesFrom}: prologue ${fixture.prologue.length} B, frame ${fixture.frame.length} B`);
  for (const n of ['cwrite', 'cwrite-w2', 'naive', 'timegif-w2', 'timegif-w2none']) if (names.includes(n)) rows.push(await bench(n));
  rows.sort((a, b) => ORDER.indexOf(a.name) - ORDER.indexOf(b.name));

  const tbl = table(rows);
  const tg = targets(rows);
  console.log(`\n${tbl}\n\n${tg.join('\n')}`);
  const section = [
    `\n## Fan-out: ${VIEWERS} viewers × ${SECONDS} s (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Command: \`make -C perf fanout VIEWERS=${VIEWERS} SECONDS=${SECONDS} PROCS=${PROCS}${RATE !== 2000 ? ` RATE=${RATE}` : ''}\`; ` +
      `${machine()} (at the end). Floors served ${bytesFrom}.`,
    `Client processes: ${rows.find((x) => x.r)?.r.procs ?? '-'}, sharing the 2 cores with the server under test; server CPU is taken over the window from /proc: on-CPU ns summed over /proc/PID/task/*/schedstat and utime+stime from /proc/PID/stat (10 ms ticks).`,
    '',
    tbl,
    '',
    ...tg.map((l) => `- ${l}`),
    '',
  ].join('\n');
  if (!env.NO_RESULTS) { appendFileSync(`${HERE}RESULTS.md`, section); console.log('\nappended to perf/RESULTS.md'); }
}

main().catch((e) => { console.error(e); process.exit(1); });
