// Blocklist benchmark: CidrSet load time for a large list and lookups per second (IPv4, IPv6, IPv4-mapped) against
// a naive linear scan of the unmerged ranges; plus the per-IP table's admit rate and memory per entry.
// Checks first (every pooled address: CidrSet#has agrees with the naive scan, written here with BigInt and no code
// from lib/), then times, then appends a section to perf/RESULTS.md.
//
//   RANGES=50000 LOOKUPS=1000000 ROUNDS=5 node --expose-gc cidr-bench.mjs      (after `npx tsc -p .` at the root)
// RANGES: list size; LOOKUPS: has() calls per timed round; NAIVE: naive-scan calls per round; RECORD=0 skips
// RESULTS.md. Without --expose-gc the memory figures are skipped.

import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { CidrSet } from '../dist/lib/guard/cidr.js';
import { PeerTable } from '../dist/lib/guard/peers.js';
import { mulberry32 } from '../dist/spec/random.js';
import { machine as machineLine, median } from './common.mjs';

const RANGES = Number(process.env.RANGES ?? 50_000);
const LOOKUPS = Number(process.env.LOOKUPS ?? 1_000_000);
const NAIVE = Number(process.env.NAIVE ?? 2_000);
const ROUNDS = Number(process.env.ROUNDS ?? 5);
const RECORD = process.env.RECORD !== '0';
const POOL = 4096;

const rand = mulberry32(2026);
const rint = (n) => Math.floor(rand() * n);
const rbig = (bits) => {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(rint(65536));
  return v >> BigInt(Math.ceil(bits / 16) * 16 - bits);
};

const v4Text = (v) => [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
const v6Text = (v) => {
  const g = [];
  for (let i = 7; i >= 0; i--) g.push(((v >> BigInt(16 * i)) & 0xffffn).toString(16));
  return g.join(':');
};

// ---- the list: 60% IPv4 /14-/32, 40% IPv6 /28-/48 in 2000::/3 (the shapes country zone files hold) ----
const v4Ranges = [];
const v6Ranges = [];
const lines = [];
const GLOBAL_UNICAST = 1n << 125n; // 2000::/3
for (let i = 0; i < RANGES; i++) {
  if (rand() < 0.6) {
    const p = 14 + rint(19);
    const host = 32n - BigInt(p);
    const start = (rbig(32) >> host) << host;
    v4Ranges.push([start, start + (1n << host) - 1n]);
    lines.push(`${v4Text(start)}/${p}`);
  } else {
    const p = 28 + rint(21);
    const host = 128n - BigInt(p);
    const start = ((GLOBAL_UNICAST | (rbig(128) >> 3n)) >> host) << host;
    v6Ranges.push([start, start + (1n << host) - 1n]);
    lines.push(`${v6Text(start)}/${p}`);
  }
}
const text = lines.join('\n') + '\n';

// ---- address pools: half inside some range, half random ----
function pool(make) {
  return Array.from({ length: POOL }, make);
}
const inside = (ranges) => {
  const [s, e] = ranges[rint(ranges.length)];
  return s + (rbig(128) % (e - s + 1n));
};
const v4Pool = pool(() => (rand() < 0.5 ? inside(v4Ranges) : rbig(32)));
const v6Pool = pool(() => (rand() < 0.5 ? inside(v6Ranges) : GLOBAL_UNICAST | (rbig(128) >> 3n)));
const pools = {
  ipv4: v4Pool.map(v4Text),
  ipv6: v6Pool.map(v6Text),
  mapped: v4Pool.map((v) => `::ffff:${v4Text(v)}`),
};

// ---- naive reference: parse with BigInt, scan every unmerged range ----
function naiveParse(addr) {
  if (addr.startsWith('::ffff:') && addr.includes('.')) return [4, BigInt(addr.slice(7).split('.').reduce((a, o) => a * 256 + Number(o), 0))];
  if (!addr.includes(':')) return [4, BigInt(addr.split('.').reduce((a, o) => a * 256 + Number(o), 0))];
  const [head, tail = ''] = addr.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = addr.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return [6, groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g, 16)), 0n)];
}
function naiveHas(addr) {
  const [family, v] = naiveParse(addr);
  const ranges = family === 4 ? v4Ranges : v6Ranges;
  for (let i = 0; i < ranges.length; i++) if (ranges[i][0] <= v && v <= ranges[i][1]) return true;
  return false;
}

// ---- check ----
const { set, v4, v6, warnings } = CidrSet.fromText([{ source: 'bench', text }]);
if (v4 !== v4Ranges.length || v6 !== v6Ranges.length || warnings.length !== 0) throw new Error('load mismatch');
const hitRate = {};
for (const [name, addrs] of Object.entries(pools)) {
  let hits = 0;
  for (const a of addrs) {
    const got = set.has(a);
    if (got !== naiveHas(a)) throw new Error(`${name}: has(${a}) = ${got}, naive scan disagrees`);
    if (got) hits++;
  }
  hitRate[name] = hits / addrs.length;
}
console.log(`verified ${POOL * 3} addresses against the naive scan; merged ranges ${set.size} of ${RANGES}`);

// ---- time ----
/** CPU milliseconds (user + system) per round: other work on the shared machine inflates wall time, not this. */
function timeRounds(fn) {
  fn(); // warm-up
  const ms = [];
  for (let r = 0; r < ROUNDS; r++) {
    const c0 = process.cpuUsage();
    fn();
    const c = process.cpuUsage(c0);
    ms.push((c.user + c.system) / 1000);
  }
  return ms;
}

const loadMs = timeRounds(() => CidrSet.fromText([{ source: 'bench', text }]));
console.log(`load ${RANGES} ranges: median ${median(loadMs).toFixed(1)} CPU ms`);

let sink = 0;
const rows = [];
for (const [name, addrs] of Object.entries(pools)) {
  const fast = timeRounds(() => {
    for (let i = 0; i < LOOKUPS; i++) if (set.has(addrs[i & (POOL - 1)])) sink++;
  });
  const naive = timeRounds(() => {
    for (let i = 0; i < NAIVE; i++) if (naiveHas(addrs[i & (POOL - 1)])) sink++;
  });
  const fastRate = LOOKUPS / (median(fast) / 1000);
  const naiveRate = NAIVE / (median(naive) / 1000);
  rows.push({ name, fastRate, naiveRate, fastMs: fast, hit: hitRate[name] });
  console.log(`${name}: ${(fastRate / 1e6).toFixed(2)} M lookups per CPU-second vs naive ${naiveRate.toFixed(0)}`);
}

// Heap growth over many lookups: has() should allocate nothing. Least of 3 trials per pool, since a JIT tier-up
// during a trial can add a few MB of its own.
let heapPerLookup = null;
if (globalThis.gc) {
  const TRIAL = 1_000_000;
  heapPerLookup = 0;
  for (const addrs of Object.values(pools)) {
    let least = Infinity;
    for (let t = 0; t < 3; t++) {
      gc();
      const before = process.memoryUsage().heapUsed;
      for (let i = 0; i < TRIAL; i++) if (set.has(addrs[i & (POOL - 1)])) sink++;
      least = Math.min(least, (process.memoryUsage().heapUsed - before) / TRIAL);
    }
    heapPerLookup = Math.max(heapPerLookup, least);
  }
  console.log(`heap growth: ${heapPerLookup.toFixed(4)} B per lookup (worst pool, least of 3 trials)`);
}

// ---- per-IP table: admit rate with churned keys, memory per entry ----
const KEYS = 100_000;
const keys = Array.from({ length: KEYS * 2 }, (_, i) => `${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}.${i % 7}`);
const limits = { maxStreamsPerIp: 256, connRatePerSec: 50, connBurst: 200, maxEntries: KEYS };
const churn = timeRounds(() => {
  const table = new PeerTable(limits);
  for (let i = 0; i < keys.length; i++) table.admitConnection(keys[i], i >>> 10);
  if (table.size > KEYS) throw new Error('table over its bound');
});
const admitRate = keys.length / (median(churn) / 1000);
let bytesPerEntry = null;
if (globalThis.gc) {
  gc();
  const before = process.memoryUsage().heapUsed;
  const table = new PeerTable(limits);
  for (let i = 0; i < KEYS; i++) table.admitConnection(keys[i], 0);
  gc();
  bytesPerEntry = (process.memoryUsage().heapUsed - before) / table.size;
}
console.log(`peers: ${(admitRate / 1e6).toFixed(2)} M admits per CPU-second (200k keys through a 100k table)` + (bytesPerEntry ? `, ${bytesPerEntry.toFixed(0)} B/entry` : ''));
if (sink < 0) console.log(sink);

// ---- record ----
if (RECORD) {
  const cpu = os.cpus();
  const machine = machineLine();
  const out = [
    `\n## Blocklists and per-IP table (${new Date().toISOString()})\n`,
    `Command: \`cd perf && RANGES=${RANGES} LOOKUPS=${LOOKUPS} NAIVE=${NAIVE} ROUNDS=${ROUNDS} node ${globalThis.gc ? '--expose-gc ' : ''}cidr-bench.mjs\`  `,
    `${machine}; load average at the end ${os.loadavg().map((x) => x.toFixed(1)).join(' / ')}.  `,
    `List: ${RANGES} ranges (${v4Ranges.length} IPv4 /14–/32, ${v6Ranges.length} IPv6 /28–/48 in 2000::/3), ${set.size} after merging. ` +
      `Pools of ${POOL} addresses per family, about half inside a range; every pooled address checked against a naive BigInt scan before timing.\n`,
    `Times are CPU time (user + system) of this process, median of ${ROUNDS} rounds after a warm-up.\n`,
    `| what | median | rounds (CPU ms) |`,
    `|---|---:|---|`,
    `| load ${RANGES} ranges (CidrSet.fromText) | ${median(loadMs).toFixed(1)} ms | ${loadMs.map((x) => x.toFixed(1)).join(', ')} |`,
    '',
    `| lookups per CPU-second | CidrSet#has | naive: BigInt parse + scan of all unmerged ranges | speed-up | hit rate |`,
    `|---|---:|---:|---:|---:|`,
    ...rows.map((r) => `| ${r.name} | ${(r.fastRate / 1e6).toFixed(2)} M/s | ${r.naiveRate.toFixed(0)} /s | ${Math.round(r.fastRate / r.naiveRate)}× | ${(r.hit * 100).toFixed(0)}% |`),
    '',
    heapPerLookup === null ? '' : `Heap growth during 1,000,000 lookups: ${heapPerLookup.toFixed(4)} B per lookup (worst pool, least of 3 trials); a call that allocated would show at least 16 B.  `,
    `PeerTable: ${(admitRate / 1e6).toFixed(2)} M admitConnection per CPU-second with ${keys.length.toLocaleString('en')} distinct keys churning through a ${KEYS.toLocaleString('en')}-entry table` +
      (bytesPerEntry === null ? '.' : `; ${bytesPerEntry.toFixed(0)} B of heap per entry (IPv4-sized key, record, Map slot).`),
    '',
  ];
  appendFileSync(new URL('./RESULTS.md', import.meta.url), out.join('\n') + '\n');
  console.log('appended to perf/RESULTS.md');
}
