// HTTP/2 on the wire (node:http2 client over TLS): streams reset or sessions closed mid-frame, a stream that
// stops reading (flow control) skipped and then evicted, :authority checked, many GIFs on one connection.
// Every case ends with the server's viewers and connections back at zero.

import { OPENSSL_MISSING, testNeeding } from './tools.js';
import * as assert from 'uvu/assert';
import { constants } from 'node:http2';
import { TRANSPORT } from '../lib/stream/viewer.js';
import { h2Session, h2Stream, makeCert, nowSecond, secondsShown, startServer, waitFor, waitIdle } from './helpers.js';

// Every spec here needs openssl for its certificate: reported as skipped without it (a failure under CI).
const test = testNeeding(OPENSSL_MISSING);
const cert = OPENSSL_MISSING === null ? makeCert(['localhost', 'time.example']) : { dir: '', cert: '', key: '', remove: () => undefined };

test('http2 :: a stream reset mid-frame is cleaned up, its session keeps working', async () => {
  const { inst, httpsPort } = await startServer([], cert);
  try {
    // A 40-byte window and a client that stops reading after it: the prologue arrives, the keyframe cannot.
    const session = await h2Session(httpsPort, 'localhost', { initialWindowSize: 40 });
    const a = await h2Stream(session, '/time.gif', 'localhost', true);
    await waitFor(() => a.gif.prologue !== null, 'the prologue');
    assert.is(a.gif.frames.length, 0, 'no whole frame yet');
    assert.is(inst.app.viewers, 1);
    a.stream.close(constants.NGHTTP2_CANCEL);
    await waitFor(() => inst.app.viewers === 0, 'viewer closed after RST_STREAM');
    assert.is(inst.app.connections, 1, 'the session stays open');
    assert.is(inst.app.h2Sessions.size, 1);
    // The same session can start another stream.
    session.settings({ initialWindowSize: 65535 });
    const b = await h2Stream(session);
    await waitFor(() => b.gif.frames.length >= 1, 'a frame on the second stream');
    assert.is(inst.app.viewers, 1);
    b.close();
    session.close(); // GOAWAY once no stream is left
    await waitIdle(inst);
    assert.is(inst.app.h2Sessions.size, 0);
  } finally {
    await inst.drain();
  }
});

test('http2 :: a session destroyed mid-frame is cleaned up', async () => {
  const { inst, httpsPort } = await startServer([], cert);
  try {
    const session = await h2Session(httpsPort, 'localhost', { initialWindowSize: 40 });
    const streams = await Promise.all(
      ['/time.gif', '/time.gif?tz=Europe/Berlin', '/time.gif?r=2'].map((p) => h2Stream(session, p, 'localhost', true)),
    );
    await waitFor(() => streams.every((s) => s.gif.prologue !== null), 'prologues');
    assert.ok(streams.every((s) => s.gif.frames.length === 0), 'no whole frame yet');
    assert.is(inst.app.viewers, 3);
    assert.is(inst.app.viewersByTransport[TRANSPORT.H2], 3);
    assert.is(inst.app.channels.channels.size, 2, 'UTC and Berlin channels');
    session.destroy(); // TCP close, no GOAWAY
    await waitIdle(inst);
    assert.is(inst.app.h2Sessions.size, 0);
    assert.is(inst.app.viewersByTransport[TRANSPORT.H2], 0);
  } finally {
    await inst.drain();
  }
});

test('http2 :: a stream that stops reading is skipped, then evicted with CANCEL; others keep every frame', async () => {
  const { inst, httpsPort } = await startServer([], cert, { fanout: { maxBacklogBytes: 1, stallMs: 2000 } });
  try {
    // Window 0: the server cannot send a byte of body, so the stream's intro stays queued in the server.
    const stuckSession = await h2Session(httpsPort, 'localhost', { initialWindowSize: 0 });
    const stuck = await h2Stream(stuckSession);
    const goodSession = await h2Session(httpsPort);
    const t0 = nowSecond();
    const good = await h2Stream(goodSession);
    assert.is(inst.app.viewers, 2);
    const closed = new Promise<number>((resolve) => stuck.stream.once('close', () => resolve(stuck.stream.rstCode ?? -1)));
    await waitFor(() => inst.app.metrics.viewersEvicted === 1, 'the stuck stream evicted', 8000);
    assert.is(await closed, constants.NGHTTP2_CANCEL, 'reset with CANCEL');
    assert.ok(inst.app.metrics.framesSkipped >= 2, `frames skipped: ${inst.app.metrics.framesSkipped}`);
    assert.is(stuck.gif.frames.length, 0, 'the stuck stream got no frame');
    assert.is(inst.app.viewers, 1, 'the good viewer stays');
    // The good viewer got consecutive seconds, nothing skipped.
    const shown = secondsShown(good.gif.gif(), t0 - 1, t0 + 30);
    assert.ok(shown.length >= 3, `frames on the good stream: ${shown.length}`);
    shown.forEach((s, k) => assert.is(s, shown[0]! + k, `good frame ${k}`));
    // The stuck stream's session is still open (only the stream was reset) until the client closes it.
    assert.is(inst.app.connections, 2);
    stuckSession.destroy();
    goodSession.destroy();
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

test('http2 :: a wrong :authority gets 421, a listed one the stream', async () => {
  const { inst, httpsPort } = await startServer(['--hosts', 'time.example'], cert);
  try {
    const session = await h2Session(httpsPort, 'time.example');
    const wrong = await h2Stream(session, '/time.gif', 'other.example');
    assert.is(wrong.status, 421);
    assert.is(inst.app.metrics.rejects.get('unknown-host'), 1);
    assert.is(inst.app.viewers, 0);
    const withPort = await h2Stream(session, '/time.gif', `TIME.example:${httpsPort}`);
    assert.is(withPort.status, 200, 'case and port ignored');
    assert.is(withPort.headers['content-type'], 'image/gif');
    assert.is(inst.app.viewers, 1);
    const page = await h2Stream(session, '/', 'time.example');
    assert.is(page.status, 200);
    assert.ok(page.headers['content-type']!.startsWith('text/html'));
    session.destroy();
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

test('http2 :: twenty GIFs share one connection and all advance', async () => {
  const { inst, httpsPort } = await startServer([], cert);
  try {
    const session = await h2Session(httpsPort);
    const streams = await Promise.all(Array.from({ length: 20 }, (_, i) => h2Stream(session, `/time.gif?r=${i}`)));
    assert.is(inst.app.viewers, 20);
    assert.is(inst.app.connections, 1);
    await waitFor(() => streams.every((s) => s.gif.frames.length >= 3), 'three frames on every stream', 6000);
    assert.is(inst.app.metrics.connectionsAccepted, 1);
    assert.is(inst.app.h2Sessions.size, 1);
    for (const s of streams) s.close();
    session.close();
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

test('http2 :: drain ends every stream with the GIF trailer', async () => {
  const { inst, httpsPort } = await startServer([], cert);
  const session = await h2Session(httpsPort);
  const s = await h2Stream(session);
  await waitFor(() => s.gif.frames.length >= 1, 'a frame');
  const ended = new Promise<void>((resolve) => s.stream.once('end', resolve));
  s.stream.resume();
  await inst.drain();
  await ended;
  assert.ok(s.gif.ended, 'the trailer arrived');
  assert.is(inst.app.viewers, 0);
  session.destroy();
});

test.after(() => cert.remove());

test.run();
