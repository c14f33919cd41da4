import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { SocketAddress } from 'node:net';
import { crc32cSkipping, parseProxyHeader, PROXY, PROXY_MAX_HEADER_BYTES } from '../lib/guard/proxy.js';
import type { ProxyResult } from '../lib/guard/proxy.js';
import { CidrSet, ipKey } from '../lib/guard/cidr.js';

const SIG = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

/** Bitwise CRC32C, independent of the table the module uses. */
function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function tlv(type: number, value: Buffer | string): Buffer {
  const v = Buffer.from(value);
  return Buffer.concat([Buffer.from([type, v.length >> 8, v.length & 255]), v]);
}

function v4Bytes(a: string): Buffer {
  return Buffer.from(a.split('.').map(Number));
}

function v6Bytes(a: string): Buffer {
  const [head, tail = ''] = a.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), 2 * i));
  return out;
}

/** A v2 header: version/command byte, family/protocol byte, payload (addresses + TLVs). */
function v2(verCmd: number, famProto: number, payload: Buffer = Buffer.alloc(0), declaredLength = payload.length): Buffer {
  const head = Buffer.from([verCmd, famProto, declaredLength >> 8, declaredLength & 255]);
  return Buffer.concat([SIG, head, payload]);
}

function ports(src: number, dst: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(src, 0);
  b.writeUInt16BE(dst, 2);
  return b;
}

/** A v2 PROXY TCP4 header with a CRC32C TLV filled in (or spoiled). */
function withCrc(spoil: boolean): Buffer {
  const payload = Buffer.concat([v4Bytes('198.51.100.1'), v4Bytes('203.0.113.2'), ports(1000, 443), tlv(0x03, Buffer.alloc(4)), tlv(0x01, 'h2')]);
  const header = v2(0x21, 0x11, payload);
  const crcAt = 16 + 12 + 3;
  header.writeUInt32BE((crc32cBitwise(header) ^ (spoil ? 1 : 0)) >>> 0, crcAt);
  return header;
}

const FF6 = 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff';

interface Good { name: string; bytes: Buffer; local: boolean; src?: string; sport?: number; dst?: string; dport?: number }

const GOOD: Good[] = [
  { name: 'v1 TCP4', bytes: Buffer.from('PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n'), local: false, src: '192.168.0.1', sport: 56324, dst: '192.168.0.11', dport: 443 },
  { name: 'v1 TCP4 longest', bytes: Buffer.from('PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n'), local: false, src: '255.255.255.255', sport: 65535, dst: '255.255.255.255', dport: 65535 },
  { name: 'v1 TCP6 upper case, uncompressed', bytes: Buffer.from('PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::1 0 65535\r\n'), local: false, src: '2001:db8::1', sport: 0, dst: '::1', dport: 65535 },
  { name: 'v1 TCP6 longest', bytes: Buffer.from(`PROXY TCP6 ${FF6} ${FF6} 65535 65535\r\n`), local: false, src: FF6, sport: 65535, dst: FF6, dport: 65535 },
  { name: 'v1 TCP6 mapped', bytes: Buffer.from('PROXY TCP6 ::ffff:10.0.0.1 0:0:0:0:0:ffff:a00:2 1 2\r\n'), local: false, src: '::ffff:10.0.0.1', sport: 1, dst: '::ffff:10.0.0.2', dport: 2 },
  { name: 'v1 UNKNOWN short', bytes: Buffer.from('PROXY UNKNOWN\r\n'), local: true },
  { name: 'v1 UNKNOWN worst case (107 bytes)', bytes: Buffer.from(`PROXY UNKNOWN ${FF6} ${FF6} 65535 65535\r\n`), local: true },
  { name: 'v1 UNKNOWN with anything', bytes: Buffer.from('PROXY UNKNOWN what ever\r\n'), local: true },
  { name: 'v2 PROXY TCP4', bytes: v2(0x21, 0x11, Buffer.concat([v4Bytes('198.51.100.1'), v4Bytes('203.0.113.2'), ports(51000, 443)])), local: false, src: '198.51.100.1', sport: 51000, dst: '203.0.113.2', dport: 443 },
  { name: 'v2 PROXY UDP4', bytes: v2(0x21, 0x12, Buffer.concat([v4Bytes('0.0.0.0'), v4Bytes('255.255.255.255'), ports(0, 65535)])), local: false, src: '0.0.0.0', sport: 0, dst: '255.255.255.255', dport: 65535 },
  { name: 'v2 PROXY TCP6', bytes: v2(0x21, 0x21, Buffer.concat([v6Bytes('2001:db8:0:0:1::1'), v6Bytes('2001:db8::2'), ports(1, 2)])), local: false, src: '2001:db8::1:0:0:1', sport: 1, dst: '2001:db8::2', dport: 2 },
  { name: 'v2 PROXY TCP6 mapped', bytes: v2(0x21, 0x21, Buffer.concat([v6Bytes('::ffff:c633:6401'), v6Bytes('::1'), ports(3, 4)])), local: false, src: '::ffff:198.51.100.1', sport: 3, dst: '::1', dport: 4 },
  { name: 'v2 PROXY TCP4 + TLVs', bytes: v2(0x21, 0x11, Buffer.concat([v4Bytes('10.1.2.3'), v4Bytes('10.3.2.1'), ports(5, 6), tlv(0x01, 'h2'), tlv(0x04, Buffer.alloc(9)), tlv(0x02, 'example.com'), tlv(0x20, Buffer.alloc(0))])), local: false, src: '10.1.2.3', sport: 5, dst: '10.3.2.1', dport: 6 },
  { name: 'v2 PROXY TCP4 + CRC32C', bytes: withCrc(false), local: false, src: '198.51.100.1', sport: 1000, dst: '203.0.113.2', dport: 443 },
  { name: 'v2 LOCAL', bytes: v2(0x20, 0x00), local: true },
  { name: 'v2 LOCAL with addresses', bytes: v2(0x20, 0x11, Buffer.concat([v4Bytes('1.2.3.4'), v4Bytes('5.6.7.8'), ports(1, 2)])), local: true },
  { name: 'v2 PROXY AF_UNSPEC', bytes: v2(0x21, 0x00), local: true },
  { name: 'v2 PROXY TCP4 protocol UNSPEC', bytes: v2(0x21, 0x10, Buffer.alloc(3)), local: true },
  { name: 'v2 PROXY AF_UNIX', bytes: v2(0x21, 0x31, Buffer.alloc(216)), local: true },
  { name: 'v2 at the size bound', bytes: v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), tlv(0x04, Buffer.alloc(PROXY_MAX_HEADER_BYTES - 16 - 12 - 3))])), local: false, src: '0.0.0.0', sport: 0, dst: '0.0.0.0', dport: 0 },
];

function expectDone(r: ProxyResult, g: Good, consumed: number): void {
  assert.is(r.status, PROXY.DONE, `${g.name}: ${r.reason}`);
  assert.is(r.consumed, consumed, g.name);
  assert.is(r.local, g.local, g.name);
  assert.is(r.reason, '');
  if (!g.local) {
    assert.equal([r.srcAddr, r.srcPort, r.dstAddr, r.dstPort], [g.src, g.sport, g.dst, g.dport], g.name);
  }
}

test('proxy :: good v1 and v2 headers parse to the right addresses', () => {
  for (const g of GOOD) expectDone(parseProxyHeader(g.bytes), g, g.bytes.length);
});

test('proxy :: every truncation point of a good header is NEED_MORE', () => {
  for (const g of GOOD) {
    for (let k = 0; k < g.bytes.length; k++) {
      const r = parseProxyHeader(g.bytes.subarray(0, k));
      if (r.status !== PROXY.NEED_MORE) assert.unreachable(`${g.name} cut at ${k}: status ${r.status} ${r.reason}`);
      assert.is(r.consumed, 0);
    }
  }
});

test('proxy :: bytes after the header are left to the next layer (consumed)', () => {
  const request = Buffer.from('GET /time.gif HTTP/1.1\r\nHost: x\r\n\r\n\x16\x03\x01');
  for (const g of GOOD) {
    const r = parseProxyHeader(Buffer.concat([g.bytes, request]));
    expectDone(r, g, g.bytes.length);
  }
});

const V1_OK = 'PROXY TCP4 1.2.3.4 5.6.7.8 1 2';

/** Bad headers: the reason, and the byte count at which it must first be refused (shorter prefixes: NEED_MORE). */
const BAD: [string, Buffer, string, number][] = [
  ['HTTP request', Buffer.from('GET / HTTP/1.1\r\n'), 'bad-signature', 1],
  ['TLS hello', Buffer.from([0x16, 0x03, 0x01, 0x00]), 'bad-signature', 1],
  ['PROXZ', Buffer.from('PROXZ TCP4'), 'bad-signature', 5],
  ['v1 unknown protocol', Buffer.from('PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n'), 'bad-v1-protocol', 10],
  ['v1 double space before protocol', Buffer.from('PROXY  TCP4 1.2.3.4'), 'bad-v1-protocol', 7],
  ['v1 protocol without fields', Buffer.from('PROXY TCP4\r\n'), 'bad-v1-protocol', 12],
  ['v1 UNKNOWNX', Buffer.from('PROXY UNKNOWNX\r\n'), 'bad-v1-protocol', 14],
  ['v1 double space between fields', Buffer.from('PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n'), 'bad-v1-line', 20],
  ['v1 LF without CR', Buffer.from(`${V1_OK}\n`), 'bad-v1-line', 31],
  ['v1 CR without LF', Buffer.from(`${V1_OK}\rX`), 'bad-v1-line', 32],
  ['v1 three fields', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'bad-v1-line', 30],
  ['v1 five fields', Buffer.from(`${V1_OK} 3\r\n`), 'bad-v1-line', 31],
  ['v1 trailing space', Buffer.from(`${V1_OK} \r\n`), 'bad-v1-line', 31],
  ['v1 leading zero in address', Buffer.from('PROXY TCP4 1.2.3.04 5.6.7.8 1 2\r\n'), 'bad-v1-address', 20],
  ['v1 IPv6 in TCP4', Buffer.from('PROXY TCP4 ::1 ::1 1 2\r\n'), 'bad-v1-address', 12],
  ['v1 IPv4 in TCP6', Buffer.from('PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n'), 'bad-v1-address', 19],
  ['v1 bad destination', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.256 1 2\r\n'), 'bad-v1-address', 29],
  ['v1 host name', Buffer.from('PROXY TCP4 localhost 5.6.7.8 1 2\r\n'), 'bad-v1-address', 12],
  ['v1 port too large', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n'), 'bad-v1-port', 33],
  ['v1 port with leading zero', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 080 2\r\n'), 'bad-v1-port', 29],
  ['v1 junk in port', Buffer.from(`${V1_OK}x\r\n`), 'bad-v1-port', 31],
  ['v1 no CRLF within 107 bytes', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(200)}`), 'v1-too-long', 107],
  ['v1 CRLF one byte too late', Buffer.from(`PROXY UNKNOWN ${'x'.repeat(92)}\r\n`), 'v1-too-long', 107],
  ['v2 signature', Buffer.concat([SIG.subarray(0, 4), Buffer.from([1]), SIG.subarray(5), Buffer.alloc(8)]), 'bad-signature', 5],
  ['v2 version 1', v2(0x11, 0x11, Buffer.alloc(12)), 'bad-v2-version', 13],
  ['v2 version 3', v2(0x31, 0x11, Buffer.alloc(12)), 'bad-v2-version', 13],
  ['v2 command 2', v2(0x22, 0x11, Buffer.alloc(12)), 'bad-v2-command', 13],
  ['v2 family 4', v2(0x21, 0x41, Buffer.alloc(12)), 'bad-v2-family', 14],
  ['v2 protocol 3', v2(0x21, 0x13, Buffer.alloc(12)), 'bad-v2-protocol', 14],
  ['v2 TCP4 address block too short', v2(0x21, 0x11, Buffer.alloc(11)), 'bad-v2-length', 16],
  ['v2 TCP6 address block too short', v2(0x21, 0x21, Buffer.alloc(35)), 'bad-v2-length', 16],
  ['v2 longer than the bound', v2(0x21, 0x11, Buffer.alloc(12), PROXY_MAX_HEADER_BYTES - 15), 'v2-too-long', 16],
  ['v2 declares 64 KiB', v2(0x20, 0x00, Buffer.alloc(0), 0xffff), 'v2-too-long', 16],
  ['v2 TLV overruns the header', v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), Buffer.from([0x01, 0x00, 0x05, 0x68, 0x32])])), 'bad-v2-tlv', 33],
  ['v2 TLV leftover bytes', v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), tlv(0x01, 'h2'), Buffer.from([0x04, 0x00])])), 'bad-v2-tlv', 35],
  ['v2 CRC32C TLV of the wrong size', v2(0x21, 0x11, Buffer.concat([Buffer.alloc(12), tlv(0x03, Buffer.alloc(3))])), 'bad-v2-tlv', 34],
  ['v2 CRC32C mismatch', withCrc(true), 'bad-v2-crc', withCrc(true).length],
];

test('proxy :: malformed headers are BAD with a reason, at the first byte that shows it', () => {
  for (const [name, bytes, reason, at] of BAD) {
    for (let k = 0; k < at; k++) {
      const r = parseProxyHeader(bytes.subarray(0, k));
      if (r.status !== PROXY.NEED_MORE) assert.unreachable(`${name}: at ${k} bytes got ${r.status} ${r.reason}, expected NEED_MORE`);
    }
    for (let k = at; k <= bytes.length; k++) {
      const r = parseProxyHeader(bytes.subarray(0, k));
      assert.is(r.status, PROXY.BAD, `${name} at ${k}`);
      assert.is(r.reason, reason, `${name} at ${k}`);
      assert.is(r.consumed, 0);
    }
  }
});

test('proxy :: CRC32C matches the standard check value', () => {
  const check = Buffer.from('123456789');
  assert.is(crc32cSkipping(Buffer.concat([check, Buffer.alloc(4)]), 9, 9), 0xe3069283);
  assert.is(crc32cBitwise(check), 0xe3069283);
});

test('proxy :: v2 IPv6 addresses come out as Node prints remoteAddress, usable by CidrSet and ipKey', () => {
  let seed = 12345;
  const next = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 16;
  for (let i = 0; i < 2_000; i++) {
    const raw = Buffer.alloc(16);
    for (let j = 0; j < 8; j++) raw.writeUInt16BE(next() % 3 === 0 ? 0 : next(), 2 * j);
    if (i % 5 === 0) raw.fill(0, 0, 10).writeUInt16BE(0xffff, 10);
    const r = parseProxyHeader(v2(0x21, 0x21, Buffer.concat([raw, Buffer.alloc(16), ports(1, 2)])));
    const groups = Array.from({ length: 8 }, (_, j) => raw.readUInt16BE(2 * j).toString(16)).join(':');
    assert.is(r.srcAddr, new SocketAddress({ address: groups, family: 'ipv6' }).address);
  }
  const r = parseProxyHeader(Buffer.from('PROXY TCP6 2001:db8:aa:bb:1:2:3:4 ::1 1 2\r\n'));
  assert.is(ipKey(r.srcAddr), '2001:db8:aa:bb::/64');
  const m = parseProxyHeader(v2(0x21, 0x21, Buffer.concat([v6Bytes('::ffff:c633:6401'), Buffer.alloc(16), ports(1, 2)])));
  assert.ok(CidrSet.fromText([{ source: 's', text: '198.51.100.0/24' }]).set.has(m.srcAddr));
  assert.is(ipKey(m.srcAddr), '198.51.100.1');
});

test('proxy :: random and mutated input never throws and never over-consumes', () => {
  let seed = 777;
  const next = (): number => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) >>> 24;
  let done = 0;
  for (let i = 0; i < 20_000; i++) {
    const base = GOOD[i % GOOD.length]!.bytes;
    const buf = Buffer.from(base.subarray(0, next() < 200 ? base.length : next() % base.length));
    const flips = next() % 3;
    for (let f = 0; f < flips && buf.length > 0; f++) buf[(next() << 8 | next()) % buf.length] = next();
    const r = parseProxyHeader(buf);
    assert.ok(r.status === PROXY.NEED_MORE || r.status === PROXY.DONE || r.status === PROXY.BAD);
    if (r.status === PROXY.DONE) {
      done++;
      assert.ok(r.consumed > 0 && r.consumed <= buf.length && r.consumed <= PROXY_MAX_HEADER_BYTES);
    }
  }
  assert.ok(done > 1000);
});

test.run();
