// CIDR blocklists, checked at accept before TLS, and the per-IP accounting key.
//
// Lists use the country zone file format: one range per line ("1.2.3.0/24", "2001:db8::/32", or a bare address
// for a single host), '#' starts a comment, blank lines are ignored. Ranges are pre-masked and merged when the list
// loads (nginx does the same): a range with host bits set is masked and reported as a warning; overlapping and
// adjacent ranges become one. The result is two sorted arrays of disjoint [start, end] ranges, one for IPv4 (one
// uint32 per endpoint) and one for IPv6 (four uint32 words per endpoint, most significant first), searched in
// O(log n).
//
// IPv4-mapped IPv6 addresses (::ffff:a.b.c.d, what a dual-stack socket reports for an IPv4 peer) are IPv4 peers:
// they match the IPv4 ranges only. A list line written in that form with a prefix of /96 or longer becomes an IPv4
// range; an IPv6 range that merely covers ::ffff:0:0/96 (e.g. ::/0, "all of IPv6") does not block IPv4 peers.
//
// Hot path: `has` runs for every accepted connection. It parses the address into module-level scratch with
// charCodeAt (no substrings, no regexes, no BigInt) and allocates nothing. Guarded by perf/cidr-bench.mjs.

import { readFileSync } from 'node:fs';
import { ConfigError } from '../core/errors.js';


/** What one load found: lines parsed per family (before merging) and the warnings for host bits. */
export interface ParsedList { v4: number; v6: number; warnings: string[] }

/** parseAddress results other than an IPv4 value (which is >= 0). */
const NOT_AN_ADDRESS = -1;
const IPV6 = -2;

/** Hex digit value by char code, -1 for anything else. */
const HEX = new Int8Array(128).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) { HEX[65 + c] = 10 + c; HEX[97 + c] = 10 + c; }

/** Scratch for parsed addresses: the IPv6 words, and the IPv6 groups while parsing. (An IPv4 value travels as a
 *  return value: stored in a module variable, a value >= 2^31 would be boxed, an allocation per call.) */
const scratchV6 = new Uint32Array(4);
const groups = new Uint16Array(8);

/**
 * Strict dotted-quad IPv4 in s[from, to): four decimal octets 0..255, no leading zeros (Node's net.isIPv4 and the
 * PROXY protocol agree; "010" would be octal to inet_aton). Returns the address as an unsigned number, or -1.
 */
export function parseIpv4(s: string, from: number, to: number): number {
  let value = 0;
  let octet = 0;
  let digits = 0;
  let dots = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits === 1 && octet === 0) return -1;
      octet = octet * 10 + (c - 48);
      if (octet > 255) return -1;
      digits++;
    } else if (c === 46 && digits > 0 && dots < 3) {
      value = value * 256 + octet;
      octet = 0;
      digits = 0;
      dots++;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + octet;
}

/**
 * Any textual IPv6 form in s[from, to) (RFC 4291 2.2: full, '::'-compressed, embedded IPv4, either case) into
 * `out` as four words, most significant first. No zone id. Returns false if it isn't one.
 */
export function parseIpv6(s: string, from: number, to: number, out: Uint32Array): boolean {
  let n = 0;
  let gap = -1;
  let i = from;
  if (to - from < 2) return false;
  if (s.charCodeAt(i) === 58) {
    if (s.charCodeAt(i + 1) !== 58) return false;
    gap = 0;
    i += 2;
  }
  while (i < to) {
    const start = i;
    let v = 0;
    while (i < to) {
      const c = s.charCodeAt(i);
      const h = c < 128 ? HEX[c]! : -1;
      if (h < 0) break;
      v = v * 16 + h;
      i++;
    }
    const digits = i - start;
    if (digits === 0) return false;
    if (i < to && s.charCodeAt(i) === 46) {
      if (n > 6) return false;
      const v4 = parseIpv4(s, start, to);
      if (v4 < 0) return false;
      groups[n++] = v4 >>> 16;
      groups[n++] = v4 & 0xffff;
      break;
    }
    if (digits > 4 || n === 8) return false;
    groups[n++] = v;
    if (i === to) break;
    if (s.charCodeAt(i) !== 58) return false;
    i++;
    if (i < to && s.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === to) {
      return false;
    }
  }
  if (gap >= 0) {
    if (n === 8) return false;
    const tail = n - gap;
    for (let k = 0; k < tail; k++) groups[7 - k] = groups[n - 1 - k]!;
    for (let k = gap; k < 8 - tail; k++) groups[k] = 0;
  } else if (n !== 8) {
    return false;
  }
  for (let k = 0; k < 4; k++) out[k] = ((groups[2 * k]! << 16) | groups[2 * k + 1]!) >>> 0;
  return true;
}

/**
 * A socket address as Node reports it ('1.2.3.4', '::1', '::ffff:1.2.3.4', 'fe80::1%eth0'); the zone id is ignored.
 * Returns the IPv4 value (also for an IPv4-mapped address), IPV6 with the words in scratchV6, or NOT_AN_ADDRESS.
 */
function parseAddress(s: string): number {
  // The first separator decides the family: a dotted quad has a '.' within 4 characters, IPv6 a ':' within 5.
  const n = s.length;
  for (let i = 0; i < n && i < 5; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) return parseIpv4(s, 0, n);
    if (c === 58) {
      const zone = s.indexOf('%', i);
      if (!parseIpv6(s, 0, zone < 0 ? n : zone, scratchV6)) return NOT_AN_ADDRESS;
      return isMapped(scratchV6) ? scratchV6[3]! : IPV6;
    }
  }
  return NOT_AN_ADDRESS;
}

function isMapped(w: Uint32Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0xffff;
}

/** IPv6 words to text exactly as libuv's inet_ntop (what Node's remoteAddress shows): lower case, the first longest
 *  run of two or more zero groups as '::', ::a.b.c.d and ::ffff:a.b.c.d with the IPv4 part dotted. */
export function formatIpv6(w: ArrayLike<number>): string {
  const g: number[] = [];
  for (let k = 0; k < 4; k++) g.push(w[k]! >>> 16, w[k]! & 0xffff);
  let bestBase = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (g[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) { bestBase = i; bestLen = j - i; }
    i = j;
  }
  if (bestLen < 2) bestBase = -1;
  if (bestBase === 0 && (bestLen === 6 || (bestLen === 5 && g[5] === 0xffff))) {
    return (bestLen === 5 ? '::ffff:' : '::') + formatIpv4(w[3]! >>> 0);
  }
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestBase) {
      out += ':';
      i += bestLen - 1;
      continue;
    }
    if (i !== 0) out += ':';
    out += g[i]!.toString(16);
  }
  return bestBase >= 0 && bestBase + bestLen === 8 ? out + ':' : out;
}

export function formatIpv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** A loopback peer (127.0.0.0/8, ::1, or 127.x mapped into IPv6): trusted with /metrics without a token. */
export function isLoopback(addr: string): boolean {
  return addr.startsWith('127.') || addr === '::1' || addr.startsWith('::ffff:127.');
}

/**
 * Per-IP accounting key: an IPv4 address as is (an IPv4-mapped IPv6 address as its IPv4 form), an IPv6 address as
 * its /64 ('2001:db8:1:2::/64'), since one subscriber usually holds a whole /64. A string that isn't an address
 * is returned unchanged.
 */
export function ipKey(remoteAddress: string): string {
  // IPv4 as the kernel gives it (the common case, and every flood's): the key is the address itself, unparsed.
  if (!remoteAddress.includes(':')) return remoteAddress;
  const parsed = parseAddress(remoteAddress);
  if (parsed >= 0) return formatIpv4(parsed); // IPv4-mapped IPv6 (::ffff:a.b.c.d)
  if (parsed === NOT_AN_ADDRESS) return remoteAddress;
  scratchV6[2] = 0;
  scratchV6[3] = 0;
  return formatIpv6(scratchV6) + '/64';
}

/** Prefix length in s[from, to): decimal 0..max, no leading zeros. -1 if invalid. */
function parsePrefix(s: string, from: number, to: number, max: number): number {
  if (to - from < 1 || to - from > 3 || (to - from > 1 && s.charCodeAt(from) === 48)) return -1;
  let p = 0;
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    p = p * 10 + (c - 48);
  }
  return p <= max ? p : -1;
}

/** Network mask of `bits` leading ones in a 32-bit word (bits clamped to 0..32). */
function wordMask(bits: number): number {
  return bits <= 0 ? 0 : bits >= 32 ? 0xffffffff : (0xffffffff << (32 - bits)) >>> 0;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 13 || c === 0xfeff;
}

/** Compares the 128-bit values a[ai..ai+3] and b[bi..bi+3]. Lookups only: kept monomorphic (Uint32Array) so the
 *  element loads stay unboxed; loading uses cmp128. */
function cmpWords(a: Uint32Array, ai: number, b: Uint32Array, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const d = a[ai + k]! - b[bi + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Compares the 128-bit values a[ai..ai+3] and b[bi..bi+3] (load time, plain arrays and typed arrays). */
function cmp128(a: ArrayLike<number>, ai: number, b: ArrayLike<number>, bi: number): number {
  for (let k = 0; k < 4; k++) {
    const d = a[ai + k]! - b[bi + k]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** True if the 128-bit start s[si..] is at most e[ei..] + 1, i.e. the ranges touch or overlap. */
function touches128(s: ArrayLike<number>, si: number, e: ArrayLike<number>, ei: number): boolean {
  if (cmp128(s, si, e, ei) <= 0) return true;
  // s > e here, so e is not all ones and e + 1 does not wrap.
  let carry = 1;
  for (let k = 3; k >= 0; k--) {
    const sum = e[ei + k]! + carry;
    carry = sum > 0xffffffff ? 1 : 0;
    if ((sum >>> 0) !== s[si + k]) return false;
  }
  return true;
}

export class CidrSet {
  /** Merged ranges, IPv4 then IPv6. */
  readonly size: number;
  private readonly v4Start: Uint32Array;
  private readonly v4End: Uint32Array;
  private readonly v6Start: Uint32Array;
  private readonly v6End: Uint32Array;
  private readonly v6Count: number;

  private constructor(v4Start: Uint32Array, v4End: Uint32Array, v6Start: Uint32Array, v6End: Uint32Array) {
    this.v4Start = v4Start;
    this.v4End = v4End;
    this.v6Start = v6Start;
    this.v6End = v6End;
    this.v6Count = v6Start.length >>> 2;
    this.size = v4Start.length + this.v6Count;
  }

  static empty(): CidrSet {
    return new CidrSet(new Uint32Array(0), new Uint32Array(0), new Uint32Array(0), new Uint32Array(0));
  }

  /** Parses and merges lists. Throws ConfigError naming source:line for a line that isn't a range. */
  static fromText(texts: { source: string; text: string }[]): { set: CidrSet } & ParsedList {
    const v4: number[] = [];
    const v6: number[] = [];
    const warnings: string[] = [];
    for (const { source, text } of texts) parseList(source, text, v4, v6, warnings);
    const set = new CidrSet(...mergeV4(v4), ...mergeV6(v6));
    return { set, v4: v4.length / 2, v6: v6.length / 8, warnings };
  }

  /** Reads and parses list files. An unreadable file is a ConfigError naming it. */
  static fromFiles(paths: string[]): { set: CidrSet } & ParsedList {
    const texts = paths.map((path) => {
      try {
        return { source: path, text: readFileSync(path, 'utf8') };
      } catch (err) {
        throw new ConfigError(`${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? String(err)})`);
      }
    });
    return CidrSet.fromText(texts);
  }

  /** The merged ranges as nftables interval elements: `a.b.c.d`, `a.b.c.d-e.f.g.h` (IPv6 likewise). */
  elements(): { v4: string[]; v6: string[] } {
    const v4: string[] = [];
    for (let i = 0; i < this.v4Start.length; i++) {
      const a = this.v4Start[i]!, b = this.v4End[i]!;
      v4.push(a === b ? formatIpv4(a) : `${formatIpv4(a)}-${formatIpv4(b)}`);
    }
    const v6: string[] = [];
    for (let i = 0; i < this.v6Count; i++) {
      const a = formatIpv6(this.v6Start.subarray(4 * i, 4 * i + 4)), b = formatIpv6(this.v6End.subarray(4 * i, 4 * i + 4));
      v6.push(a === b ? a : `${a}-${b}`);
    }
    return { v4, v6 };
  }

  /** Whether a peer address (as net.Socket#remoteAddress gives it) is in the set. Unparseable → false. */
  has(remoteAddress: string): boolean {
    const parsed = parseAddress(remoteAddress);
    if (parsed >= 0) return this.hasV4(parsed);
    return parsed === IPV6 && this.hasV6(scratchV6);
  }

  private hasV4(x: number): boolean {
    const starts = this.v4Start;
    let lo = 0;
    let hi = starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= x) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && x <= this.v4End[lo - 1]!;
  }

  private hasV6(w: Uint32Array): boolean {
    const starts = this.v6Start;
    const w0 = w[0]!;
    let lo = 0;
    let hi = this.v6Count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const s0 = starts[mid << 2]!; // the top 32 bits decide almost every step
      if (s0 < w0 || (s0 === w0 && cmpWords(starts, mid << 2, w, 0) <= 0)) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && cmpWords(w, 0, this.v6End, (lo - 1) << 2) <= 0;
  }
}

/** Appends each line's range to v4 ([start, end] pairs) or v6 ([start words, end words] octets). */
function parseList(source: string, text: string, v4: number[], v6: number[], warnings: string[]): void {
  const words = new Uint32Array(4);
  let lineNo = 0;
  for (let pos = 0; pos <= text.length;) {
    let eol = text.indexOf('\n', pos);
    if (eol < 0) eol = text.length;
    lineNo++;
    let from = pos;
    let to = eol;
    pos = eol + 1;
    for (let i = from; i < to; i++) {
      if (text.charCodeAt(i) === 35) { to = i; break; }
    }
    while (from < to && isSpace(text.charCodeAt(from))) from++;
    while (to > from && isSpace(text.charCodeAt(to - 1))) to--;
    if (from === to) continue;
    const where = `${source}:${lineNo}`;
    const bad = (why: string): ConfigError =>
      new ConfigError(`${where}: ${why}: "${text.slice(from, Math.min(to, from + 100))}"`);
    let slash = from;
    while (slash < to && text.charCodeAt(slash) !== 47) slash++;
    const v4Value = parseIpv4(text, from, slash);
    if (v4Value >= 0) {
      const prefix = slash === to ? 32 : parsePrefix(text, slash + 1, to, 32);
      if (prefix < 0) throw bad('bad IPv4 prefix length');
      pushV4(v4, v4Value, prefix, where, warnings);
      continue;
    }
    if (!parseIpv6(text, from, slash, words)) throw bad('not an IPv4 or IPv6 address or range');
    const prefix = slash === to ? 128 : parsePrefix(text, slash + 1, to, 128);
    if (prefix < 0) throw bad('bad IPv6 prefix length');
    if (prefix >= 96 && isMapped(words)) {
      pushV4(v4, words[3]!, prefix - 96, where, warnings);
      continue;
    }
    let hostBits = false;
    const at = v6.length;
    for (let k = 0; k < 4; k++) {
      const mask = wordMask(prefix - 32 * k);
      if ((words[k]! & ~mask) !== 0) hostBits = true;
      v6[at + k] = (words[k]! & mask) >>> 0;
      v6[at + 4 + k] = (words[k]! | ~mask) >>> 0;
    }
    if (hostBits) {
      const masked = formatIpv6(v6.slice(at, at + 4));
      warnings.push(`${where}: ${formatIpv6(words)}/${prefix} has host bits set; using ${masked}/${prefix}`);
    }
  }
}

function pushV4(v4: number[], value: number, prefix: number, where: string, warnings: string[]): void {
  const mask = wordMask(prefix);
  const start = (value & mask) >>> 0;
  if (start !== value) {
    warnings.push(`${where}: ${formatIpv4(value)}/${prefix} has host bits set; using ${formatIpv4(start)}/${prefix}`);
  }
  v4.push(start, (value | ~mask) >>> 0);
}

/** Sorts [start, end] pairs and merges overlapping or adjacent ones. */
function mergeV4(pairs: number[]): [Uint32Array, Uint32Array] {
  const n = pairs.length / 2;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => pairs[2 * a]! - pairs[2 * b]!);
  const starts = new Uint32Array(n);
  const ends = new Uint32Array(n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const s = pairs[2 * order[k]!]!;
    const e = pairs[2 * order[k]! + 1]!;
    if (m > 0 && s <= ends[m - 1]! + 1) {
      if (e > ends[m - 1]!) ends[m - 1] = e;
    } else {
      starts[m] = s;
      ends[m] = e;
      m++;
    }
  }
  return [starts.slice(0, m), ends.slice(0, m)];
}

/** Sorts IPv6 ranges (8 words each: start, end) and merges overlapping or adjacent ones. */
function mergeV6(ranges: number[]): [Uint32Array, Uint32Array] {
  const n = ranges.length / 8;
  const order = new Uint32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => cmp128(ranges, 8 * a, ranges, 8 * b));
  const starts = new Uint32Array(4 * n);
  const ends = new Uint32Array(4 * n);
  let m = 0;
  for (let k = 0; k < n; k++) {
    const at = 8 * order[k]!;
    if (m > 0 && touches128(ranges, at, ends, 4 * (m - 1))) {
      if (cmp128(ranges, at + 4, ends, 4 * (m - 1)) > 0) {
        for (let j = 0; j < 4; j++) ends[4 * (m - 1) + j] = ranges[at + 4 + j]!;
      }
    } else {
      for (let j = 0; j < 4; j++) {
        starts[4 * m + j] = ranges[at + j]!;
        ends[4 * m + j] = ranges[at + 4 + j]!;
      }
      m++;
    }
  }
  return [starts.slice(0, 4 * m), ends.slice(0, 4 * m)];
}
