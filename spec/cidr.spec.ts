import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32 } from './random.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { SocketAddress } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CidrSet, formatIpv6, ipKey, isLoopback, parseIpv6 } from '../lib/guard/cidr.js';
import { ConfigError } from '../lib/core/errors.js';

// ---- an independent reference: BigInt ranges, text produced without lib/guard/cidr.ts ----

const prng = mulberry32;

const V4_ALL = (1n << 32n) - 1n;
const V6_ALL = (1n << 128n) - 1n;

function v4Text(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((s) => String((v >> s) & 255n)).join('.');
}

function v6Groups(v: bigint): string[] {
  const g: string[] = [];
  for (let i = 7; i >= 0; i--) g.push(((v >> BigInt(16 * i)) & 0xffffn).toString(16));
  return g;
}

/** One of several textual forms of an IPv6 address: Node's compressed form, full, zero-padded upper case. */
function v6Text(v: bigint, style: number): string {
  if (style === 0) return new SocketAddress({ address: v6Groups(v).join(':'), family: 'ipv6' }).address;
  if (style === 1) return v6Groups(v).join(':');
  return v6Groups(v).map((g) => g.padStart(4, '0')).join(':').toUpperCase();
}

interface Range { start: bigint; end: bigint }

function rangeOf(value: bigint, prefix: number, bits: number): Range {
  const hostBits = BigInt(bits - prefix);
  const start = (value >> hostBits) << hostBits;
  return { start, end: start + (1n << hostBits) - 1n };
}

function randomBig(rand: () => number, bits: number): bigint {
  let v = 0n;
  for (let i = 0; i < bits; i += 16) v = (v << 16n) | BigInt(Math.floor(rand() * 65536));
  return v >> BigInt(Math.ceil(bits / 16) * 16 - bits);
}

function randomIn(rand: () => number, r: Range): bigint {
  const span = r.end - r.start + 1n;
  return r.start + (randomBig(rand, 128) % span);
}

interface Generated { texts: { source: string; text: string }[]; v4: Range[]; v6: Range[]; hostBitLines: string[]; lines: number }

/** `count` ranges over three sources: overlaps, children, adjacent runs, host bits, bare addresses, mapped forms. */
function generate(count: number, seed: number): Generated {
  const rand = prng(seed);
  const v4: Range[] = [];
  const v6: Range[] = [];
  const hostBitLines: string[] = [];
  const sources = ['zones/aa.zone', 'zones/bb.zone', 'extra.txt'].map((source) => ({ source, lines: [] as string[] }));
  const v6Bases = Array.from({ length: 12 }, () => randomBig(rand, 32) << 96n);
  for (let i = 0; i < count; i++) {
    const src = sources[Math.floor(rand() * sources.length)]!;
    if (rand() < 0.05) src.lines.push(rand() < 0.5 ? '' : `# comment ${i}`);
    const r = rand();
    const isV6 = r < 0.42;
    const bits = isV6 ? 128 : 32;
    const list = isV6 ? v6 : v4;
    let prefix: number;
    let value: bigint;
    const kind = rand();
    if (kind < 0.15 && list.length > 0) {
      // child of an earlier range (overlap)
      const parent = list[Math.floor(rand() * list.length)]!;
      const parentPrefix = bits - (parent.end - parent.start + 1n).toString(2).length + 1;
      prefix = Math.min(bits, parentPrefix + Math.floor(rand() * 9));
      value = randomIn(rand, parent);
    } else if (kind < 0.3 && list.length > 0) {
      // the next block after an earlier one, same size (adjacent)
      const prev = list[Math.floor(rand() * list.length)]!;
      prefix = bits - (prev.end - prev.start + 1n).toString(2).length + 1;
      value = prev.end + 1n;
      if (value > (isV6 ? V6_ALL : V4_ALL)) value = 0n;
    } else if (isV6) {
      prefix = 24 + Math.floor(rand() * 105);
      value = v6Bases[Math.floor(rand() * v6Bases.length)]! | (randomBig(rand, 128) >> 32n);
    } else {
      prefix = 14 + Math.floor(rand() * 19);
      value = randomBig(rand, 32);
    }
    const range = rangeOf(value, prefix, bits);
    const setHostBits = rand() < 0.1 && prefix < bits;
    const written = setHostBits ? range.start | (1n + (randomBig(rand, 128) % (range.end - range.start))) : range.start;
    const bare = prefix === bits && rand() < 0.5;
    let line: string;
    if (!isV6 && rand() < 0.03) {
      line = `::ffff:${v4Text(written)}/${prefix + 96}`; // mapped form of an IPv4 range
    } else {
      const addr = isV6 ? v6Text(written, Math.floor(rand() * 3)) : v4Text(written);
      line = bare ? addr : `${addr}/${prefix}`;
    }
    if (rand() < 0.05) line = `  ${line}\t# trailing comment`;
    if (rand() < 0.05) line += '\r';
    src.lines.push(line);
    if (setHostBits) hostBitLines.push(`${src.source}:${src.lines.length}:`);
    list.push(range);
  }
  return {
    texts: sources.map((s) => ({ source: s.source, text: s.lines.join('\n') + '\n' })),
    v4,
    v6,
    hostBitLines,
    lines: count,
  };
}

function cmpBig(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Membership of every query by a sweep over sorted queries (diff array), independent of lib/guard/cidr.ts. */
function referenceMembership(ranges: Range[], queries: bigint[]): boolean[] {
  const order = queries.map((_, i) => i).sort((a, b) => cmpBig(queries[a]!, queries[b]!));
  const sorted = order.map((i) => queries[i]);
  const lowerBound = (x: bigint, strict: boolean): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (strict ? sorted[mid]! <= x : sorted[mid]! < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  const diff = new Int32Array(sorted.length + 1);
  for (const r of ranges) {
    diff[lowerBound(r.start, false)]!++;
    diff[lowerBound(r.end, true)]!--;
  }
  const out = new Array<boolean>(queries.length);
  let depth = 0;
  for (let k = 0; k < sorted.length; k++) {
    depth += diff[k]!;
    out[order[k]!] = depth > 0;
  }
  return out;
}

function mergedCount(ranges: Range[]): number {
  const sorted = [...ranges].sort((a, b) => cmpBig(a.start, b.start));
  let count = 0;
  let end = -2n;
  for (const r of sorted) {
    if (r.start > end + 1n) count++;
    if (r.end > end) end = r.end;
  }
  return count;
}

const RANGES = 50_000;
const data = generate(RANGES, 0x7157);
const loaded = CidrSet.fromText(data.texts);

test('cidr :: parses 50,000 generated ranges and merges them like the reference', () => {
  assert.is(loaded.v4 + loaded.v6, RANGES);
  assert.is(loaded.v4, data.v4.length);
  assert.is(loaded.v6, data.v6.length);
  assert.is(loaded.set.size, mergedCount(data.v4) + mergedCount(data.v6));
  assert.ok(loaded.set.size < RANGES, 'overlapping and adjacent ranges were merged');
});

test('cidr :: warns about host bits, naming source:line, once per such line', () => {
  assert.is(loaded.warnings.length, data.hostBitLines.length);
  assert.ok(data.hostBitLines.length > 1000);
  const named = loaded.warnings.map((w) => w.slice(0, w.indexOf(': ') + 1)).sort();
  assert.equal(named, [...data.hostBitLines].sort());
  for (const w of loaded.warnings) assert.match(w, /^\S+:\d+: \S+\/\d+ has host bits set; using \S+\/\d+$/);
});

test('cidr :: membership matches the reference on ~100k addresses (random, edges, inside, mapped, zones)', () => {
  const rand = prng(99);
  const v4q: bigint[] = [];
  const v6q: bigint[] = [];
  for (let i = 0; i < 36_000; i++) v4q.push(randomBig(rand, 32));
  for (let i = 0; i < 3_000; i++) {
    const r = data.v4[Math.floor(rand() * data.v4.length)]!;
    v4q.push(r.start, r.end, randomIn(rand, r));
    if (r.start > 0n) v4q.push(r.start - 1n);
    if (r.end < V4_ALL) v4q.push(r.end + 1n);
  }
  for (let i = 0; i < 4_000; i++) {
    const r = data.v6[Math.floor(rand() * data.v6.length)]!;
    v6q.push(r.start, r.end, randomIn(rand, r));
    if (r.start > 0n) v6q.push(r.start - 1n);
    if (r.end < V6_ALL) v6q.push(r.end + 1n);
    v6q.push(r.start ^ (randomBig(rand, 128) >> 24n)); // nearby in the same /24
  }
  for (let i = 0; i < 8_000; i++) v6q.push(randomBig(rand, 128));
  const v4Expected = referenceMembership(data.v4, v4q);
  const v6Expected = referenceMembership(data.v6, v6q);

  let checked = 0;
  let hits = 0;
  const check = (address: string, expected: boolean): void => {
    if (loaded.set.has(address) !== expected) assert.unreachable(`has(${address}) should be ${expected}`);
    checked++;
    if (expected) hits++;
  };
  v4q.forEach((q, i) => {
    check(v4Text(q), v4Expected[i]!);
    if (i % 4 === 0) check(`::ffff:${v4Text(q)}`, v4Expected[i]!);
    if (i % 16 === 1) check(`::ffff:${(q >> 16n).toString(16)}:${(q & 0xffffn).toString(16)}`, v4Expected[i]!);
    if (i % 16 === 2) check(`0:0:0:0:0:FFFF:${v4Text(q)}`, v4Expected[i]!);
  });
  v6q.forEach((q, i) => {
    if ((q >> 32n) === 0xffffn) return; // mapped addresses are IPv4 peers; covered above
    check(v6Text(q, i % 3), v6Expected[i]!);
    if (i % 8 === 0) check(`${v6Text(q, 0)}%eth0`, v6Expected[i]!);
  });
  assert.ok(checked > 100_000, `checked ${checked}`);
  assert.ok(hits > checked / 5 && hits < (checked * 4) / 5, `hits ${hits} of ${checked}: both outcomes exercised`);
});

test('cidr :: the sweep reference agrees with a brute-force scan', () => {
  const rand = prng(7);
  const queries: bigint[] = [];
  for (let i = 0; i < 150; i++) {
    const r = data.v4[Math.floor(rand() * data.v4.length)]!;
    queries.push(i % 2 ? r.end + 1n : randomBig(rand, 32));
  }
  const swept = referenceMembership(data.v4, queries);
  queries.forEach((q, i) => {
    const brute = data.v4.some((r) => r.start <= q && q <= r.end);
    assert.is(swept[i], brute);
    assert.is(loaded.set.has(v4Text(q)), brute);
  });
});

test('cidr :: whole-space and edge ranges', () => {
  const { set } = CidrSet.fromText([
    { source: 'edges', text: '0.0.0.0/0\nffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\n::/128\n' },
  ]);
  assert.ok(set.has('0.0.0.0') && set.has('255.255.255.255') && set.has('::ffff:255.255.255.255'));
  assert.ok(set.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff') && set.has('::'));
  assert.not.ok(set.has('::1') || set.has('ffff:ffff:ffff:ffff:ffff:ffff:ffff:fffe'));
  const all6 = CidrSet.fromText([{ source: 'x', text: '::/0\n' }]).set;
  assert.ok(all6.has('2001:db8::1') && all6.has('::1'));
  assert.not.ok(all6.has('::ffff:1.2.3.4'), 'an IPv6-wide range does not block IPv4 peers on a dual-stack socket');
  assert.not.ok(all6.has('1.2.3.4'));
  const mapped = CidrSet.fromText([{ source: 'x', text: '::ffff:10.0.0.0/104\n::ffff:0:0/96\n' }]);
  assert.is(mapped.v4, 2);
  assert.ok(mapped.set.has('10.9.9.9') && mapped.set.has('192.0.2.1'));
  const adjacent = CidrSet.fromText([{ source: 'x', text: '10.0.0.0/25\n10.0.0.128/25\n10.0.1.0/24\n2001:db8::/33\n2001:db8:8000::/33\n' }]);
  assert.is(adjacent.set.size, 2);
  assert.ok(adjacent.set.has('10.0.1.255') && adjacent.set.has('2001:db8:ffff::1'));
  assert.not.ok(adjacent.set.has('10.0.2.0') || adjacent.set.has('2001:db9::'));
  assert.not.ok(CidrSet.empty().has('1.2.3.4'));
  assert.is(CidrSet.empty().size, 0);
});

test('cidr :: malformed lines throw a ConfigError naming source:line', () => {
  const bad = [
    '1.2.3.4/33', '1.2.3', '256.1.1.1', '1.2.3.4/', '/24', '1.2.3.4/024', '01.2.3.4', '1.2.3.4 5.6.7.8',
    '::1/129', '1:2:3:4:5:6:7:8:9', '1::2::3', 'gggg::', '12345::', 'fe80::1%eth0', '::ffff:1.2.3.4.5', 'example.com',
    '1.2.3.4/8/8', '::1/-1', '1:2:3:4:5:6:7:8::', ':1::', '1::2:',
  ];
  for (const line of bad) {
    try {
      CidrSet.fromText([{ source: 'list.txt', text: `# header\n10.0.0.0/8\n${line}\n` }]);
      assert.unreachable(`accepted ${line}`);
    } catch (err) {
      assert.instance(err, ConfigError, line);
      assert.ok((err as Error).message.startsWith('list.txt:3: '), (err as Error).message);
    }
  }
});

test('cidr :: has() is false for anything that is not an address, and never throws', () => {
  const { set } = CidrSet.fromText([{ source: 'x', text: '0.0.0.0/0\n::/0\n' }]);
  for (const junk of ['', ':', ':::', '1.2.3', '1.2.3.4.5', '1.2.3.4%eth0', 'localhost', '::g', '1:2:3:4:5:6:7:8:9', ' 1.2.3.4', '\u00e9::1']) {
    assert.is(set.has(junk), false, JSON.stringify(junk));
  }
});

test('cidr :: fromFiles reads lists; an unreadable one is a ConfigError naming it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timegif-cidr-'));
  try {
    const a = join(dir, 'a.zone');
    const b = join(dir, 'b.zone');
    writeFileSync(a, '192.0.2.0/24\n');
    writeFileSync(b, '\ufeff2001:db8::/32\r\n198.51.100.7/24\r\n');
    const { set, warnings } = CidrSet.fromFiles([a, b]);
    assert.ok(set.has('192.0.2.77') && set.has('2001:db8::5') && set.has('198.51.100.200'));
    assert.equal(warnings, [`${b}:2: 198.51.100.7/24 has host bits set; using 198.51.100.0/24`]);
    const missing = join(dir, 'missing.zone');
    assert.throws(() => CidrSet.fromFiles([a, missing]), (err: Error) => err instanceof ConfigError && err.message.includes(missing));
    writeFileSync(b, 'nonsense\n');
    assert.throws(() => CidrSet.fromFiles([a, b]), (err: Error) => err instanceof ConfigError && err.message.startsWith(`${b}:1:`));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cidr :: ipKey groups IPv6 by /64 and unmaps IPv4', () => {
  const cases: [string, string][] = [
    ['203.0.113.9', '203.0.113.9'],
    ['::ffff:203.0.113.9', '203.0.113.9'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:0001:0002:ffff::1', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8::/64'],
    ['::1', '::/64'],
    ['fe80::1%eth0', 'fe80::/64'],
    ['0:1:2:3::', '0:1:2:3::/64'],
    ['not an address', 'not an address'],
  ];
  for (const [input, key] of cases) assert.is(ipKey(input), key, input);
});

test('cidr :: isLoopback is 127.0.0.0/8 and ::1 (also IPv4-mapped), nothing else', () => {
  for (const a of ['127.0.0.1', '127.255.3.4', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopback(a), a);
  for (const a of ['10.0.0.1', '128.0.0.1', '1.127.0.0', '::2', '::ffff:10.0.0.1', '2001:db8::1', '']) assert.not.ok(isLoopback(a), a);
});

test('cidr :: formats IPv6 exactly as Node shows remoteAddress', () => {
  const rand = prng(5);
  const words = new Uint32Array(4);
  for (let i = 0; i < 20_000; i++) {
    const groups = Array.from({ length: 8 }, () => {
      const r = rand();
      return r < 0.55 ? 0 : r < 0.65 ? 0xffff : Math.floor(rand() * 65536);
    });
    const full = groups.map((g) => g.toString(16)).join(':');
    assert.ok(parseIpv6(full, 0, full.length, words));
    const expected = new SocketAddress({ address: full, family: 'ipv6' }).address;
    if (formatIpv6(words) !== expected) assert.is(formatIpv6(words), expected, full);
  }
});

test.run();
