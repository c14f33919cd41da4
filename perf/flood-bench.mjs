#!/usr/bin/env node
// Junk-flood benchmark: timegif vs nginx (one worker each) answering misrouted BitTorrent announces with a
// bogus Host, blocked peers dropped at accept, and viewers under flood. In one run:
//   1. junk per CPU-second of the server process, keep-alive and close-per-request (perf/flood.c as the client);
//      each server is first CHECKED (every response the expected status: nginx 404, timegif 421), then TIMED;
//   2. timegif with --blocklist covering the flood's source range: connections dropped per CPU-second, no byte sent;
//   3. VIEWERS viewers (perf/load.mjs) while a flood runs against the same timegif: every frame, delay, RSS;
//      the same viewers without a flood first, as the baseline on this machine.
//
//   make -C perf flood                                       quick: SECONDS=5 CONNS=100 VIEWERS=2000
//   make -C perf flood SECONDS=20 CONNS=200 VIEWERS=10000    the full run
// ONLY=workers (not in the default set): the junk rounds for one process, --workers 2 round-robin and shared socket.
// Also: ROUNDS (junk rounds, default 3; medians reported), PIN=0 (no CPU pinning), TOGETHER=0 (time the servers one after another), WARMUP (seconds of flood before the window, default 2), ONLY=junk,blocked,viewers, VIEWER_FLOODS
// (flood modes during phase 3, default keepalive,close), RATE (viewer connects/s, 2000), NO_RESULTS=1.

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, writeFileSync, appendFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { runLoad, procStats } from './load.mjs';
import { fmt, freePort, machine, median, sleep } from './common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${HERE}out/`;
const FLOOD = `${OUT}flood`;
const env = process.env;
const SECONDS = Number(env.SECONDS || 5);
const CONNS = Number(env.CONNS || 100);
const VIEWERS = Number(env.VIEWERS || 2000);
const WARMUP = Number(env.WARMUP || 2);
const RATE = Number(env.RATE || 2000);
const ONLY = (env.ONLY || 'junk,blocked,viewers').split(',');
const VIEWER_FLOODS = (env.VIEWER_FLOODS || 'keepalive,close').split(',');
const FLOOD_SRC = '127.2.0.0/16'; // the viewers come from load.mjs's default 127.1.0.0/20
const kfmt = (x) => (x === null || !Number.isFinite(x) ? '-' : `${(x / 1000).toFixed(1)}k`);


// Junk rounds: each round times every server in turn, so a change in the machine's speed (shared cores) hits all
// of them; the report takes medians. With PIN (default on where taskset exists) the server runs on CPU 0 and the
// flood client on CPU 1: the two no longer trade cores, which was most of the run-to-run spread.
const JUNK_ROUNDS = Number(env.ROUNDS || 3);
const PIN = env.PIN !== '0' && spawnSync('taskset', ['-c', '0', 'true']).status === 0;
// With PIN, the three servers are also timed side by side (TOGETHER=0: one after another): in each round all three
// floods run at once, the servers sharing CPU 0 and the flood clients CPU 1. Timed one after another, the rounds of
// one server still moved by tens of percent (the machine's speed changes between windows); at once, two copies of
// the node:net floor measured within 1% of each other in every round (by hand, 4 rounds).
const TOGETHER = PIN && env.TOGETHER !== '0';

// A child under the hard open-files limit (on `cpu` when pinning); `ready` resolves with its stdout lines so far
// once `match` is seen.
function launch(name, file, args, match, cpu = null, extraEnv = {}) {
  const pin = PIN && cpu !== null ? `taskset -c ${cpu} ` : '';
  const child = spawn('sh', ['-c', `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec ${pin}"$0" "$@"`, file, ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT, env: { ...process.env, ...extraEnv } });
  const lines = [];
  let buf = '';
  let onLine = null;
  child.stdout.on('data', (d) => {
    buf += d;
    let nl;
    while ((nl = buf.indexOf('\n')) >= 0) { const l = buf.slice(0, nl); buf = buf.slice(nl + 1); lines.push(l); onLine?.(l); }
  });
  let err = '';
  child.stderr.on('data', (d) => { err += d; if (env.VERBOSE) process.stderr.write(`[${name}] ${d}`); });
  const exited = new Promise((r) => child.once('exit', (code) => r(code)));
  const ready = match === null ? Promise.resolve() : new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name}: not ready within 10 s`)), 10000);
    onLine = (l) => { const m = match.exec(l); if (m) { clearTimeout(timer); onLine = null; resolve(m); } };
    exited.then((code) => { clearTimeout(timer); reject(new Error(`${name} exited (${code}): ${err.slice(-300)}`)); });
  });
  return { child, lines, ready, exited, stderr: () => err, setOnLine: (f) => { onLine = f; } };
}

async function stop(p) {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const t = setTimeout(() => p.child.kill('SIGKILL'), 8000);
  await p.exited;
  clearTimeout(t);
}

async function startTimegif(extra, cpu = null, name = 'timegif', extraEnv = {}) {
  const p = launch(name, process.execPath, [`${ROOT}dist/server.js`, 'serve', '--listen', '127.0.0.1:0', ...extra], /listening on http:\/\/[^\s:]+:(\d+)/, cpu, extraEnv);
  const m = await p.ready;
  if (extra.includes('--workers')) await sleep(1500); // the primary prints its address before every worker is up
  return { ...p, name, pid: p.child.pid, port: Number(m[1]) };
}

// The Node floor (node-floor-junk.mjs): node:net with nothing on top, to tell Node's cost from timegif's.
async function startNodeFloor(cpu = null) {
  const p = launch('node-floor', process.execPath, [`${HERE}node-floor-junk.mjs`], /listening on http:\/\/[^\s:]+:(\d+)/, cpu);
  const m = await p.ready;
  return { ...p, name: 'node-floor', pid: p.child.pid, port: Number(m[1]) };
}

// nginx: master + one worker from perf/nginx/flood.conf.in in a temp prefix; CPU is the worker's.
async function startNginx(cpu = null) {
  const prefix = mkdtempSync(`${tmpdir()}/timegif-nginx-`);
  mkdirSync(`${prefix}/tmp`);
  const port = await freePort();
  const conf = readFileSync(`${HERE}nginx/flood.conf.in`, 'utf8').replaceAll('@PREFIX@', prefix).replaceAll('@LISTEN@', `127.0.0.1:${port}`);
  writeFileSync(`${prefix}/nginx.conf`, conf);
  const p = launch('nginx', 'nginx', ['-p', prefix, '-c', `${prefix}/nginx.conf`], null, cpu);
  const master = p.child.pid;
  for (let i = 0; i < 100; i++) {
    await sleep(50);
    let kids = '';
    try { kids = readFileSync(`/proc/${master}/task/${master}/children`, 'utf8').trim(); } catch { /* not yet */ }
    const ok = await new Promise((r) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); r(true); }); s.on('error', () => r(false)); });
    if (kids && ok) return { ...p, name: 'nginx', pid: Number(kids.split(/\s+/)[0]), port, prefix };
  }
  throw new Error(`nginx did not start: ${p.stderr()}${existsSync(`${prefix}/error.log`) ? readFileSync(`${prefix}/error.log`, 'utf8') : ''}`);
}

const SEC_LINE = /^sec (\d+) responses (\d+) connects (\d+) dropped (\d+) partial (\d+) errors (\d+) bytes_in (\d+) open (\d+)/;
const parseSec = (m) => ({ sec: Number(m[1]), responses: Number(m[2]), connects: Number(m[3]), dropped: Number(m[4]), partial: Number(m[5]), errors: Number(m[6]), bytesIn: Number(m[7]), open: Number(m[8]) });

// Runs perf/flood against `port`; at each of its second lines the server `pid` is sampled from /proc.
// `hold` gets the live tick list and a stop() for floods ended early.
async function flood(port, mode, conns, seconds, pid, hold = {}, cpu = null) {
  const p = launch('flood', FLOOD, ['--mode', mode, '--conns', String(conns), '--seconds', String(seconds), '--src', FLOOD_SRC, `127.0.0.1:${port}`], null, cpu);
  const ticks = [];
  hold.ticks = ticks;
  hold.stop = () => stop(p);
  p.setOnLine((l) => { const m = SEC_LINE.exec(l); if (m) ticks.push({ ...parseSec(m), server: pid ? procStats(pid) : null }); });
  const code = await p.exited;
  if (code !== 0) throw new Error(`flood exited ${code}: ${p.stderr()}`);
  const status = {};
  for (const l of p.lines) { const m = /^status (\d+) (\d+)$/.exec(l); if (m) status[m[1]] = Number(m[2]); }
  return { ticks, status, last: ticks.at(-1) };
}

// Differences over ticks [from, to]: the window after the warm-up (to its last tick, when a flood on a busy CPU
// printed its final second late and not at all).
function windowOf(ticks, from, to) {
  const a = ticks[from], b = ticks[Math.min(to, ticks.length - 1)];
  const d = (k) => b[k] - a[k];
  const s = (a.server && b.server) ? { runS: b.server.runS - a.server.runS, cpuS: b.server.cpuS - a.server.cpuS } : null;
  const rss = ticks.slice(from, to + 1).map((t) => t.server?.rssKB ?? 0);
  return {
    seconds: b.sec - a.sec, responses: d('responses'), connects: d('connects'), dropped: d('dropped'), partial: d('partial'),
    errors: d('errors'), bytesIn: d('bytesIn'), runS: s?.runS ?? null, cpuS: s?.cpuS ?? null, rssKB: b.server?.rssKB ?? null, rssMaxKB: Math.max(...rss),
  };
}

function scrapeMetrics(port, host) {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/metrics', headers: { host }, timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve(body));
    });
    req.on('error', () => resolve(''));
    req.on('timeout', () => req.destroy());
  });
}
const metricOf = (text, name) => { const m = new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} (\\S+)$`, 'm').exec(text); return m ? Number(m[1]) : 0; };

// Check: a short flood whose every response must carry `expect`, with nothing dropped, partial or malformed.
async function check(srv, mode, expect) {
  const r = await flood(srv.port, mode, 4, 1, 0);
  const problems = [];
  const codes = Object.keys(r.status);
  if (codes.length !== 1 || codes[0] !== String(expect) || r.last.responses === 0) problems.push(`statuses ${JSON.stringify(r.status)}, want only ${expect}`);
  if (r.last.dropped || r.last.partial || r.last.errors) problems.push(`dropped ${r.last.dropped} partial ${r.last.partial} errors ${r.last.errors}`);
  console.log(`${srv.name} ${mode}: check ${problems.length ? 'FAILED: ' + problems.join('; ') : `ok (${r.last.responses} responses, all ${expect})`}`);
  return problems;
}

async function timeJunk(srv, mode, expect, round) {
  const r = await flood(srv.port, mode, CONNS, WARMUP + SECONDS, srv.pid, {}, 1);
  const w = windowOf(r.ticks, WARMUP, WARMUP + SECONDS);
  const wrong = Object.entries(r.status).filter(([c]) => c !== String(expect));
  const row = { server: srv.name, mode, round, ...w, status: r.status, wrong: wrong.length > 0 || w.dropped + w.partial + w.errors > 0 };
  row.perCpuS = w.runS ? w.responses / w.runS : null;
  row.perStatS = w.cpuS ? w.responses / w.cpuS : null;
  row.rate = w.responses / w.seconds;
  row.cpuPct = w.runS !== null ? (100 * w.runS) / w.seconds : null;
  console.log(`round ${round} ${srv.name} ${mode}: ${kfmt(row.rate)} req/s, ${kfmt(row.perCpuS)} req per CPU-second (utime+stime ${kfmt(row.perStatS)}), ` +
    `CPU ${fmt(row.cpuPct)}%, RSS ${fmt(w.rssKB / 1024)} MB (max ${fmt(w.rssMaxKB / 1024)}), statuses ${JSON.stringify(r.status)}` +
    `${row.wrong ? ` UNEXPECTED: dropped ${w.dropped} partial ${w.partial} errors ${w.errors}` : ''}`);
  return row;
}

async function phaseJunk(results) {
  const ng = await startNginx(0);
  const tg = await startTimegif(['--hosts', 'time.example'], 0);
  const nf = await startNodeFloor(0);
  try {
    await sleep(500);
    const problems = [];
    for (const mode of ['keepalive', 'close']) {
      problems.push(...await check(ng, mode, 404));
      problems.push(...await check(tg, mode, 421));
      problems.push(...await check(nf, mode, 404));
    }
    if (problems.length) { results.checkFailed = problems; return; }
    const before = await scrapeMetrics(tg.port, 'time.example');
    let tgResponses = 0;
    for (const mode of ['keepalive', 'close']) {
      for (let round = 1; round <= JUNK_ROUNDS; round++) {
        const trio = [[ng, 404], [tg, 421], [nf, 404]];
        // Side by side: the three floods at once, so each server is timed over the same seconds of the machine.
        const rows = TOGETHER ? await Promise.all(trio.map(([srv, expect]) => timeJunk(srv, mode, expect, round))) : [];
        if (!TOGETHER) for (const [srv, expect] of trio) { rows.push(await timeJunk(srv, mode, expect, round)); await sleep(1000); }
        for (const row of rows) {
          results.junk.push(row);
          if (row.server === tg.name) tgResponses += row.responses;
        }
        if (TOGETHER) await sleep(1000);
      }
    }
    const after = await scrapeMetrics(tg.port, 'time.example');
    const key = 'timegif_rejects_total{reason="unknown-host"}';
    results.tgUnknownHost = metricOf(after, key) - metricOf(before, key);
    results.tgLines = tg.lines.length;
  } finally {
    await stop(nf);
    await stop(tg);
    await stop(ng);
    rmSync(ng.prefix, { recursive: true, force: true });
  }
}

// --workers 2 beside one process on junk: connections handed out by the primary (round-robin) or accepted by the
// workers on the shared socket (NODE_CLUSTER_SCHED_POLICY=none). No server is pinned (the workers need both
// cores); the flood client stays on CPU 1. CPU is summed over the primary and its workers.
async function phaseWorkers(results) {
  const args = ['--hosts', 'time.example'];
  const servers = [
    await startTimegif(args, null, 'timegif'),
    await startTimegif([...args, '--workers', '2'], null, 'timegif-w2', { NODE_CLUSTER_SCHED_POLICY: 'rr' }),
    await startTimegif([...args, '--workers', '2'], null, 'timegif-w2none', { NODE_CLUSTER_SCHED_POLICY: 'none' }),
  ];
  try {
    await sleep(500);
    const problems = [];
    for (const mode of ['keepalive', 'close']) for (const srv of servers) problems.push(...await check(srv, mode, 421));
    if (problems.length) { results.checkFailed = problems; return; }
    for (const mode of ['keepalive', 'close']) {
      for (let round = 1; round <= JUNK_ROUNDS; round++) {
        for (const srv of servers) {
          results.workers.push(await timeJunk(srv, mode, 421, round));
          await sleep(1000);
        }
      }
    }
  } finally {
    for (const srv of servers) await stop(srv);
  }
}

async function phaseBlocked(results) {
  const list = `${OUT}flood-blocklist.txt`;
  writeFileSync(list, `# the flood's source range (perf/flood-bench.mjs)\n${FLOOD_SRC}\n`);
  const tg = await startTimegif(['--hosts', 'time.example', '--blocklist', list]);
  try {
    await sleep(500);
    const before = await scrapeMetrics(tg.port, 'time.example');
    const r = await flood(tg.port, 'close', CONNS, WARMUP + SECONDS, tg.pid);
    const after = await scrapeMetrics(tg.port, 'time.example');
    const w = windowOf(r.ticks, WARMUP, WARMUP + SECONDS);
    const key = 'timegif_rejects_total{reason="blocked"}';
    const b = {
      ...w, totalBytesIn: r.last.bytesIn, totalResponses: r.last.responses, totalDropped: r.last.dropped,
      blockedMetric: metricOf(after, key) - metricOf(before, key), perCpuS: w.runS ? w.dropped / w.runS : null, rate: w.dropped / w.seconds,
      cpuPct: w.runS !== null ? (100 * w.runS) / w.seconds : null,
    };
    results.blocked = b;
    console.log(`timegif blocked: ${kfmt(b.rate)} connections/s dropped, ${kfmt(b.perCpuS)} per CPU-second, CPU ${fmt(b.cpuPct)}%, ` +
      `bytes received by the flood ${b.totalBytesIn}, responses ${b.totalResponses}, server counted blocked ${b.blockedMetric} (flood saw ${b.totalDropped} dropped), RSS ${fmt(w.rssKB / 1024)} MB`);
  } finally {
    await stop(tg);
  }
}

// VIEWERS viewers with (mode) or without (null) a flood from CONNS connections on the same server.
async function viewersRun(mode) {
  const tg = await startTimegif(['--hosts', 'time.example,127.0.0.1', '--max-viewers', String(VIEWERS + 1000)]);
  let fl = null;
  const hold = {};
  try {
    await sleep(1000);
    const idle = procStats(tg.pid);
    if (mode) {
      // Long enough for the ramp, the two settling seconds and the window; stopped when the viewers are done.
      fl = flood(tg.port, mode, CONNS, Math.ceil(VIEWERS / RATE) * 3 + SECONDS + 40, 0, hold);
      fl.catch(() => {});
      await sleep(2000);
    }
    const rssSeen = [];
    const sampler = setInterval(() => { const s = procStats(tg.pid); if (s) rssSeen.push(s.rssKB); }, 500);
    const r = await runLoad({
      url: `http://127.0.0.1:${tg.port}/time.gif`, viewers: VIEWERS, seconds: SECONDS, procs: 0, src: [], rate: RATE,
      slow: 0, churn: 0, serverPid: tg.pid, sample: 1, quiet: !env.VERBOSE, rampTimeoutS: 0, log: console.log,
    });
    clearInterval(sampler);
    const m = await scrapeMetrics(tg.port, '127.0.0.1');
    // The flood's own count over the viewers' window (its lines at the boundaries around it).
    const t0 = hold.ticks?.find((t) => t.sec === r.window[0] - 1);
    const t1 = hold.ticks?.find((t) => t.sec === r.window[1]);
    const floodRate = t0 && t1 ? (t1.responses - t0.responses) / (t1.sec - t0.sec) : null;
    return { mode, r, idleRssKB: idle?.rssKB ?? null, rssMaxKB: Math.max(...rssSeen), metrics: m, floodRate };
  } finally {
    if (fl) await hold.stop();
    await stop(tg);
  }
}

async function phaseViewers(results) {
  for (const mode of [null, ...VIEWER_FLOODS]) {
    console.log(`viewers: ${VIEWERS} for ${SECONDS} s ${mode ? `under a ${mode} flood from ${CONNS} connections` : 'without a flood (baseline)'}`);
    const v = await viewersRun(mode);
    const r = v.r;
    const junk = metricOf(v.metrics, 'timegif_rejects_total{reason="unknown-host"}');
    const row = {
      mode, connected: r.connected, delivered: r.frames.delivered, expected: r.frames.expected, missed: r.frames.missed,
      withMissed: r.viewersWithMissed, closedByServer: r.closed.server, p50: r.delayMs.p50, p99: r.delayMs.p99, max: r.delayMs.max, last: r.delayMs.last,
      cpuPct: r.server.cpuPct, idleRssKB: v.idleRssKB, rssKB: r.server.rssKB, rssMaxKB: v.rssMaxKB, junkTotal: junk,
      skipped: metricOf(v.metrics, 'timegif_frames_skipped_total'), evicted: metricOf(v.metrics, 'timegif_viewers_evicted_total'),
      loopP99: metricOf(v.metrics, 'timegif_event_loop_delay_p99_seconds'), clientCpuS: r.clientCpuS, procs: r.procs, floodRate: v.floodRate,
    };
    results.viewers.push(row);
    console.log(`  frames ${row.delivered}/${row.expected} (missed ${row.missed}), delay p50 ${fmt(row.p50)} p99 ${fmt(row.p99)} max ${fmt(row.max)} ms, ` +
      `junk ${fmt(row.floodRate, 0)}/s, server CPU ${fmt(row.cpuPct)}%, RSS idle/end/max ${fmt(row.idleRssKB / 1024)}/${fmt(row.rssKB / 1024)}/${fmt(row.rssMaxKB / 1024)} MB, junk answered ${row.junkTotal}`);
    await sleep(1000);
  }
}

/** Junk rows by round: the rounds run, and one server's responses per CPU-second in each (null where it did not run). */
function byRound(rows) {
  const rounds = [...new Set(rows.map((x) => x.round))];
  const per = (server, mode) => rounds.map((r) => rows.find((x) => x.server === server && x.mode === mode && x.round === r)?.perCpuS ?? null);
  return { rounds, per };
}

/** a[i] / b[i] for the rounds where both ran: ratios measured side by side. */
const ratios = (a, b) => a.map((x, i) => (x !== null && b[i] ? x / b[i] : null)).filter((x) => x !== null);

function report(results) {
  const L = [];
  const mark = (ok) => (ok ? 'PASS' : 'FAIL');
  if (results.checkFailed) return [`check failed: ${results.checkFailed.join('; ')}`];
  if (results.junk.length) {
    L.push('| junk (SECONDS window), round | server | req/s | req per CPU-s (schedstat) | req per CPU-s (utime+stime) | server CPU % | RSS end / max (MB) | bytes per response | statuses |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const x of results.junk)
      L.push(`| ${x.mode} ${x.round} | ${x.server} | ${fmt(x.rate, 0)} | ${fmt(x.perCpuS, 0)} | ${fmt(x.perStatS, 0)} | ${fmt(x.cpuPct)} | ${fmt(x.rssKB / 1024)} / ${fmt(x.rssMaxKB / 1024)} | ${fmt(x.bytesIn / x.responses, 0)} | ${Object.entries(x.status).map(([c, n]) => `${c}×${n}`).join(' ')}${x.wrong ? ' (UNEXPECTED)' : ''} |`);
    L.push('');
    // Ratios per round (the servers of a round ran back to back), then the median over rounds.
    const { rounds, per } = byRound(results.junk);
    const list = (xs) => xs.map((x) => fmt(x, 2)).join(', ');
    L.push(`Medians over ${rounds.length} rounds (per-round ratios in brackets)${PIN ? '; servers on CPU 0, flood clients on CPU 1 (taskset)' : ''}${TOGETHER ? ', the three servers timed side by side (all three floods at once)' : ', the servers timed one after another'}:`, '');
    for (const [mode, target] of [['keepalive', 0.9], ['close', 0.9]]) {
      const n = per('nginx', mode), t = per('timegif', mode), f = per('node-floor', mode);
      if (!t.some((x) => x !== null)) continue;
      const wrong = results.junk.some((x) => x.server === 'timegif' && x.mode === mode && x.wrong);
      const tf = ratios(t, f), tn = ratios(t, n), fn = ratios(f, n);
      L.push(`- ${mark(median(tf) >= target && !wrong)} ${mode}: timegif ${fmt(median(t), 0)}, the Node floor (node:net, no parsing, canned 404) ${fmt(median(f), 0)}, ` +
        `nginx ${fmt(median(n), 0)} junk responses per CPU-second; timegif = ${fmt(median(tf), 2)}× the floor [${list(tf)}] (target ≥ ${target}×)`);
      L.push(`  - against nginx: timegif ${fmt(median(tn), 2)}× [${list(tn)}], the floor ${fmt(median(fn), 2)}× [${list(fn)}]`);
    }
    L.push(`- timegif counted ${results.tgUnknownHost} unknown-host rejects over the timed runs (/metrics), ${results.tgLines} lines on its stdout (no per-request log)`);
  }
  if (results.workers.length) {
    const { rounds, per } = byRound(results.workers);
    L.push('', `Junk with --workers 2 beside one process (no server pinned, the flood client on CPU 1), medians over ${rounds.length} rounds:`, '',
      '| mode | round | server | req/s | req per CPU-s | server CPU % (all processes) |', '| --- | --- | --- | --- | --- | --- |');
    for (const x of results.workers) L.push(`| ${x.mode} | ${x.round} | ${x.server} | ${fmt(x.rate, 0)} | ${fmt(x.perCpuS, 0)} | ${fmt(x.cpuPct)} |`);
    L.push('');
    for (const mode of ['keepalive', 'close']) {
      const one = per('timegif', mode);
      for (const w of ['timegif-w2', 'timegif-w2none']) {
        const r = ratios(per(w, mode), one);
        if (!r.length) continue;
        L.push(`- ${mark(median(r) >= 1)} ${mode}: ${w === 'timegif-w2' ? 'round-robin' : 'shared socket'} ${fmt(median(per(w, mode)), 0)} vs one process ${fmt(median(one), 0)} junk responses per CPU-second = ` +
          `${fmt(median(r), 2)}× [${r.map((x) => fmt(x, 2)).join(', ')}] (target ≥ 1×)`);
      }
    }
  }
  const b = results.blocked;
  if (b) {
    L.push(`- ${mark(b.totalBytesIn === 0 && b.totalResponses === 0 && b.dropped > 0)} blocked at accept (--blocklist ${FLOOD_SRC}): ${fmt(b.rate, 0)} connections/s dropped, ` +
      `${fmt(b.perCpuS, 0)} per CPU-second (server CPU ${fmt(b.cpuPct)}%), ${b.totalBytesIn} bytes sent to ${b.totalDropped} blocked connections; server counted ${b.blockedMetric} blocked; RSS ${fmt(b.rssKB / 1024)} MB`);
  }
  if (results.viewers.length) {
    L.push('', '| viewers | flood | frames delivered / expected | missed | delay p50 / p99 / max (ms) | last viewer (ms) | junk answered per s in the window / whole run | server CPU % | RSS idle / end / max (MB) | loop delay p99 (ms) | skipped / evicted |', '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const v of results.viewers)
      L.push(`| ${v.connected}/${VIEWERS} | ${v.mode ? `${v.mode}, ${CONNS} conns` : 'none'} | ${v.delivered}/${v.expected} | ${v.missed} | ${fmt(v.p50)} / ${fmt(v.p99)} / ${fmt(v.max)} | ${fmt(v.last)} | ${fmt(v.floodRate, 0)} / ${v.junkTotal} | ${fmt(v.cpuPct)} | ${fmt(v.idleRssKB / 1024)} / ${fmt(v.rssKB / 1024)} / ${fmt(v.rssMaxKB / 1024)} | ${fmt(v.loopP99 * 1000)} | ${v.skipped} / ${v.evicted} |`);
    L.push('');
    for (const v of results.viewers.filter((x) => x.mode)) {
      const all = v.connected === VIEWERS && v.missed === 0 && v.expected > 0 && v.closedByServer === 0;
      L.push(`- ${mark(all)} ${v.mode} flood: ${v.connected}/${VIEWERS} viewers, ${v.delivered}/${v.expected} frames, ${v.withMissed} viewers with a miss, ${v.closedByServer} closed by the server`);
      L.push(`- ${mark(v.p99 !== null && v.p99 <= 250)} ${v.mode} flood: delay p99 ${fmt(v.p99)} ms (target ≤ 250 ms)`);
    }
  }
  return L;
}

async function main() {
  mkdirSync(OUT, { recursive: true });
  if (!existsSync(FLOOD)) execFileSync('make', ['-C', HERE, 'out/flood'], { stdio: 'inherit' });
  if (!existsSync(`${ROOT}dist/server.js`)) throw new Error('dist/server.js not built (npx tsc -p .)');
  const results = { junk: [], workers: [], blocked: null, viewers: [] };
  if (ONLY.includes('junk')) await phaseJunk(results);
  if (ONLY.includes('workers') && !results.checkFailed) await phaseWorkers(results);
  if (ONLY.includes('blocked') && !results.checkFailed) await phaseBlocked(results);
  if (ONLY.includes('viewers') && !results.checkFailed) await phaseViewers(results);
  writeFileSync(`${OUT}flood.json`, JSON.stringify(results, null, 1));
  const lines = report(results);
  console.log(`\n${lines.join('\n')}`);
  const section = [
    `\n## Junk flood: timegif vs nginx, ${SECONDS} s windows (${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC)`,
    '',
    `Command: \`make -C perf flood SECONDS=${SECONDS} CONNS=${CONNS} VIEWERS=${VIEWERS} ROUNDS=${JUNK_ROUNDS}${WARMUP !== 2 ? ` WARMUP=${WARMUP}` : ''}${env.ONLY ? ` ONLY=${env.ONLY}` : ''}${PIN && !TOGETHER ? ' TOGETHER=0' : ''}\`; ` +
      `${machine()} (at the end); ${(spawnSync('nginx', ['-v'], { encoding: 'utf8' }).stderr ?? '').trim().replace('nginx version: ', '')}.`,
    `Client: perf/flood.c (\`cc -O2\`), ${CONNS} connections from ${FLOOD_SRC}, BitTorrent announce with Host tracker.example.org; timegif \`serve --hosts time.example\` answers 421, ` +
      `nginx (master + 1 worker, perf/nginx/flood.conf.in) 404. Server CPU over the window from /proc (nginx: the worker), sampled at the client's per-second lines after ${WARMUP} s of warm-up. ` +
      'Client, viewers and server share the 2 cores: the request rates are bounded by the client too; per CPU-second figures are the comparison.',
    '',
    ...lines,
    '',
  ].join('\n');
  if (!env.NO_RESULTS) { appendFileSync(`${HERE}RESULTS.md`, section); console.log('\nappended to perf/RESULTS.md'); }
}

main().catch((e) => { console.error(e); process.exit(1); });
