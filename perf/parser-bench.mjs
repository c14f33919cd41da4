// HTTP/1 request-head parser benchmark: lib/http/http1-parser.ts (the hot path every junk request goes through).
// Checks the parse results first, then times parse+reset loops and reports ns/request (median of RUNS
// interleaved runs),
// side by side with node's own llhttp as node:http drives it (process.binding('http_parser'): the head is
// parsed and every header becomes a JS string, before node:http builds its IncomingMessage).
// Then appends the numbers, command, date, Node version and machine to perf/RESULTS.md (RECORD=0: don't).
//
//   node perf/parser-bench.mjs            (after `npx tsc -p .`)
//   ITER=200000 RUNS=7 node perf/parser-bench.mjs

import { appendFileSync } from 'node:fs';
import { cpus, loadavg, totalmem, release } from 'node:os';
import { fileURLToPath } from 'node:url';
import { PARSE, RequestParser } from '../dist/lib/http/http1-parser.js';
import { median } from './common.mjs';

const LOAD_AT_START = loadavg()[0];
const ITER = Number(process.env.ITER ?? 200_000);
const RUNS = Number(process.env.RUNS ?? 7);
const RECORD = process.env.RECORD !== '0';

const CRLF = '\r\n';
const CHROME = Buffer.from(
  [
    'GET /time.gif HTTP/1.1',
    'Host: time.example.org',
    'Connection: keep-alive',
    'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"',
    'sec-ch-ua-mobile: ?0',
    'User-Agent: Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    'sec-ch-ua-platform: "Windows"',
    'Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8',
    'Sec-Fetch-Site: same-origin',
    'Sec-Fetch-Mode: no-cors',
    'Sec-Fetch-Dest: image',
    'Referer: https://time.example.org/',
    'Accept-Encoding: gzip, deflate, br, zstd',
    'Accept-Language: en-US,en;q=0.9,de;q=0.8',
    '',
    '',
  ].join(CRLF),
  'latin1',
);

const INFO_HASH = '%12%34%56%78%9A%BC%DE%F0%12%34%56%78%9A%BC%DE%F0%12%34%56%78';
const ANNOUNCE = Buffer.from(
  [
    `GET /announce?info_hash=${INFO_HASH}&peer_id=-TR3000-k8x2q9v1m4zt&port=6881&uploaded=0&downloaded=0&left=0&event=started HTTP/1.1`,
    'Host: tracker.bogus-example.net:6969',
    'User-Agent: Transmission/3.00',
    'Accept: */*',
    'Accept-Encoding: gzip;q=1.0, deflate, identity',
    'Connection: close',
    '',
    '',
  ].join(CRLF),
  'latin1',
);

const WORKLOADS = [
  { name: 'browser GET /time.gif', bytes: CHROME, path: '/time.gif', host: 'time.example.org', keepAlive: true },
  { name: 'BitTorrent announce', bytes: ANNOUNCE, path: '/announce', host: 'tracker.bogus-example.net', keepAlive: false },
];

// ---- variants -------------------------------------------------------------------------------------------

function timegifOnce(p, bytes) {
  p.reset();
  return p.execute(bytes);
}

let llhttp = null;
try {
  process.removeAllListeners('warning'); // the deprecation notice for process.binding is expected here
  const { HTTPParser } = process.binding('http_parser');
  llhttp = HTTPParser;
} catch {
  llhttp = null;
}

function makeLlhttp() {
  const p = new llhttp();
  p.initialize(llhttp.REQUEST, {}, 0, 0);
  const seen = { url: '', headers: null, keepAlive: false, count: 0 };
  p[llhttp.kOnHeadersComplete] = (_maj, _min, headers, _method, url, _sc, _sm, _upgrade, keepAlive) => {
    seen.url = url;
    seen.headers = headers;
    seen.keepAlive = keepAlive;
    seen.count++;
  };
  return { p, seen };
}

// ---- check -------------------------------------------------------------------------------------------------

function check() {
  for (const w of WORKLOADS) {
    const p = new RequestParser();
    for (let k = 0; k < 3; k++) {
      const st = timegifOnce(p, w.bytes);
      const got = [st, p.path, p.host, p.keepAlive, p.consumed].join(' ');
      const want = [PARSE.DONE, w.path, w.host, w.keepAlive, w.bytes.length].join(' ');
      if (got !== want) throw new Error(`timegif ${w.name}: got ${got}, want ${want} (${p.reason})`);
    }
    // split anywhere: same answer
    for (let at = 1; at < w.bytes.length; at++) {
      p.reset();
      let st = p.execute(w.bytes.subarray(0, at));
      if (st === PARSE.NEED_MORE) st = p.execute(w.bytes.subarray(at));
      if (st !== PARSE.DONE || p.path !== w.path || p.host !== w.host) throw new Error(`timegif ${w.name}: split at ${at}`);
    }
    if (llhttp) {
      const { p: lp, seen } = makeLlhttp();
      const n = lp.execute(w.bytes);
      if (n !== w.bytes.length || seen.count !== 1 || !seen.url.startsWith(w.path) || seen.keepAlive !== w.keepAlive) {
        throw new Error(`llhttp ${w.name}: unexpected parse ${n} ${seen.url}`);
      }
    }
  }
}

// ---- time ---------------------------------------------------------------------------------------------------


/** Times every variant RUNS times, interleaved so that load from other processes falls on all of them alike. */
function timeAll(rows) {
  for (const row of rows) row.fn(Math.min(ITER, 50_000)); // warm-up: let the JIT settle
  const ns = rows.map(() => []);
  for (let r = 0; r < RUNS; r++) {
    rows.forEach((row, j) => {
      const t0 = process.hrtime.bigint();
      row.fn(ITER);
      ns[j].push(Number(process.hrtime.bigint() - t0) / ITER);
    });
  }
  rows.forEach((row, j) => Object.assign(row, { median: median(ns[j]), min: Math.min(...ns[j]), max: Math.max(...ns[j]) }));
}

function timegifLoop(bytes) {
  const p = new RequestParser();
  return (n) => {
    let done = 0;
    for (let k = 0; k < n; k++) if (timegifOnce(p, bytes) === PARSE.DONE) done++;
    if (done !== n) throw new Error('timegif: a parse failed while timing');
  };
}

function timegifSplitLoop(bytes) {
  const p = new RequestParser();
  const a = bytes.subarray(0, bytes.length >> 1);
  const b = bytes.subarray(bytes.length >> 1);
  return (n) => {
    let done = 0;
    for (let k = 0; k < n; k++) {
      p.reset();
      p.execute(a);
      if (p.execute(b) === PARSE.DONE) done++;
    }
    if (done !== n) throw new Error('timegif split: a parse failed while timing');
  };
}

function llhttpLoop(bytes) {
  const { p, seen } = makeLlhttp();
  return (n) => {
    const before = seen.count;
    // keep-alive requests parse back to back on one parser; a `Connection: close` request ends the
    // message stream, so re-initialize as node:http would for the next connection
    const reinit = bytes.includes('Connection: close');
    for (let k = 0; k < n; k++) {
      if (reinit) p.initialize(llhttp.REQUEST, {}, 0, 0);
      p.execute(bytes);
    }
    if (seen.count - before !== n) throw new Error(`llhttp: ${seen.count - before} heads for ${n} requests`);
  };
}

check();
const rows = [];
for (const w of WORKLOADS) {
  const row = (variant, fn) => rows.push({ workload: w.name, bytes: w.bytes.length, variant, fn });
  row('timegif RequestParser, one chunk', timegifLoop(w.bytes));
  row('timegif RequestParser, two chunks', timegifSplitLoop(w.bytes));
  if (llhttp) row('node llhttp (http_parser binding)', llhttpLoop(w.bytes));
}
timeAll(rows);

const fmt = (x) => x.toFixed(0);
const table = [
  '| workload | bytes | variant | ns/request median | min | max |',
  '|---|---:|---|---:|---:|---:|',
  ...rows.map((r) => `| ${r.workload} | ${r.bytes} | ${r.variant} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} |`),
].join('\n');
console.log(table);

if (RECORD) {
  const cpu = cpus();
  const machine = `${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB, Linux ${release()}, Node ${process.version}`;
  const section = [
    '',
    `## HTTP/1 request parser — ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
    '',
    `Command: \`ITER=${ITER} RUNS=${RUNS} node perf/parser-bench.mjs\` (parse + reset per request, median of ${RUNS} interleaved runs after a warm-up)  `,
    `Machine: ${machine}; 1-minute load average ${LOAD_AT_START.toFixed(1)} at start (shared machine: other builds ran alongside, so compare rows, not runs)`,
    '',
    table,
    '',
  ].join('\n');
  appendFileSync(fileURLToPath(new URL('./RESULTS.md', import.meta.url)), section);
}
