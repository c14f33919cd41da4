#!/usr/bin/env node
// Profiles timegif under load: starts `node ../dist/server.js serve` wrapped in a profiler, waits for it to
// listen, holds VIEWERS viewers for SECONDS with the load tool (runLoad() from load.mjs), then stops the server
// with SIGINT to the profiler's whole process group (as Ctrl-C in a terminal would) so that the profiler
// writes its report, and prints where the report is.
//
//   node perf/profile.mjs --tool flame|doctor|0x|cpuprof|perf [--viewers 5000] [--seconds 20] [--rate 2000]
//   node perf/profile.mjs --summary FILE.cpuprofile [--window FROM_US:TO_US] [--top 25]
//   node perf/profile.mjs --summary out/flame.clinic-flame/flame.clinic-flame-samples [--top 25]
//
// Tools: `clinic flame`, `clinic doctor`, `0x`, or plain `node --cpu-prof`, whose .cpuprofile is summarised
// by self time per function (over the load's measurement window only; see summarize()). Reports go to
// perf/out/ (git-ignored). clinic and 0x come from perf/node_modules (`make -C perf install`).

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { runLoad, formatSummary, procStats } from './load.mjs';
import { freePort, sleep } from './common.mjs';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const OUT = `${HERE}out/`;
const BIN = `${HERE}node_modules/.bin/`;
const STOP_TIMEOUT_MS = 15 * 60 * 1000; // clinic flame and 0x process the V8 log after the server exits: slow on 2 cores

function parseArgs(argv) {
  const o = { tool: '', viewers: 5000, seconds: 20, rate: 2000, procs: 0, summary: '', window: '', top: 25 };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i].replace(/^--/, '');
    const v = argv[++i];
    if (!(k in o) || v === undefined) throw new Error(`bad option --${k}`);
    o[k] = typeof o[k] === 'number' ? Number(v) : v;
    if (typeof o[k] === 'number' && !Number.isFinite(o[k])) throw new Error(`--${k}: not a number: ${v}`);
  }
  return o;
}

// A free loopback port from the OS (listen on 0, read it, close). The profilers may hold the server's stdout,
// so the port is passed explicitly and readiness is also checked by connecting.

function canConnect(port) {
  return new Promise((resolve) => {
    const c = net.connect(port, '127.0.0.1');
    c.once('connect', () => { c.destroy(); resolve(true); });
    c.once('error', () => resolve(false));
  });
}


function profilerCommand(tool, port, viewers) {
  const server = [`${ROOT}dist/server.js`, 'serve', '--listen', `127.0.0.1:${port}`, '--max-viewers', String(viewers + 1000)];
  const node = process.execPath;
  switch (tool) {
    case 'flame': return [`${BIN}clinic`, 'flame', '--no-open', '--dest', OUT, '--name', 'flame', '--', node, ...server];
    case 'doctor': return [`${BIN}clinic`, 'doctor', '--no-open', '--dest', OUT, '--name', 'doctor', '--', node, ...server];
    case '0x': return [`${BIN}0x`, '--output-dir', `${OUT}0x`, '--output-html', `${OUT}0x/flamegraph.html`, '--', node, ...server];
    case 'cpuprof': return [node, '--cpu-prof', '--cpu-prof-dir', `${OUT}cpuprof`, '--cpu-prof-name', 'server.cpuprofile', ...server];
    case 'perf': return [node, '--perf-basic-prof', ...server]; // perf record is attached to it below
    default: throw new Error(`--tool must be flame, doctor, 0x, cpuprof or perf (got "${tool}")`);
  }
}

// The real server process: the deepest descendant of `pid` whose command line runs dist/server.js (the profiler
// wrappers carry the same arguments).
function serverPid(pid) {
  const children = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'latin1');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (!children.has(ppid)) children.set(ppid, []);
      children.get(ppid).push(Number(d));
    } catch { /* gone */ }
  }
  let best = 0;
  const walk = (p) => {
    try { if (readFileSync(`/proc/${p}/cmdline`, 'latin1').includes('dist/server.js')) best = p; } catch { /* gone */ }
    for (const c of children.get(p) ?? []) walk(c);
  };
  walk(pid);
  return best;
}

// utime and stime per thread in seconds (10 ms ticks), keyed by "tid comm", for the user/kernel split and the
// main thread vs V8's and libuv's helper threads, which the in-process profilers cannot show.
function threadTimes(pid) {
  const out = new Map();
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        out.set(`${tid} ${comm}`, { user: Number(f[11]) / 100, sys: Number(f[12]) / 100 });
      } catch { /* thread gone */ }
    }
  } catch { /* process gone */ }
  return out;
}

function threadDelta(a, b) {
  const rows = [];
  for (const [k, t1] of b) {
    const t0 = a.get(k) ?? { user: 0, sys: 0 };
    rows.push({ thread: k, userS: +(t1.user - t0.user).toFixed(2), sysS: +(t1.sys - t0.sys).toFixed(2) });
  }
  rows.sort((x, y) => y.userS + y.sysS - x.userS - x.sysS);
  const userS = rows.reduce((s, r) => s + r.userS, 0); const sysS = rows.reduce((s, r) => s + r.sysS, 0);
  return { userS: +userS.toFixed(2), sysS: +sysS.toFixed(2), threads: rows.filter((r) => r.userS + r.sysS > 0) };
}

function newestFile(dir, suffix) {
  if (!existsSync(dir)) return '';
  const files = readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => `${dir}${f}`);
  files.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  return files[0] ?? '';
}

async function profile(o) {
  if (!existsSync(`${ROOT}dist/server.js`)) throw new Error('dist/server.js is missing: build first (npx tsc -p . in the root)');
  mkdirSync(OUT, { recursive: true });
  const port = await freePort();
  const [file, ...args] = profilerCommand(o.tool, port, o.viewers);
  if (!existsSync(file)) throw new Error(`${file} is missing: make -C perf install`);
  console.log(`profile: ${o.tool}: ${[file, ...args].join(' ')}`);
  const startedAt = Date.now();
  // Own process group (detached) so that SIGINT reaches the profiler and the server together, like Ctrl-C.
  const child = spawn('sh', ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"', file, ...args], {
    cwd: HERE, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_INSIGHT: '1' },
  });
  const output = [];
  const keep = (tag) => (d) => { for (const line of String(d).split('\n')) if (line.trim()) { output.push(line); console.log(`[${o.tool}${tag}] ${line}`); } };
  child.stdout.on('data', keep(''));
  child.stderr.on('data', keep(' stderr'));
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })));
  let gone = false;
  void exited.then(() => { gone = true; });

  // Up to 60 s to listen: 0x and clinic start slowly on a busy machine.
  const deadline = Date.now() + 60_000;
  while (!gone && !output.some((l) => l.includes(`listening on http://127.0.0.1:${port}`)) && !(await canConnect(port))) {
    if (Date.now() > deadline) { process.kill(-child.pid, 'SIGKILL'); throw new Error(`server did not listen on ${port} within 60 s`); }
    await sleep(100);
  }
  if (gone) throw new Error('the profiler exited before the server listened');
  const pid = serverPid(child.pid);
  console.log(`profile: server pid ${pid} listening on 127.0.0.1:${port} after ${Date.now() - startedAt} ms`);
  // --tool perf: `perf record` on the server's threads, kernel included, stamped with CLOCK_MONOTONIC so the report
  // can be cut to the load's window. JIT frames are named from /tmp/perf-PID.map (--perf-basic-prof).
  let perfRec = null;
  if (o.tool === 'perf') {
    perfRec = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '997', '-g', '--clockid', 'monotonic', '-p', String(pid), '-o', `${OUT}perf.data`], { stdio: ['ignore', 'inherit', 'inherit'] });
    await sleep(500);
  }

  // user/sys of the server at every half second (as load.mjs samples schedstat), keyed by the epoch second.
  const userSysBySec = new Map();
  let sampler = null;
  const sampleNext = () => {
    sampler = setTimeout(() => { userSysBySec.set(Math.floor(Date.now() / 1000), threadTimes(pid)); sampleNext(); }, 1500 - ((Date.now() + 1000) % 1000));
  };
  sampleNext();
  const wall0 = Date.now();
  const mono0 = process.hrtime.bigint();
  const r = await runLoad({
    url: `http://127.0.0.1:${port}/time.gif`, viewers: o.viewers, seconds: o.seconds, procs: o.procs, src: [], rate: o.rate,
    slow: 0, churn: 0, serverPid: pid, json: false, quiet: true, sample: 1, rampTimeoutS: 0, log: (line) => console.log(line),
  });
  clearTimeout(sampler);
  console.log(formatSummary(r));
  const [from, to] = r.window;
  const a = userSysBySec.get(from - 1); const b = userSysBySec.get(to);
  const split = a && b ? threadDelta(a, b) : null;
  if (split) {
    console.log(`server over the window (utime/stime, 10 ms ticks): user ${split.userS.toFixed(2)} s, kernel ${split.sysS.toFixed(2)} s; by thread:`);
    for (const t of split.threads) console.log(`  ${t.thread.padEnd(24)} user ${t.userS.toFixed(2)} s  kernel ${t.sysS.toFixed(2)} s`);
  }
  // The window in CLOCK_MONOTONIC microseconds, the clock of V8's profile timestamps on Linux (from-1 +0.5 .. to +0.5,
  // like load.mjs's CPU window).
  const toMonoUs = (epochMs) => Number(mono0 / 1000n) + (epochMs - wall0) * 1000;
  const windowUs = [toMonoUs((from - 1) * 1000 + 500), toMonoUs(to * 1000 + 500)];
  const rss = procStats(pid);

  if (perfRec) {
    const done = new Promise((r) => perfRec.once('exit', r));
    perfRec.kill('SIGINT');
    await done;
  }
  const stopAt = Date.now();
  console.log('profile: SIGINT to the profiler and the server; waiting for the report');
  process.kill(-child.pid, 'SIGINT');
  const killer = setTimeout(() => { console.log('profile: still running, SIGKILL'); process.kill(-child.pid, 'SIGKILL'); }, STOP_TIMEOUT_MS);
  const how = await exited;
  clearTimeout(killer);
  console.log(`profile: profiler exited (${how.signal ?? `code ${how.code}`}) ${((Date.now() - stopAt) / 1000).toFixed(1)} s after SIGINT`);

  let report = '';
  if (o.tool === 'flame' || o.tool === 'doctor') report = newestFile(OUT, `.clinic-${o.tool}.html`);
  else if (o.tool === '0x') report = existsSync(`${OUT}0x/flamegraph.html`) ? `${OUT}0x/flamegraph.html` : '';
  else if (o.tool === 'cpuprof') report = existsSync(`${OUT}cpuprof/server.cpuprofile`) ? `${OUT}cpuprof/server.cpuprofile` : '';
  else if (existsSync(`${OUT}perf.data`)) report = perfReport(`${OUT}perf.data`, windowUs, o.top);
  if (report && statSync(report).mtimeMs < startedAt) report = '';
  const meta = {
    tool: o.tool, date: new Date(startedAt).toISOString(), node: process.version, viewers: o.viewers, seconds: o.seconds,
    window: r.window, windowMonoUs: windowUs, server: r.server, userSys: split, rssKB: rss?.rssKB ?? null,
    frames: r.frames, delayMs: r.delayMs, report,
  };
  writeFileSync(`${OUT}profile-${o.tool}.json`, `${JSON.stringify(meta, null, 1)}\n`);
  if (!report) { console.log(`profile: no ${o.tool} report found under ${OUT}`); return 1; }
  console.log(`profile: report ${report}`);
  if (o.tool === 'cpuprof') console.log(summarize(JSON.parse(readFileSync(report, 'utf8')), windowUs, o.top));
  return r.frames.missed > 0 ? 1 : 0;
}

// `perf report` over the window: by DSO (kernel / node binary / JIT code / libc) and by symbol, self time.
function perfReport(data, windowUs, top) {
  const time = `--time=${(windowUs[0] / 1e6).toFixed(6)},${(windowUs[1] / 1e6).toFixed(6)}`;
  const run = (sort) => execFileSync('perf', ['report', '-i', data, '--stdio', '--no-children', '-g', 'none', '--percent-limit', '0.3', '--sort', sort, time],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] });
  const text = ['# by thread and dso', run('comm,dso'), '# by dso,sym', run('dso,sym')].join('\n');
  const file = `${OUT}perf-report.txt`;
  writeFileSync(file, text);
  console.log(text.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 2 * top + 10).join('\n'));
  return file;
}

const short = (url) => url.replace(/^file:\/\//, '').replace(ROOT, '').replace(/^node:/, 'node:');

// Self time per function from a .cpuprofile: each sample's time delta goes to the node it landed on; nodes are
// grouped by function name + script + line. With a window (CLOCK_MONOTONIC µs) only samples inside it count.
// Inclusive time: a sample counts once for every distinct function on its stack.
export function summarize(prof, windowUs, top) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const key = (n) => {
    const f = n.callFrame;
    return f.url ? `${f.functionName || '(anonymous)'} ${short(f.url)}:${f.lineNumber + 1}` : (f.functionName || '(anonymous)');
  };
  const self = new Map(); const incl = new Map();
  let t = prof.startTime; let total = 0;
  const [from, to] = windowUs ?? [-Infinity, Infinity];
  for (let i = 0; i < prof.samples.length; i++) {
    const dt = prof.timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
    t += prof.timeDeltas[i];
    if (t < from || t > to) continue;
    total += dt;
    const n = byId.get(prof.samples[i]);
    self.set(key(n), (self.get(key(n)) ?? 0) + dt);
    const seen = new Set();
    for (let id = n.id; id !== undefined; id = parent.get(id)) {
      const k = key(byId.get(id));
      if (k === '(root)' || seen.has(k)) continue;
      seen.add(k);
      incl.set(k, (incl.get(k) ?? 0) + dt);
    }
  }
  const idle = self.get('(idle)') ?? 0;
  const busy = total - idle;
  const pct = (us) => `${((100 * us) / busy).toFixed(1).padStart(5)}%`;
  const ms = (us) => `${(us / 1000).toFixed(1).padStart(9)} ms`;
  const L = [`profile ${windowUs ? 'window' : 'whole run'}: ${(total / 1e6).toFixed(2)} s sampled, idle ${(idle / 1e6).toFixed(2)} s, busy ${(busy / 1e6).toFixed(2)} s (percentages of busy)`];
  L.push('self time:');
  for (const [k, us] of [...self].filter(([k]) => k !== '(idle)').sort((x, y) => y[1] - x[1]).slice(0, top)) L.push(`${ms(us)} ${pct(us)}  ${k}`);
  L.push('inclusive time (functions of timegif and node:net / streams):');
  for (const [k, us] of [...incl].filter(([k]) => /dist\/|node:/.test(k)).sort((x, y) => y[1] - x[1]).slice(0, top)) L.push(`${ms(us)} ${pct(us)}  ${k}`);
  // By where the code lives.
  const area = new Map();
  for (const [k, us] of self) {
    const a = k.startsWith('(') ? k : k.includes(' dist/') ? `timegif ${k.split(' dist/')[1].split(':')[0]}` : k.includes(' node:') ? 'node: internals (JS)' : 'native / other';
    area.set(a, (area.get(a) ?? 0) + us);
  }
  L.push('self time by area:');
  for (const [k, us] of [...area].filter(([k]) => k !== '(idle)').sort((x, y) => y[1] - x[1])) L.push(`${ms(us)} ${pct(us)}  ${k}`);
  return L.join('\n');
}

// Self time per leaf frame from clinic flame's samples file (out/flame.clinic-flame/flame.clinic-flame-samples:
// one array of frames per V8 --prof tick, root first, leaf last; {name, type: JS | CPP | SHARED_LIB}). Empty
// ticks are ones V8 logged without a stack. Counts, not times: one tick per sampling interval of the main thread.
export function summarizeTicks(samples, top) {
  const name = (f) => f.name.replace(/file:\/\//, '').replace(ROOT, '').replace(/^(\S+) (\S+):(\d+):\d+$/, '$1 $2:$3');
  const self = new Map(); const byType = new Map(); const incl = new Map();
  for (const st of samples) {
    const leaf = st.length ? st[st.length - 1] : { name: '(no stack)', type: '-' };
    self.set(name(leaf), (self.get(name(leaf)) ?? 0) + 1);
    // The last JS frame above a native leaf says which JS called into the native code.
    const js = [...st].reverse().find((f) => f.type === 'JS');
    const t = leaf.type === 'JS' ? 'JS' : `${leaf.type} leaf, under ${js ? name(js) : '(no JS frame)'}`;
    byType.set(t, (byType.get(t) ?? 0) + 1);
    const seen = new Set();
    for (const f of st) { const k = name(f); if (f.type === 'JS' && !seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + 1); } }
  }
  const n = samples.length;
  const row = (k, c) => `${String(c).padStart(7)} ${((100 * c) / n).toFixed(1).padStart(5)}%  ${k}`;
  const sorted = (m) => [...m].sort((x, y) => y[1] - x[1]).slice(0, top);
  return [`${n} ticks`, 'self (leaf frame):', ...sorted(self).map(([k, c]) => row(k, c)),
    'leaf kind, and for native leaves the innermost JS caller:', ...sorted(byType).map(([k, c]) => row(k, c)),
    'inclusive (JS frames):', ...sorted(incl).map(([k, c]) => row(k, c))].join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  let o;
  try { o = parseArgs(process.argv.slice(2)); } catch (e) { console.error(`profile: ${e.message}`); process.exit(2); }
  if (o.summary) {
    const w = o.window ? o.window.split(':').map(Number) : null;
    const data = JSON.parse(readFileSync(o.summary, 'utf8'));
    console.log(Array.isArray(data) ? summarizeTicks(data, o.top) : summarize(data, w, o.top));
  } else {
    process.exitCode = await profile(o);
  }
}
