// `/time.gif?seconds=N`: a complete GIF from the request's second with real 1 s delays and a Content-Length, for
// image proxies and e-mail; assembled from each face's encoded seconds (any length from any second, byte for byte
// what render writes), shared per (face, second, N), a bounded encoding and assembly budget per second, bounded
// faces and bytes held, headers no cache keeps, bad values answered 400 naming the parameter; over HTTP/1 and HTTP/2.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient, drainAll, startTest } from './wire.js';
import { cliDecoders, decodeGifuct, decodeOmggif, firstDifference, rgbaToRgb } from './decoders.js';
import { faceRgba, h2Session, makeCert, secondsShown, type CertFiles } from './helpers.js';
import { OPENSSL_MISSING, specIf, toolPresent } from './tools.js';
import { DEFAULT_FACE, faceSize } from '../lib/face/face.js';
import { FINITE_PIXELS_PER_SECOND } from '../lib/core/limits.js';
import { FiniteGifs } from '../lib/stream/finite.js';
import { FaceRings } from '../lib/face/ring.js';
import { Channel, ChannelRegistry } from '../lib/stream/channel.js';
import { renderFiniteGif } from '../lib/face/render.js';

let now = 1_796_160_000_250;
const clock = { now: () => now, manualClock: true };
const second = (): number => Math.floor(now / 1000);

async function get(port: number, target: string, method = 'GET'): Promise<{ status: number; head: string; body: Buffer }> {
  const c = await RawClient.open(port);
  c.send(`${method} ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  await c.untilClosed();
  return { status: c.status, head: c.data.toString('latin1', 0, c.headEnd), body: c.data.subarray(c.headEnd) };
}

test('finite :: ?seconds=5 is five frames from the request second, 1 s apart, with its Content-Length; decoders agree', async () => {
  const { port } = await startTest([], clock);
  const r = await get(port, '/time.gif?seconds=5');
  assert.is(r.status, 200);
  assert.match(r.head, 'Content-Type: image/gif\r\n');
  assert.match(r.head, `Content-Length: ${r.body.length}\r\n`);
  assert.match(r.head, 'Cache-Control: no-cache, no-store, no-transform\r\n');
  assert.equal(secondsShown(r.body, second() - 2, second() + 10), [0, 1, 2, 3, 4].map((k) => second() + k), 'the keyframe of the request second, then one second per frame');
  const g = decodeGifuct(r.body);
  assert.equal(g.frames.map((f) => f.delayCs), [100, 100, 100, 100, 100], 'real one-second delays');
  assert.is(r.body[r.body.length - 1], 0x3b, 'a complete GIF');
  assert.not.ok(r.body.includes(Buffer.from('NETSCAPE2.0')), 'no loop: it stays on its last second');
  const { width, height } = faceSize(DEFAULT_FACE);
  for (const d of cliDecoders()) {
    if (!toolPresent(d.missing, d.name)) continue;
    const last = d.decodeRgb(r.body, width, height).at(-1)!;
    assert.is(firstDifference(last, rgbaToRgb(faceRgba(second() + 4))), -1, `${d.name}: the last frame is the fifth second`);
  }
  const head = await get(port, '/time.gif?seconds=5', 'HEAD');
  assert.match(head.head, `Content-Length: ${r.body.length}\r\n`);
  assert.is(head.body.length, 0, 'HEAD: no body');
  await drainAll();
});

test('finite :: loop=0 repeats forever, loop=K K more times (render --loop\'s bytes); bad loops are 400 naming loop', async () => {
  const { port } = await startTest([], clock);
  const once = await get(port, '/time.gif?seconds=5');
  assert.is(decodeOmggif(once.body).loopCount, null, 'no loop: plays once');
  for (const [q, want] of [['loop=0', 0], ['loop=2', 2], ['loop=65535', 65535]] as const) {
    const r = await get(port, `/time.gif?seconds=5&${q}`);
    assert.is(r.status, 200, q);
    assert.is(decodeOmggif(r.body).loopCount, want, `${q}: the NETSCAPE2.0 count`);
    assert.ok(Buffer.from(renderFiniteGif(second(), 5, DEFAULT_FACE, want)).equals(r.body), `${q}: render --loop=${want}'s bytes`);
    assert.equal(secondsShown(r.body, second() - 1, second() + 6), [0, 1, 2, 3, 4].map((k) => second() + k), `${q}: the same frames`);
  }
  for (const v of ['-1', '65536', 'x', '', '01', '1.5']) {
    const r = await get(port, `/time.gif?seconds=5&loop=${v}`);
    assert.is(r.status, 400, `loop=${v}`);
    assert.match(r.body.toString(), 'loop: use 0 (repeat forever) or a number of repeats from 1 to 65535');
  }
  assert.is((await get(port, '/time.gif?loop=3', 'HEAD')).status, 200, 'a stream ignores loop');
  await drainAll();
});

test('finite :: bad values of seconds are 400 naming the parameter', async () => {
  const { port } = await startTest([], clock);
  for (const v of ['0', '3601', 'abc', '1.5', '-1', '', '05', '99999']) {
    const r = await get(port, `/time.gif?seconds=${v}`);
    assert.is(r.status, 400, `seconds=${v}`);
    assert.match(r.body.toString(), 'seconds: use a whole number from 1 to 3600');
  }
  await drainAll();
});

test('finite :: thirty lengths in the same second all 200, each every frame and byte for byte what render writes', async () => {
  const { inst, port } = await startTest([], clock);
  for (let n = 3600; n > 3570; n--) {
    const r = await get(port, `/time.gif?seconds=${n}`);
    assert.is(r.status, 200, `seconds=${n}`);
    assert.ok(Buffer.from(renderFiniteGif(second(), n, DEFAULT_FACE)).equals(r.body), `seconds=${n}: render's bytes`);
    if (n % 10 === 0) assert.is(decodeGifuct(r.body).frames.length, n, `seconds=${n}: every frame`);
  }
  assert.is(inst.app.metrics.rejects.get('finite-budget') ?? 0, 0);
  await drainAll();
});

test('finite :: shared per (face, second, N); a new face past the per-second encoding budget is 503; the next second serves it', async () => {
  const { inst, port } = await startTest([], clock);
  const a = await get(port, '/time.gif?seconds=3600');
  const b = await get(port, '/time.gif?seconds=3600');
  assert.is(a.status, 200);
  assert.ok(a.body.equals(b.body), 'the same bytes');
  // A second face's first hour is as many pixels again: past this second's budget.
  const over = await get(port, '/time.gif?seconds=3600&tz=Asia/Tokyo');
  assert.is(over.status, 503, `a second new hour in one second passes ${FINITE_PIXELS_PER_SECOND} pixels`);
  assert.match(over.head, 'Retry-After: ');
  assert.is(inst.app.metrics.rejects.get('finite-budget'), 1);
  const held = await get(port, '/time.gif?seconds=120');
  assert.is(held.status, 200, 'a length the default face already holds costs no encoding');
  now += 1000;
  const tokyo = await get(port, '/time.gif?seconds=3600&tz=Asia/Tokyo');
  assert.is(tokyo.status, 200, 'the next second has its own budget');
  const next = await get(port, '/time.gif?seconds=2');
  assert.is(next.status, 200);
  assert.equal(secondsShown(next.body, second() - 1, second() + 3), [second(), second() + 1], 'the first frame is the request second');
  await drainAll();
});

test('finite :: caches and mail proxies are told not to keep it: no-store, an Expires in the past, Pragma', async () => {
  const { port } = await startTest([], clock);
  const r = await get(port, '/time.gif?seconds=10');
  assert.match(r.head, 'Cache-Control: no-cache, no-store, no-transform\r\n');
  assert.match(r.head, 'Expires: Thu, 01 Jan 1970 00:00:00 GMT\r\n');
  assert.match(r.head, 'Pragma: no-cache\r\n');
  await drainAll();
});

test('finite :: FiniteGifs: a held hour costs one new second a second; faces and bytes held stay bounded under a flood of faces and lengths', () => {
  let t = 1_796_160_000;
  const budget = { pixelsPerSecond: 1e12, bytesPerSecond: 1e12, maxFaces: 4 };
  const gifs = new FiniteGifs(budget);
  const face = (i: number) => ({ ...DEFAULT_FACE, tz: ['UTC', 'Asia/Tokyo', 'Europe/Berlin', 'America/New_York', 'Asia/Kolkata', 'Australia/Sydney'][i % 6]!, scale: 1 + (i % 3) });
  for (let i = 0; i < 60; i++) {
    if (i % 6 === 0) t++;
    assert.ok(gifs.get(face(i), 3600 - i, t * 1000) !== null);
    assert.ok(gifs.held.faces <= 4, `faces held ${gifs.held.faces}`);
  }
  // An hour of deltas per face at most: well under 1 MB each at these scales.
  assert.ok(gifs.held.bytes < 4 * 1024 * 1024, `bytes held ${gifs.held.bytes}`);
  // The pixel budget counts only what is encoded: the default face's hour is held, the next second adds one delta
  // and a keyframe, so a budget of three frames still serves it.
  const small = new FiniteGifs({ pixelsPerSecond: 3 * 8415, bytesPerSecond: 1e12, maxFaces: 4 });
  const big = new FiniteGifs({ pixelsPerSecond: 1e12, bytesPerSecond: 1e12, maxFaces: 4 });
  assert.ok(big.get(DEFAULT_FACE, 3600, t * 1000) !== null);
  assert.is(small.get(DEFAULT_FACE, 3600, t * 1000), null, 'an hour of new frames is past three frames');
  assert.ok(big.get(DEFAULT_FACE, 3600, (t + 1) * 1000) !== null);
  assert.ok(Buffer.from(renderFiniteGif(t + 1, 3600, DEFAULT_FACE)).equals(big.get(DEFAULT_FACE, 3600, (t + 1) * 1000)!.body), 'the next second, render\'s bytes');
  // A face whose hour is more than one second's budget: refused while its seconds are encoded ahead with what each
  // second's budget leaves, then served, byte for byte render's.
  const s8 = { ...DEFAULT_FACE, scale: 8 };
  const perSecond = 1000 * 67_320; // a thousand frames of the scale-8 face (765 x 88)
  const slow = new FiniteGifs({ pixelsPerSecond: perSecond, bytesPerSecond: 1e12, maxFaces: 4 });
  let s = t + 10, refused = 0;
  for (; slow.get(s8, 3600, s * 1000) === null; s++) refused++;
  assert.is(refused, 3, 'three seconds of a thousand frames each, then served');
  assert.ok(Buffer.from(renderFiniteGif(s, 3600, s8)).equals(slow.get(s8, 3600, s * 1000)!.body), 'render\'s bytes');
});

test('finite :: scale=N on the URL gives render’s pixels at that scale; bad scales are 400', async () => {
  const { port } = await startTest([], clock);
  const r = await get(port, '/time.gif?seconds=2&scale=5&tz=Asia/Tokyo');
  assert.is(r.status, 200);
  const face = { tz: 'Asia/Tokyo', hour12: false, scale: 5 };
  const g = decodeGifuct(r.body);
  assert.equal([g.width, g.height], [faceSize(face).width, faceSize(face).height]);
  assert.ok(Buffer.from(renderFiniteGif(second(), 2, face)).equals(r.body), 'byte for byte what `render --scale 5 --tz Asia/Tokyo` writes');
  for (const v of ['0', '9', '10', 'x', '']) assert.is((await get(port, `/time.gif?scale=${v}`)).status, 400, `scale=${v}`);
  await drainAll();
});

test('finite :: pipelined finite GIFs count toward the pipeline bound (an hour each is past it)', async () => {
  const { port } = await startTest([], clock);
  const c = await RawClient.open(port);
  c.send('GET /time.gif?seconds=3600 HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(3));
  await c.untilClosed();
  const heads = c.text.match(/HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n/g) ?? [];
  assert.is(heads.length, 2, 'the answer past the bound is the last');
  assert.match(heads[0]!, 'Connection: keep-alive');
  assert.match(heads[1]!, 'Connection: close');
  await drainAll();
});

test('finite :: the live channel and the finite GIFs of a face share its encoded seconds (one encoding of each delta)', () => {
  const t = 1_796_160_100;
  const rings = new FaceRings(8);
  const channels = new ChannelRegistry(8, rings);
  const gifs = new FiniteGifs({}, rings);
  const ch = channels.acquire(DEFAULT_FACE, t)!;
  const gif = gifs.get(DEFAULT_FACE, 60, t * 1000)!;
  assert.ok(gif !== null);
  const ring = rings.get(DEFAULT_FACE, ch.key);
  for (let k = 1; k <= 5; k++) {
    const d = ch.advance(t + k).delta;
    assert.ok(d === ring.streamDelta(t + k), `second +${k}: the channel's delta is the ring's own bytes, not a second encoding`);
  }
  // …and they are the bytes a channel of its own encodes (the golden stream is pinned by golden.spec).
  const alone = new Channel(DEFAULT_FACE, t);
  for (let k = 1; k <= 5; k++) assert.ok(alone.advance(t + k).delta.equals(ring.streamDelta(t + k)), `second +${k}: same bytes`);
});

test('finite :: a held hour slides with the clock: past seconds dropped (and compacted away), the rest still render\'s bytes', () => {
  const t = 1_796_170_000;
  const gifs = new FiniteGifs({ pixelsPerSecond: 1e12, bytesPerSecond: 1e12, maxFaces: 4 });
  assert.ok(gifs.get(DEFAULT_FACE, 3600, t * 1000) !== null);
  const full = gifs.held.bytes;
  for (let s = t + 1; s <= t + 2100; s++) assert.ok(gifs.get(DEFAULT_FACE, 2, s * 1000) !== null);
  // About 1,500 of the 3,600 seconds remain held: dropped as they passed, none encoded again (a ring that lost its
  // place would start over and hold a few seconds only).
  assert.ok(gifs.held.bytes < full / 2 && gifs.held.bytes > full / 4, `the seconds still ahead are held, the past dropped (${gifs.held.bytes} of ${full} B)`);
  const later = gifs.get(DEFAULT_FACE, 1499, (t + 2100) * 1000)!;
  assert.ok(Buffer.from(renderFiniteGif(t + 2100, 1499, DEFAULT_FACE)).equals(later.body), 'after 2,100 seconds: render\'s bytes');
});

let cert: CertFiles | null = null;
specIf(OPENSSL_MISSING, 'finite :: over HTTP/2: the same bytes with content-length', async () => {
  cert ??= makeCert(['localhost']);
  const { inst, port } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key], clock);
  const tlsPort = (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;
  const h1 = await get(port, '/time.gif?seconds=3&tz=Asia/Tokyo');
  const s = await h2Session(tlsPort);
  const st = s.request({ ':path': '/time.gif?seconds=3&tz=Asia/Tokyo', ':authority': 'localhost' });
  let headers: Record<string, unknown> = {};
  st.on('response', (h) => (headers = h));
  const chunks: Buffer[] = [];
  st.on('data', (d: Buffer) => chunks.push(d));
  await new Promise((r) => st.once('end', r));
  const body = Buffer.concat(chunks);
  assert.is(headers[':status'], 200);
  assert.is(headers['content-length'], String(body.length));
  assert.ok(body.equals(h1.body), 'the same GIF over HTTP/1 and HTTP/2');
  s.destroy();
  await drainAll();
});

test.after(() => cert?.remove());
test.run();
