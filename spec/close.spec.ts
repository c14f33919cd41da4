// How connections end, on the wire: every close reason a bad request can cause is produced and counted under its
// own name (not as 'done'), a peer's reset is an 'error', and at --max-connections idle keep-alive connections are
// reclaimed (oldest first) before a new connection is refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient, drainAll, startTest } from './wire.js';
import { waitFor } from './helpers.js';
import type { Instance } from '../lib/run/start.js';
import { RECLAIM_BATCH } from '../lib/core/limits.js';

const closes = (inst: Instance, reason: string): number => inst.app.metrics.closes.get(reason) ?? 0;

const FAULTS: [string, string, number][] = [
  ['bad-request', 'GET / HTTP/1.1\r\nHost: localhost\r\nBad Header\r\n\r\n', 400],
  ['uri-too-long', `GET /${'a'.repeat(9000)} HTTP/1.1\r\nHost: localhost\r\n\r\n`, 414],
  ['too-large', `GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431],
  ['bad-version', 'GET / HTTP/2.5\r\nHost: localhost\r\n\r\n', 505],
];

test('close :: each request fault closes under its own reason, answered with its status', async () => {
  const { inst, port } = await startTest();
  for (const [reason, bytes, status] of FAULTS) {
    const before = closes(inst, reason);
    const c = await RawClient.open(port);
    c.send(bytes);
    await c.untilClosed();
    assert.is(c.status, status, reason);
    await waitFor(() => closes(inst, reason) === before + 1, `closes{reason=${reason}}`);
  }
  assert.is(closes(inst, 'done'), 0, 'no fault counted as done');
  await drainAll();
});

test('close :: a peer that resets a stream is counted as error, one that closes as client-closed', async () => {
  const { inst, port } = await startTest();
  for (const [how, reason] of [['reset', 'error'], ['fin', 'client-closed']] as const) {
    const c = await RawClient.open(port);
    c.send('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await c.until(() => c.headEnd > 0, 3000, 'the stream');
    if (how === 'reset') c.socket.resetAndDestroy();
    else c.socket.end();
    await waitFor(() => closes(inst, reason) === 1, `closes{reason=${reason}}`);
    assert.is(inst.app.viewers, 0);
  }
  await drainAll();
});

async function keptAlive(port: number): Promise<RawClient> {
  const c = await RawClient.open(port);
  c.send('GET /robots.txt HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await c.until(() => c.headEnd > 0 && c.text.includes('Disallow'), 3000, 'an answer');
  return c;
}

test('close :: at --max-connections idle keep-alive connections are reclaimed (a batch, like nginx) for a new one', async () => {
  const { inst, port } = await startTest(['--max-connections', '3']);
  const idle = [await keptAlive(port), await keptAlive(port), await keptAlive(port)];
  assert.is(inst.app.metrics.connectionsOpen, 3);
  const fresh = await keptAlive(port);
  assert.match(fresh.text, 'HTTP/1.1 200 OK', 'the new visitor is served');
  for (const c of idle) {
    await c.untilClosed();
    assert.is(c.closeKind, 'end', 'an idle one got a FIN, not a reset');
  }
  assert.is(closes(inst, 'reclaimed'), 3, `up to RECLAIM_BATCH (${RECLAIM_BATCH}) at once`);
  assert.not.ok(fresh.closed, 'the new one is kept');
  assert.is(inst.app.metrics.rejects.get('max-connections') ?? 0, 0);
  for (const c of [...idle, fresh]) c.close();
  await drainAll();
});

test('close :: a cap full of viewers and half-read heads is not reclaimed: the new connection is refused', async () => {
  const { inst, port } = await startTest(['--max-connections', '2']);
  const stream = await RawClient.open(port);
  stream.send('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await stream.until(() => stream.headEnd > 0, 3000, 'the stream');
  const half = await RawClient.open(port);
  half.send('GET /robots.txt HTTP/1.1\r\nHost: loc');
  await waitFor(() => inst.app.metrics.connectionsOpen === 2, 'two open');
  const over = new RawClient(port);
  await over.untilClosed();
  assert.is(over.data.length, 0, 'dropped without a byte');
  assert.is(inst.app.metrics.rejects.get('max-connections'), 1);
  assert.is(closes(inst, 'reclaimed'), 0);
  assert.not.ok(stream.closed || half.closed, 'neither the viewer nor the request being read was touched');
  stream.close();
  half.close();
  await drainAll();
});

test.after.each(drainAll);
test.run();
