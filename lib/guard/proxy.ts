// PROXY protocol v1 (text) and v2 (binary) headers, as in haproxy's doc/proxy-protocol.txt.
//
// Accepted only from configured proxy addresses (the caller decides); never guessed. The caller hands in every
// byte received so far (bounded by PROXY_MAX_HEADER_BYTES) and gets NEED_MORE, DONE (with the header's length in
// `consumed`; the bytes after it belong to the next layer), or BAD with a stable reason as soon as the bytes can no
// longer become a valid header. Addresses come out in the text form Node gives remoteAddress (dotted IPv4,
// compressed lower-case IPv6) so CidrSet#has and ipKey take them as they are.
//
// v2 TLVs are skipped, but their lengths must tile the header exactly, and a PP2_TYPE_CRC32C TLV is verified
// (the spec makes that a MUST for receivers that support it). AF_UNIX, AF_UNSPEC and protocol UNSPEC fall back to
// the connection's own addresses (`local`), which the spec allows.
//
// Runs once per connection from a trusted proxy, not per request: clarity over micro-optimisation here.

import { formatIpv4, formatIpv6, parseIpv4, parseIpv6 } from './cidr.js';

export const PROXY = { NEED_MORE: 0, DONE: 1, BAD: 2 } as const;
export type ProxyStatus = (typeof PROXY)[keyof typeof PROXY];

/** Why a header was refused; '' unless status is BAD. */
export type ProxyReason =
  | ''
  | 'bad-signature'
  | 'bad-v1-line'
  | 'bad-v1-protocol'
  | 'bad-v1-address'
  | 'bad-v1-port'
  | 'v1-too-long'
  | 'bad-v2-version'
  | 'bad-v2-command'
  | 'bad-v2-family'
  | 'bad-v2-protocol'
  | 'bad-v2-length'
  | 'bad-v2-tlv'
  | 'bad-v2-crc'
  | 'v2-too-long';

export interface ProxyResult {
  status: ProxyStatus;
  /** Header bytes on DONE (the stream continues after them); 0 otherwise. */
  consumed: number;
  /** LOCAL command, UNKNOWN or an unsupported family: keep the socket's own addresses. */
  local: boolean;
  srcAddr: string;
  srcPort: number;
  dstAddr: string;
  dstPort: number;
  reason: ProxyReason;
}

/** The longest header accepted. v1 lines are at most 107 bytes; 536 bytes (the minimum IPv4 MSS the spec has senders
 *  fit a header into) holds a v2 header with AF_UNIX addresses (16 + 216) and ~300 bytes of TLVs. */
export const PROXY_MAX_HEADER_BYTES = 536;
/** "PROXY UNKNOWN " + two full IPv6 addresses + two ports + CRLF (spec section 2.1). */
export const PROXY_V1_MAX_BYTES = 107;

const V1_SIGNATURE = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const V2_SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const V2_HEADER_BYTES = 16;
const V2 = { LOCAL: 0, PROXY: 1, AF_INET: 1, AF_INET6: 2, AF_UNIX: 3, PROTO_UNSPEC: 0, DGRAM: 2 } as const;
/** Address block length by family (AF_UNSPEC, AF_INET, AF_INET6, AF_UNIX). */
const V2_ADDRESS_BYTES = [0, 12, 36, 216];
const PP2_TYPE_CRC32C = 0x03;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;

function result(status: ProxyStatus, reason: ProxyReason): ProxyResult {
  return { status, consumed: 0, local: false, srcAddr: '', srcPort: 0, dstAddr: '', dstPort: 0, reason };
}

function local(consumed: number): ProxyResult {
  const r = result(PROXY.DONE, '');
  r.consumed = consumed;
  r.local = true;
  return r;
}

/** Parses the PROXY header at the start of `buf` (all bytes received so far). */
export function parseProxyHeader(buf: Buffer): ProxyResult {
  if (buf.length === 0) return result(PROXY.NEED_MORE, '');
  if (buf[0] === V1_SIGNATURE[0]) return parseV1(buf);
  if (buf[0] === V2_SIGNATURE[0]) return parseV2(buf);
  return result(PROXY.BAD, 'bad-signature');
}

function matchesPrefix(buf: Buffer, signature: number[]): boolean {
  const n = Math.min(buf.length, signature.length);
  for (let i = 0; i < n; i++) if (buf[i] !== signature[i]) return false;
  return true;
}

// ---- v1: "PROXY TCP4|TCP6|UNKNOWN src dst sport dport\r\n" ----

const V1_PROTOCOLS = ['TCP4 ', 'TCP6 ', 'UNKNOWN'];

function parseV1(buf: Buffer): ProxyResult {
  if (!matchesPrefix(buf, V1_SIGNATURE)) return result(PROXY.BAD, 'bad-signature');
  const limit = Math.min(buf.length, PROXY_V1_MAX_BYTES);
  // Find the CRLF; a lone CR or LF is never a line end (spec 2.1).
  let eol = -1;
  let end = limit;
  for (let i = V1_SIGNATURE.length; i < limit; i++) {
    const c = buf[i];
    if (c === LF) return result(PROXY.BAD, 'bad-v1-line');
    if (c === CR) {
      end = i;
      if (i + 1 >= buf.length) break;
      if (i + 1 >= PROXY_V1_MAX_BYTES) return result(PROXY.BAD, 'v1-too-long'); // the LF would be byte 108
      if (buf[i + 1] !== LF) return result(PROXY.BAD, 'bad-v1-line');
      eol = i;
      break;
    }
  }
  const complete = eol >= 0;
  if (!complete && buf.length >= PROXY_V1_MAX_BYTES) return result(PROXY.BAD, 'v1-too-long');
  const line = buf.toString('latin1', V1_SIGNATURE.length, end);

  let proto = -1;
  for (let p = 0; p < V1_PROTOCOLS.length; p++) {
    const name = V1_PROTOCOLS[p]!;
    if (line.startsWith(name) || (!complete && name.startsWith(line))) { proto = p; break; }
  }
  if (proto < 0) return result(PROXY.BAD, 'bad-v1-protocol');
  if (proto === 2) {
    // UNKNOWN: anything may follow a space before the CRLF, and the receiver ignores it.
    if (line.length > 7 && line.charCodeAt(7) !== SP) return result(PROXY.BAD, 'bad-v1-protocol');
    return complete ? local(eol + 2) : result(PROXY.NEED_MORE, '');
  }
  if (line.length < 5) return result(PROXY.NEED_MORE, '');

  const v6 = proto === 1;
  const fields = line.slice(5).split(' ');
  if (fields.length > 4) return result(PROXY.BAD, 'bad-v1-line');
  // Every field followed by a space (or the CRLF) is checked in full; a field still arriving only for its alphabet
  // and length, so junk is refused early.
  const last = complete ? fields.length : fields.length - 1;
  for (let f = 0; f < fields.length; f++) {
    const text = fields[f]!;
    const isPort = f >= 2;
    if (f < last) {
      if (text.length === 0) return result(PROXY.BAD, 'bad-v1-line');
      if (isPort && parsePort(text) < 0) return result(PROXY.BAD, 'bad-v1-port');
      if (!isPort && !validAddress(text, v6)) return result(PROXY.BAD, 'bad-v1-address');
    } else if (!couldBecome(text, isPort, v6)) {
      return result(PROXY.BAD, isPort ? 'bad-v1-port' : 'bad-v1-address');
    }
  }
  if (!complete) return result(PROXY.NEED_MORE, '');
  if (fields.length !== 4) return result(PROXY.BAD, 'bad-v1-line');
  const r = result(PROXY.DONE, '');
  r.consumed = eol + 2;
  r.srcAddr = canonical(fields[0]!, v6);
  r.dstAddr = canonical(fields[1]!, v6);
  r.srcPort = parsePort(fields[2]!);
  r.dstPort = parsePort(fields[3]!);
  return r;
}

const words = new Uint32Array(4);

function validAddress(text: string, v6: boolean): boolean {
  return v6 ? parseIpv6(text, 0, text.length, words) : parseIpv4(text, 0, text.length) >= 0;
}

function canonical(text: string, v6: boolean): string {
  if (!v6) return text;
  parseIpv6(text, 0, text.length, words);
  return formatIpv6(words);
}

/** Decimal 0..65535 without leading zeros, or -1. */
function parsePort(text: string): number {
  if (text.length === 0 || text.length > 5 || (text.length > 1 && text.charCodeAt(0) === 0x30)) return -1;
  let port = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    port = port * 10 + (c - 0x30);
  }
  return port <= 65535 ? port : -1;
}

/** Whether a field still arriving could be valid: right alphabet, not too long. */
function couldBecome(text: string, isPort: boolean, v6: boolean): boolean {
  const max = isPort ? 5 : v6 ? 45 : 15;
  if (text.length > max) return false;
  if (isPort && text.length > 1 && text.charCodeAt(0) === 0x30) return false;
  for (let i = 0; i < text.length; i++) {
    let c = text.charCodeAt(i);
    if (c >= 0x41 && c <= 0x46) c += 0x20; // A-F → a-f
    const digit = c >= 0x30 && c <= 0x39;
    const hex = digit || (c >= 0x61 && c <= 0x66);
    const ok = isPort ? digit : v6 ? hex || c === 0x3a || c === 0x2e : digit || c === 0x2e;
    if (!ok) return false;
  }
  return true;
}

// ---- v2: 12-byte signature, version/command, family/protocol, length, addresses, TLVs ----

function parseV2(buf: Buffer): ProxyResult {
  if (!matchesPrefix(buf, V2_SIGNATURE)) return result(PROXY.BAD, 'bad-signature');
  if (buf.length < 13) return result(PROXY.NEED_MORE, '');
  const version = buf[12]! >> 4;
  const command = buf[12]! & 0x0f;
  if (version !== 2) return result(PROXY.BAD, 'bad-v2-version');
  if (command !== V2.LOCAL && command !== V2.PROXY) return result(PROXY.BAD, 'bad-v2-command');
  if (buf.length < 14) return result(PROXY.NEED_MORE, '');
  const family = buf[13]! >> 4;
  const protocol = buf[13]! & 0x0f;
  if (family > V2.AF_UNIX) return result(PROXY.BAD, 'bad-v2-family');
  if (protocol > V2.DGRAM) return result(PROXY.BAD, 'bad-v2-protocol');
  if (buf.length < V2_HEADER_BYTES) return result(PROXY.NEED_MORE, '');
  const length = buf.readUInt16BE(14);
  const total = V2_HEADER_BYTES + length;
  if (total > PROXY_MAX_HEADER_BYTES) return result(PROXY.BAD, 'v2-too-long');
  // Addresses are used for PROXY over AF_INET/AF_INET6 with TCP or UDP; everything else keeps the socket's own.
  const inet = family === V2.AF_INET || family === V2.AF_INET6;
  const proxied = command === V2.PROXY && inet && protocol !== V2.PROTO_UNSPEC;
  const addressBytes = V2_ADDRESS_BYTES[family] ?? 0;
  if (proxied && length < addressBytes) return result(PROXY.BAD, 'bad-v2-length');
  if (buf.length < total) return result(PROXY.NEED_MORE, '');
  if (!proxied) return local(total);
  const tlvError = checkTlvs(buf, V2_HEADER_BYTES + addressBytes, total);
  if (tlvError !== '') return result(PROXY.BAD, tlvError);

  const r = result(PROXY.DONE, '');
  r.consumed = total;
  if (family === V2.AF_INET) {
    r.srcAddr = formatIpv4(buf.readUInt32BE(16));
    r.dstAddr = formatIpv4(buf.readUInt32BE(20));
    r.srcPort = buf.readUInt16BE(24);
    r.dstPort = buf.readUInt16BE(26);
  } else {
    r.srcAddr = formatV6At(buf, 16);
    r.dstAddr = formatV6At(buf, 32);
    r.srcPort = buf.readUInt16BE(48);
    r.dstPort = buf.readUInt16BE(50);
  }
  return r;
}

function formatV6At(buf: Buffer, at: number): string {
  for (let k = 0; k < 4; k++) words[k] = buf.readUInt32BE(at + 4 * k);
  return formatIpv6(words);
}

/** TLVs in buf[from, to) must tile it exactly; a CRC32C TLV must match the header (spec 2.2.3). */
function checkTlvs(buf: Buffer, from: number, to: number): ProxyReason {
  let crcAt = -1;
  let p = from;
  while (p < to) {
    if (p + 3 > to) return 'bad-v2-tlv';
    const length = (buf[p + 1]! << 8) | buf[p + 2]!;
    if (buf[p] === PP2_TYPE_CRC32C) {
      if (length !== 4 || crcAt >= 0) return 'bad-v2-tlv';
      crcAt = p + 3;
    }
    p += 3 + length;
  }
  if (p !== to) return 'bad-v2-tlv';
  if (crcAt >= 0 && crc32cSkipping(buf, to, crcAt) !== buf.readUInt32BE(crcAt)) return 'bad-v2-crc';
  return '';
}

const CRC32C_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  CRC32C_TABLE[n] = c >>> 0;
}

/** CRC32C (Castagnoli, reflected 0x82F63B78) of buf[0, end) with the four bytes at `zeroAt` read as zero. */
export function crc32cSkipping(buf: Uint8Array, end: number, zeroAt: number): number {
  let crc = 0xffffffff;
  for (let i = 0; i < end; i++) {
    const byte = i >= zeroAt && i < zeroAt + 4 ? 0 : buf[i]!;
    crc = CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/**
 * What Admission.proxyStep (admission.ts) makes of a trusted balancer's first bytes: MORE (keep reading), BAD_PROXY (malformed or too
 * long), REFUSED (the real client is blocked or over its rate), or the real client and the bytes after the header.
 * Here, not in app.ts, so the HTTP/1 connection can read them without importing the App at run time.
 */
export const MORE = 0;
export const BAD_PROXY = 1;
export const REFUSED = 2;
export type ProxyStep = typeof MORE | typeof BAD_PROXY | typeof REFUSED | { remote: string; key: string; rest: Buffer | null };
