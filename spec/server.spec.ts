// Wire specs for the HTTP/1 server: exact bytes over real sockets, statuses and closes asserted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient, startTest } from './wire.js';
import { waitFor } from './helpers.js';
import { walkGif } from './procs.js';
import { decodeOmggif, indicesToRgba, firstDifference } from './decoders.js';
import { DEFAULT_FACE, PALETTE, renderFace, type FaceOptions } from '../lib/face/face.js';
import { HEADER_TIMEOUT_MS } from '../lib/core/limits.js';
import type { Instance } from '../lib/run/start.js';
import { drainAll } from './wire.js';

test.after.each(drainAll);

const T0 = 1_795_000_000; // 2026-11-18T...: any fixed instant
let now = T0 * 1000 + 400;
const clock = { now: () => now, manualClock: true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Advance the fake clock to the next boundary and run the tick, as the real clock would. */
async function tick(inst: Instance, n = 1): Promise<void> {
  for (let i = 0; i < n; i++) {
    const t = Math.floor(now / 1000) + 1;
    now = t * 1000 + 2;
    inst.app.tick(t, now);
    inst.app.prepare(t + 1);
  }
  await sleep(30);
}

const GET = (path: string, host = 'localhost', extra = ''): string => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\n${extra}\r\n`;

/** The stream body (after the head) with a trailer appended, so a file decoder can read it. */
function asGif(c: RawClient): Buffer {
  const body = c.data.subarray(c.headEnd);
  return Buffer.concat([body.subarray(0, walkGif(body).consumed), Buffer.from([0x3b])]);
}

function expectFace(rgba: Uint8Array, second: number, face: FaceOptions = DEFAULT_FACE, what = ''): void {
  const want = indicesToRgba(renderFace(second, face), PALETTE);
  assert.is(firstDifference(rgba, want), -1, `${what}: frame differs from renderFace(${second})`);
}

test('server :: the head and the first frame arrive in one write', async () => {
  const { inst, port } = await startTest([], clock);
  const c = await RawClient.open(port);
  c.send(GET('/time.gif'));
  await c.until(() => c.headEnd > 0 && c.data.length > c.headEnd + 13 && walkGif(c.data.subarray(c.headEnd)).frames.length >= 1);
  assert.is(c.chunks, 1, 'head + prologue + keyframe in one segment');
  const head = c.text.slice(0, c.headEnd);
  assert.match(head, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(head, /\r\nContent-Type: image\/gif\r\n/);
  assert.match(head, /\r\nCache-Control: no-cache, no-store, no-transform\r\n/);
  assert.match(head, /\r\nConnection: close\r\n/);
  assert.not.match(head, /Content-Length|Transfer-Encoding/i);
  assert.is(c.data.toString('latin1', c.headEnd, c.headEnd + 6), 'GIF89a');
  assert.not.ok(c.data.includes('NETSCAPE2.0'), 'no looping extension in a stream');
  const gif = decodeOmggif(asGif(c));
  assert.is(gif.frames.length, 1);
  expectFace(gif.frames[0]!.rgba, Math.floor(now / 1000), DEFAULT_FACE, 'first frame');
  assert.is(inst.app.viewers, 1);
  c.close();
  await inst.drain();
});

test('server :: every tick sends the delta that composites to that second, deltas are small', async () => {
  const { inst, port } = await startTest([], clock);
  const c = await RawClient.open(port);
  c.send(GET('/time.gif'));
  await c.until(() => c.headEnd > 0 && c.data.length > c.headEnd + 100);
  const first = Math.floor(now / 1000);
  await tick(inst, 65); // crosses a minute boundary
  const frames = walkGif(c.data.subarray(c.headEnd)).frames;
  assert.is(frames.length, 66);
  const gif = decodeOmggif(asGif(c));
  gif.frames.forEach((f, k) => expectFace(f.rgba, first + k, DEFAULT_FACE, `frame ${k}`));
  const sizes = frames.slice(1).map((f) => f.length);
  const full = frames[0]!.length;
  assert.ok(Math.max(...sizes) < full, `deltas (${Math.max(...sizes)} B) smaller than a keyframe (${full} B)`);
  // Every frame keeps the canvas and shows at once: either no graphic control extension (delay 0, disposal not
  // specified) or one with a short delay and disposal 1 (read from the bytes: omggif carries an extension over).
  for (const [k, f] of frames.entries()) {
    if (f[0] === 0x2c) continue;
    assert.equal([f[0], f[1], (f[3]! >> 2) & 7, f.readUInt16LE(4) <= 2], [0x21, 0xf9, 1, true], `frame ${k}: short delay, disposal 1`);
  }
  assert.ok(frames.some((f) => f[0] === 0x2c), 'opaque frames go without the extension');
  assert.is(inst.app.metrics.framesDelta, 65);
  c.close();
  await inst.drain();
});

test('server :: the live stream with the wall clock shows the second it was sent in', async () => {
  const { inst, port } = await startTest();
  const c = await RawClient.open(port);
  const arrivals: number[] = [];
  let seen = 0;
  c.socket.on('data', () => {
    const body = c.data.subarray(c.headEnd);
    if (c.headEnd < 0 || body.length < 13) return;
    const n = walkGif(body).frames.length;
    while (seen < n) {
      arrivals.push(Date.now());
      seen++;
    }
  });
  c.send(GET('/time.gif'));
  await c.until(() => seen >= 3, 4000, 'three frames');
  const gif = decodeOmggif(asGif(c));
  gif.frames.slice(0, 3).forEach((f, k) => {
    const shown = Math.floor(arrivals[k]! / 1000);
    const want = indicesToRgba(renderFace(shown, DEFAULT_FACE), PALETTE);
    const wantPrev = indicesToRgba(renderFace(shown - 1, DEFAULT_FACE), PALETTE);
    // Never a frame of a later second; on a loaded machine a frame may land just after the next boundary.
    assert.ok(firstDifference(f.rgba, want) === -1 || firstDifference(f.rgba, wantPrev) === -1, `frame ${k} shows its second`);
  });
  c.close();
  await inst.drain();
});

test('server :: clients that disconnect mid-frame leave no viewer behind', async () => {
  const { inst, port } = await startTest([], clock);
  const clients = await Promise.all(Array.from({ length: 20 }, () => RawClient.open(port)));
  for (const c of clients) c.send(GET('/time.gif'));
  await Promise.all(clients.map((c) => c.until(() => c.headEnd > 0)));
  assert.is(inst.app.viewers, 20);
  clients.slice(0, 10).forEach((c) => c.socket.resetAndDestroy());
  clients.slice(10).forEach((c) => c.close());
  await tick(inst, 2);
  await sleep(50);
  assert.is(inst.app.viewers, 0);
  assert.is(inst.app.connections, 0);
  for (const ch of inst.app.channels.channels.values()) assert.is(ch.viewers.length, 0);
  assert.is(inst.app.peers.streamsOf('127.0.0.1'), 0, 'the per-address stream count is back to zero');
  await inst.drain();
});

// Bad input on the wire: each gets its status and a close, or a bare close.
const BAD: [string, string | Buffer, number | 'close'][] = [
  ['garbage bytes', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x0d, 0x0a, 0x0d, 0x0a]), 400],
  ['missing version', 'GET /time.gif\r\nHost: a\r\n\r\n', 400],
  ['double space in request line', 'GET  /time.gif HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['lowercase version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
  ['header without colon', 'GET / HTTP/1.1\r\nHost: a\r\nJunk\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n  2\r\n\r\n', 400],
  ['bare LF', 'GET / HTTP/1.1\nHost: a\n\n', 400],
  ['NUL in a header', 'GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n', 400],
  ['missing Host in HTTP/1.1', 'GET / HTTP/1.1\r\n\r\n', 400],
  ['duplicate Host', 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  ['oversized header block', `GET / HTTP/1.1\r\nHost: a\r\nX: ${'a'.repeat(9000)}\r\n\r\n`, 431],
  ['too many headers', `GET / HTTP/1.1\r\nHost: a\r\n${'X-A: 1\r\n'.repeat(100)}\r\n`, 431],
  ['absurd URL', `GET /${'a'.repeat(5000)} HTTP/1.1\r\nHost: a\r\n\r\n`, 414],
  ['control character in URL', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['HTTP/2 preface on the plain port', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'close'],
  ['HTTP/3.0 version', 'GET / HTTP/3.0\r\nHost: a\r\n\r\n', 505],
  ['unknown method', 'BREW /time.gif HTTP/1.1\r\nHost: a\r\n\r\n', 405],
  ['POST', 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc', 405],
  ['CL and TE together', 'GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n', 400],
  ['unknown zone', GET('/time.gif?tz=Mars/Olympus_Mons'), 400],
  ['junk path', GET('/wp-login.php'), 404],
];

for (const [name, bytes, want] of BAD) {
  test(`server :: bad input: ${name} → ${want}`, async () => {
    const { inst, port } = await startTest([], clock);
    const c = await RawClient.open(port);
    c.send(bytes);
    if (want === 'close') {
      await c.untilClosed();
      assert.is(c.data.length, 0, 'no bytes');
    } else {
      await c.until(() => c.status !== 0);
      assert.is(c.status, want);
      if (want === 405) assert.match(c.text, /\r\nAllow: GET, HEAD\r\n/);
      if (want >= 400 && !name.startsWith('unknown zone') && want !== 404 && want !== 405) {
        assert.match(c.text, /\r\nConnection: close\r\n/);
        await c.untilClosed();
      }
    }
    assert.is(inst.app.viewers, 0);
    c.close();
    await waitFor(() => inst.app.connections === 0, `connection accounted for (open ${inst.app.connections})`);
    await inst.drain();
  });
}

test('server :: slowloris: a head not complete by the deadline gets 408 and a close', async () => {
  const { inst, port } = await startTest([], clock);
  const slow = await RawClient.open(port);
  const silent = await RawClient.open(port);
  slow.send('GET /time.gif HTTP/1.1\r\nHost: a\r\nX-Slow: 1');
  await sleep(30);
  now += HEADER_TIMEOUT_MS + 1000;
  await tick(inst);
  await slow.until(() => slow.status !== 0);
  assert.is(slow.status, 408);
  await slow.untilClosed();
  await silent.untilClosed();
  assert.is(silent.data.length, 0, 'a connection that sent nothing is closed without a byte');
  assert.is(inst.app.metrics.rejects.get('header-timeout'), 1);
  assert.is(inst.app.connections, 0);
  await inst.drain();
});

test('server :: pipelined junk is answered in order on a keep-alive connection', async () => {
  const { inst, port } = await startTest([], clock);
  const c = await RawClient.open(port);
  const announce = 'GET /announce?info_hash=%12%34&peer_id=-TR2940-abcdefghijkl&port=6881 HTTP/1.1\r\nHost: tracker.example\r\n\r\n';
  c.send(announce + announce + GET('/robots.txt') + 'garbage\r\n\r\n');
  await c.untilClosed();
  const statuses = [...c.text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  assert.equal(statuses, [404, 404, 200, 400]);
  assert.is(inst.app.metrics.rejects.get('announce'), 2);
  await inst.drain();
});

test('server :: unknown Host with --hosts gets 421; known host with port and case passes', async () => {
  const { inst, port } = await startTest(['--hosts', 'time.example'], clock);
  const bad = await RawClient.open(port);
  bad.send(GET('/time.gif', 'bogus.example'));
  await bad.until(() => bad.status !== 0);
  assert.is(bad.status, 421);
  const good = await RawClient.open(port);
  good.send(GET('/time.gif', 'TIME.Example:8080'));
  await good.until(() => good.status !== 0);
  assert.is(good.status, 200);
  const none = await RawClient.open(port);
  none.send('GET /time.gif HTTP/1.0\r\n\r\n');
  await none.until(() => none.status !== 0);
  assert.is(none.status, 421, 'HTTP/1.0 without Host is unknown when an allowlist is set');
  assert.is(inst.app.metrics.rejects.get('unknown-host'), 2);
  for (const c of [bad, good, none]) c.close();
  await inst.drain();
});

test('server :: --max-viewers reached: 503 + Retry-After + a GIF, the others keep streaming', async () => {
  const { inst, port } = await startTest(['--max-viewers', '1'], clock);
  const a = await RawClient.open(port);
  a.send(GET('/time.gif'));
  await a.until(() => a.status === 200);
  const b = await RawClient.open(port);
  b.send(GET('/time.gif'));
  await b.untilClosed();
  assert.is(b.status, 503);
  assert.match(b.text, /\r\nRetry-After: \d+\r\n/);
  assert.match(b.text, /\r\nContent-Type: image\/gif\r\n/);
  const gif = decodeOmggif(b.data.subarray(b.headEnd));
  assert.is(gif.frames.length, 1, 'the 503 body is a valid GIF');
  const before = a.data.length;
  await tick(inst);
  await a.until(() => a.data.length > before);
  assert.is(inst.app.metrics.rejects.get('max-viewers'), 1);
  a.close();
  await inst.drain();
});

test('server :: ?tz= picks the zone; HEAD answers the head only', async () => {
  const { inst, port } = await startTest([], clock);
  const c = await RawClient.open(port);
  c.send(GET('/time.gif?tz=Asia%2FKolkata'));
  await c.until(() => c.headEnd > 0 && c.data.length > c.headEnd + 100);
  const face = { ...DEFAULT_FACE, tz: 'Asia/Kolkata' };
  expectFace(decodeOmggif(asGif(c)).frames[0]!.rgba, Math.floor(now / 1000), face, 'Kolkata');
  const h = await RawClient.open(port);
  h.send(`HEAD /time.gif HTTP/1.1\r\nHost: a\r\n\r\n`);
  await h.untilClosed();
  assert.is(h.status, 200);
  assert.is(h.data.length, h.headEnd, 'no body');
  c.close();
  await inst.drain();
});

test('server :: drain ends every stream with the trailer after a whole frame', async () => {
  const { inst, port } = await startTest([], clock);
  const cs = await Promise.all(Array.from({ length: 5 }, () => RawClient.open(port)));
  for (const c of cs) c.send(GET('/time.gif'));
  await Promise.all(cs.map((c) => c.until(() => c.headEnd > 0)));
  await tick(inst, 2);
  await inst.drain();
  for (const c of cs) {
    await c.untilClosed();
    assert.is(c.closeKind, 'end', 'closed cleanly');
    const body = c.data.subarray(c.headEnd);
    const w = walkGif(body);
    assert.is(w.frames.length, 3);
    assert.ok(w.trailer, 'the trailer follows the last whole frame');
    assert.is(w.consumed, body.length, 'and is the last byte');
  }
  assert.is(inst.app.connections, 0);
});

test('server :: access log: combined format + total bytes + seconds, body bytes as received, junk not logged', async () => {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const log = join(mkdtempSync(join(tmpdir(), 'timegif-log-')), 'access.log');
  const { inst, port } = await startTest(['--access-log', log], clock);
  const c = await RawClient.open(port);
  c.send(GET('/time.gif', 'localhost', 'User-Agent: Test "Agent"\r\nReferer: http://ref.example/\r\n'));
  await c.until(() => c.headEnd > 0 && c.data.length > c.headEnd + 100);
  await tick(inst, 2);
  const junk = await RawClient.open(port);
  junk.send(GET('/announce?info_hash=x'));
  await junk.until(() => junk.status !== 0);
  await inst.drain();
  await c.untilClosed();
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.is(lines.length, 1, 'one line for the stream, none for junk');
  const m = /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/time\.gif HTTP\/1\.1" 200 (\d+) "http:\/\/ref\.example\/" "Test \\x22Agent\\x22" (\d+) \d+\.\d{3}$/.exec(lines[0]!);
  assert.ok(m, lines[0]);
  assert.is(Number(m![1]), c.data.length - c.headEnd, 'body bytes = what the client got, trailer included');
  assert.is(Number(m![2]), c.data.length, 'total bytes = head + body');
});

test('server :: a port already in use stops the start with EADDRINUSE (not an accept error)', async () => {
  const { port } = await startTest([], clock);
  const { start } = await import('../lib/run/start.js');
  const { parseArgs } = await import('../lib/core/config.js');
  try {
    await start(parseArgs(['--listen', `127.0.0.1:${port}`]).config, { inherited: [], manualClock: true });
    assert.unreachable('the second listener must not start');
  } catch (err) {
    assert.is((err as NodeJS.ErrnoException).code, 'EADDRINUSE');
  }
});

test.run();
