#!/usr/bin/env node
// Load tool: holds VIEWERS endless-GIF streams open from several client processes (load-client.mjs) and
// measures, per wall-clock second and over a measurement window, whether every viewer got every frame and how
// long after the second boundary the frame's last byte arrived. Optionally samples the server's CPU and RSS.
//
//   node perf/load.mjs --url http://127.0.0.1:PORT/time.gif --viewers 19000 --seconds 30 [--procs 4]
//        [--src 127.1.0.0/20 ...] [--rate 2000] [--slow N] [--churn N] [--server-pid PID] [--json] [--quiet]
//
// Phases: ramp (connect at --rate/s until every viewer has its first frame), then a window of --seconds whole
// seconds during which the totals are taken. Server CPU is read from /proc at half-seconds, between ticks.

import { spawn, execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Hist } from './hist.mjs';
import { verifyStream } from './verify-gif.mjs';

const CLIENT = fileURLToPath(new URL('./load-client.mjs', import.meta.url));
const MAX_FDS_PER_PROC = 19000;

const DEFAULTS = {
  url: '', viewers: 2000, seconds: 10, procs: 0, src: [], rate: 2000, slow: 0, churn: 0, serverPid: 0,
  json: false, quiet: false, sample: 1, rampTimeoutS: 0, log: (line) => console.log(line),
};

export function parseArgs(argv) {
  const o = { ...DEFAULTS, src: [] };
  const num = (k, v) => { const n = Number(v); if (!Number.isFinite(n) || n < 0) throw new Error(`--${k}: not a number: ${v}`); return n; };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    if (k === 'json' || k === 'quiet') { o[k] = true; continue; }
    const v = argv[++i];
    if (v === undefined) throw new Error(`--${k} needs a value`);
    if (k === 'url') o.url = v;
    else if (k === 'src') o.src.push(v);
    else if (k === 'server-pid') o.serverPid = num(k, v);
    else if (k === 'ramp-timeout') o.rampTimeoutS = num(k, v);
    else if (k in DEFAULTS && typeof DEFAULTS[k] === 'number') o[k] = num(k, v);
    else throw new Error(`unknown option --${k}`);
  }
  if (!o.url) throw new Error('--url is required');
  return o;
}

// 127.1.0.0/20 -> ['127.1.0.1', ...]: host addresses ending in .0 or .255 are left out.
export function expandCidrs(cidrs) {
  const out = [];
  for (const c of cidrs) {
    const [ip, bitsS] = c.split('/');
    const bits = bitsS === undefined ? 32 : Number(bitsS);
    const parts = ip.split('.').map(Number);
    if (parts.length !== 4 || parts.some((p) => !(p >= 0 && p <= 255)) || !(bits >= 8 && bits <= 32)) throw new Error(`bad --src ${c}`);
    const base = ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
    const size = 2 ** (32 - bits);
    const start = bits === 32 ? base : base - (base % size);
    for (let a = start; a < start + size && out.length < 65536; a++) {
      const last = a & 255;
      if (size > 1 && (last === 0 || last === 255)) continue;
      out.push(`${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${last}`);
    }
  }
  return out;
}

const clockTicks = (() => { try { return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100; } catch { return 100; } })();

// utime + stime in seconds (clock ticks), on-CPU seconds from schedstat, VmRSS in KB; null when it is gone.
/** The process and its descendants (a --workers primary and its workers), from /proc/PID/task/TID/children. */
function processTree(pid) {
  const out = [pid];
  for (let i = 0; i < out.length; i++) {
    try {
      for (const t of readdirSync(`/proc/${out[i]}/task`)) {
        for (const c of readFileSync(`/proc/${out[i]}/task/${t}/children`, 'latin1').trim().split(/\s+/)) if (c) out.push(Number(c));
      }
    } catch { /* exited */ }
  }
  return out;
}

/** CPU (utime+stime, and on-CPU ns from schedstat) and RSS of a server, summed over its process tree. */
export function procStats(pid) {
  try {
    let cpuS = 0, runNs = 0, rssKB = 0;
    for (const p of processTree(pid)) {
      const stat = readFileSync(`/proc/${p}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      cpuS += (Number(f[11]) + Number(f[12])) / clockTicks; // fields 14, 15 of stat
      const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'latin1'));
      rssKB += m ? Number(m[1]) : 0;
      // Nanosecond on-CPU time summed over the process's threads (/proc/PID/task/*/schedstat, first field).
      for (const t of readdirSync(`/proc/${p}/task`)) {
        try { runNs += Number(readFileSync(`/proc/${p}/task/${t}/schedstat`, 'latin1').split(' ')[0]); } catch { /* thread gone */ }
      }
    }
    return { cpuS, runS: runNs / 1e9, rssKB };
  } catch { return null; }
}

const fmt = (x, d = 1) => (x === null || x === undefined || Number.isNaN(x) ? '-' : x.toFixed(d));

export async function runLoad(opts) {
  const u = new URL(opts.url);
  const procs = opts.procs || Math.max(1, Math.min(4, Math.ceil(opts.viewers / 5000)));
  if (Math.ceil(opts.viewers / procs) > MAX_FDS_PER_PROC) throw new Error(`--procs ${procs} is too few: at most ${MAX_FDS_PER_PROC} viewers per process`);
  const addrs = expandCidrs(opts.src.length > 0 ? opts.src : ['127.1.0.0/20']);
  const rampTimeoutS = opts.rampTimeoutS || Math.ceil(opts.viewers / opts.rate) * 2 + 10;
  const children = [];
  const bySec = new Map(); // sec -> { reports: [], ... }
  const server = new Map(); // sec -> procStats at sec + 0.5
  const clients = new Map(); // sec -> summed client CPU seconds
  const samples = [];
  const finals = [];
  let ramped = 0;
  let windowFrom = Infinity;
  let windowTo = Infinity;
  let rampDeadline = Date.now() + rampTimeoutS * 1000;
  let rampTimedOut = false;
  const perSecond = [];

  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  let stopping = false;
  let exited = 0;

  for (let i = 0; i < procs; i++) {
    const share = Math.floor(opts.viewers / procs) + (i < opts.viewers % procs ? 1 : 0);
    const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', process.execPath, CLIENT], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    child.on('message', (m) => onMessage(i, m));
    child.on('exit', (code) => {
      exited++;
      if (!stopping) { opts.log(`load: client process ${i} exited early (code ${code})`); stopping = true; }
      if (exited === procs) maybeFinish(true);
    });
    child.send({
      t: 'start', host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80), path: u.pathname + u.search,
      hostHeader: u.host, viewers: share, rate: opts.rate / procs, src: addrs.filter((_, k) => k % procs === i),
      slow: Math.floor(opts.slow / procs) + (i < opts.slow % procs ? 1 : 0),
      churn: Math.floor(opts.churn / procs) + (i < opts.churn % procs ? 1 : 0), sample: opts.sample,
    });
  }

  // Server and client CPU/RSS at every half second (between frame bursts).
  let statsTimer = null;
  const baseline = opts.serverPid ? procStats(opts.serverPid) : null;
  const sampleStats = () => {
    const now = Date.now();
    const sec = Math.floor(now / 1000);
    if (opts.serverPid) { const s = procStats(opts.serverPid); if (s) server.set(sec, s); }
    let c = 0;
    for (const ch of children) { const s = procStats(ch.pid); if (s) c += s.cpuS; }
    clients.set(sec, c);
    statsTimer = setTimeout(sampleStats, (sec + 1) * 1000 + 500 - Date.now());
    maybeStop();
  };
  statsTimer = setTimeout(sampleStats, Math.floor(Date.now() / 1000) * 1000 + 1500 - Date.now());

  function onMessage(i, m) {
    if (m.t === 'sec') {
      let e = bySec.get(m.sec);
      if (!e) { e = { reports: [] }; bySec.set(m.sec, e); }
      e.reports.push(m);
      if (e.reports.length === procs) aggregateSecond(m.sec, e.reports);
    } else if (m.t === 'ramped') {
      ramped++;
      if (ramped === procs) startWindow();
    } else if (m.t === 'sample') samples.push(Buffer.from(m.bytes, 'base64'));
    else if (m.t === 'final') { finals.push(m); if (finals.length === procs) maybeFinish(); }
  }

  function startWindow() {
    if (windowFrom !== Infinity) return;
    windowFrom = Math.floor(Date.now() / 1000) + 2;
    windowTo = windowFrom + opts.seconds - 1;
    for (const ch of children) if (ch.connected) ch.send({ t: 'window', from: windowFrom, to: windowTo });
    if (!opts.quiet) opts.log(`ramp done: measuring seconds ${windowFrom}..${windowTo}`);
  }

  function aggregateSecond(sec, reports) {
    const s = { sec, open: 0, active: 0, slowOpen: 0, expected: 0, hit: 0, frames: 0, keys: 0, dup: 0, frameBytes: 0, bytes: 0, connects: 0 };
    const delay = new Hist(-50, 1000);
    const ttff = new Hist(0, 5000);
    for (const r of reports) {
      for (const k of Object.keys(s)) if (k !== 'sec') s[k] += r[k];
      delay.addSparse(r.delay);
      ttff.addSparse(r.ttff);
    }
    s.missed = Math.max(0, s.expected - s.hit);
    s.delay = delay;
    s.ttff = ttff;
    perSecond.push(s);
    bySec.delete(sec);
    if (!opts.quiet) {
      const inWin = sec >= windowFrom && sec <= windowTo ? '*' : ' ';
      opts.log(`${inWin}${new Date(sec * 1000).toISOString().slice(11, 19)} open ${s.open} frames ${s.hit}/${s.expected}` +
        ` (key ${s.keys}, dup ${s.dup}) missed ${s.missed} delay p50 ${fmt(delay.percentile(0.5))} p90 ${fmt(delay.percentile(0.9))}` +
        ` p99 ${fmt(delay.percentile(0.99))} max ${fmt(delay.percentile(1))} ms` +
        (ttff.total ? ` | new ${ttff.total} ttff p50 ${fmt(ttff.percentile(0.5))} p99 ${fmt(ttff.percentile(0.99))} ms` : '') + serverLine(sec));
    }
    if (windowFrom === Infinity && Date.now() > rampDeadline) { rampTimedOut = true; startWindow(); }
    maybeStop();
  }

  // Server CPU over [sec - 0.5, sec + 0.5] (the tick at sec inside) and RSS at sec + 0.5, when sampled.
  function serverLine(sec) {
    const a = server.get(sec - 1); const b = server.get(sec);
    if (!a || !b) return '';
    return ` | server CPU ${fmt(100 * (b.runS - a.runS))}% RSS ${fmt(b.rssKB / 1024)} MB`;
  }

  function maybeStop() {
    if (stopping || windowTo === Infinity) return;
    const last = perSecond.length > 0 ? perSecond[perSecond.length - 1].sec : -1;
    if (last < windowTo || !clients.has(windowTo)) return;
    stopping = true;
    clearTimeout(statsTimer);
    for (const ch of children) if (ch.connected) ch.send({ t: 'stop' });
    setTimeout(() => { for (const ch of children) if (ch.exitCode === null) ch.kill('SIGKILL'); maybeFinish(true); }, 10000).unref();
  }

  let finished = false;
  function maybeFinish(force = false) {
    if (finished || !stopping) return;
    if (!force && finals.length < procs) return;
    finished = true;
    resolveDone();
  }

  await done;
  return summarize({ opts, procs, perSecond, windowFrom, windowTo, server, clients, finals, samples, rampTimedOut, baseline });
}

function summarize({ opts, procs, perSecond, windowFrom, windowTo, server, clients, finals, samples, rampTimedOut, baseline }) {
  const win = perSecond.filter((s) => s.sec >= windowFrom && s.sec <= windowTo);
  const delay = new Hist(-50, 1000);
  const ttff = new Hist(0, 5000);
  let expected = 0; let hit = 0; let frames = 0; let keys = 0; let dup = 0; let bytes = 0; let lastSum = 0; let lastN = 0;
  for (const s of perSecond) ttff.merge(s.ttff);
  for (const s of win) {
    delay.merge(s.delay);
    expected += s.expected; hit += s.hit; frames += s.frames; keys += s.keys; dup += s.dup; bytes += s.bytes;
    if (s.delay.total > 0) { lastSum += s.delay.max; lastN++; }
  }
  const sum = (k) => finals.reduce((a, f) => a + f[k], 0);
  const addObj = (k) => finals.reduce((a, f) => { for (const [x, n] of Object.entries(f[k])) a[x] = (a[x] ?? 0) + n; return a; }, {});
  const verify = samples.map((b) => verifyStream(b));
  const res = {
    url: opts.url, viewers: opts.viewers, procs, seconds: win.length, window: [windowFrom, windowTo], rampTimedOut,
    opened: sum('planned'), connected: sum('connected'), failed: sum('failed'), closed: addObj('closed'), errors: addObj('errors'),
    streamErrors: addObj('streamErrors'),
    frames: { expected, delivered: hit, missed: Math.max(0, expected - hit), total: frames, keyframes: keys, duplicates: dup },
    viewersWithMissed: sum('withMissed'), maxMissedPerViewer: Math.max(0, ...finals.map((f) => f.maxMissed)),
    delayMs: { p50: delay.percentile(0.5), p90: delay.percentile(0.9), p99: delay.percentile(0.99), max: delay.percentile(1), last: lastN ? lastSum / lastN : null },
    ttffMs: { count: ttff.total, p50: ttff.percentile(0.5), p99: ttff.percentile(0.99), max: ttff.percentile(1) },
    bytesPerViewerSecond: expected > 0 ? bytes / expected : null,
    slow: finals.reduce((a, f) => { for (const k of Object.keys(f.slow)) a[k] = (a[k] ?? 0) + f.slow[k]; return a; }, {}),
    samples: { count: samples.length, ok: verify.filter((v) => v.ok).length, frames: verify.reduce((a, v) => a + v.frames, 0), errors: verify.filter((v) => !v.ok).map((v) => v.error) },
    perSecond: perSecond.map((s) => ({ sec: s.sec, open: s.open, expected: s.expected, delivered: s.hit, keyframes: s.keys, p50: s.delay.percentile(0.5), p99: s.delay.percentile(0.99), max: s.delay.percentile(1), newViewers: s.ttff.total })),
  };
  Object.defineProperty(res, 'sampleBytes', { value: samples, enumerable: false }); // raw streams, not in --json
  const c0 = clients.get(windowFrom - 1); const c1 = clients.get(windowTo);
  res.clientCpuS = c0 !== undefined && c1 !== undefined ? c1 - c0 : null;
  if (opts.serverPid) {
    const a = server.get(windowFrom - 1); const b = server.get(windowTo);
    const rss = [...server.entries()].filter(([s]) => s >= windowFrom - 1 && s <= windowTo).map(([, v]) => v.rssKB);
    res.server = {
      pid: opts.serverPid, cpuS: a && b ? b.cpuS - a.cpuS : null, runS: a && b ? b.runS - a.runS : null,
      rssKB: b ? b.rssKB : null, rssMaxKB: rss.length ? Math.max(...rss) : null,
    };
    // Per viewer-frame from the precise schedstat time; utime+stime (10 ms ticks) agrees over long windows.
    res.server.cpuUsPerViewerFrame = res.server.runS !== null && hit > 0 ? (res.server.runS * 1e6) / hit : null;
    res.server.statUsPerViewerFrame = res.server.cpuS !== null && hit > 0 ? (res.server.cpuS * 1e6) / hit : null;
    // Ramp: from the start to just before the window; it includes the ticks to viewers already connected.
    res.server.rampCpuS = a && baseline ? a.runS - baseline.runS : null;
    res.server.cpuPct = res.server.runS !== null && win.length ? (100 * res.server.runS) / win.length : null;
  }
  return res;
}

export function formatSummary(r) {
  const L = [];
  const extra = r.opened > r.viewers ? ` + ${r.opened - r.viewers} churn replacements` : '';
  L.push(`viewers ${r.connected}/${r.opened} connected (${r.viewers}${extra}; ${r.failed} failed) in ${r.procs} client processes; window ${r.seconds} s${r.rampTimedOut ? ' (ramp timed out)' : ''}`);
  L.push(`frames delivered ${r.frames.delivered}/${r.frames.expected}, missed ${r.frames.missed} (viewers with a miss ${r.viewersWithMissed}, worst ${r.maxMissedPerViewer}); keyframes ${r.frames.keyframes}, duplicates ${r.frames.duplicates}`);
  L.push(`delivery delay after the boundary: p50 ${fmt(r.delayMs.p50)} p90 ${fmt(r.delayMs.p90)} p99 ${fmt(r.delayMs.p99)} max ${fmt(r.delayMs.max)} ms; last viewer (mean per-second max) ${fmt(r.delayMs.last)} ms`);
  L.push(`time to first frame: p50 ${fmt(r.ttffMs.p50, 2)} p99 ${fmt(r.ttffMs.p99, 2)} max ${fmt(r.ttffMs.max, 2)} ms over ${r.ttffMs.count} viewers`);
  L.push(`bytes per viewer-second ${fmt(r.bytesPerViewerSecond)}; closed ${JSON.stringify(r.closed)} errors ${JSON.stringify(r.errors)} stream errors ${JSON.stringify(r.streamErrors)}`);
  L.push(`decoded samples ${r.samples.ok}/${r.samples.count} (${r.samples.frames} frames)${r.samples.errors.length ? ' ' + r.samples.errors.join('; ') : ''}; client CPU ${fmt(r.clientCpuS, 2)} s`);
  if (r.slow.viewers) L.push(`slow viewers ${r.slow.viewers}: still open ${r.slow.open}, closed by server ${r.slow.closedByServer}, bytes ${r.slow.bytes}`);
  if (r.server) {
    L.push(`server pid ${r.server.pid}: CPU ${fmt(r.server.runS, 3)} s on-CPU (schedstat), ${fmt(r.server.cpuS, 2)} s utime+stime (${fmt(r.server.cpuPct)}% of a core); ` +
      `${fmt(r.server.cpuUsPerViewerFrame, 2)} µs per viewer-frame (utime+stime: ${fmt(r.server.statUsPerViewerFrame, 2)}); RSS ${r.server.rssKB} KB (max ${r.server.rssMaxKB})`);
    L.push(`server CPU during the ramp (accepts, intros and ticks): ${fmt(r.server.rampCpuS, 3)} s`);
  }
  return L.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let opts;
  try { opts = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`load: ${e.message}`); process.exit(2); }
  const r = await runLoad(opts);
  console.log(formatSummary(r));
  if (opts.json) console.log(JSON.stringify(r));
  // Exit status 1 when the run itself says something is wrong: not every viewer streaming every frame.
  const bad = r.connected < r.opened || r.frames.expected === 0 || r.frames.missed > 0 || Object.keys(r.streamErrors).length > 0 ||
    r.samples.ok !== r.samples.count || r.samples.count === 0;
  process.exitCode = bad ? 1 : 0;
}
