// The server's canned set: shared Buffers, rebuilt at most once per second and only when something is answered.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Responses } from '../lib/http/responses.js';

const T = 784111777; // Sun, 06 Nov 1994 08:49:37 GMT (RFC 9110's example date)

test('responses :: the same Buffer within a second, a new one with the next second\'s Date', () => {
  const r = new Responses(T);
  const a = r.get('not-found', true, false);
  assert.is(r.get('not-found', true, false), a, 'shared');
  assert.ok(a.toString('latin1').includes('\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n'));
  r.refresh(T);
  assert.is(r.get('not-found', true, false), a, 'same second: not rebuilt');
  r.refresh(T + 1);
  const b = r.get('not-found', true, false);
  assert.is.not(b, a);
  assert.ok(b.toString('latin1').includes('\r\nDate: Sun, 06 Nov 1994 08:49:38 GMT\r\n'));
  assert.ok(r.streamHead().toString('latin1').includes('08:49:38 GMT'), 'the stream head follows too');
});

test('responses :: variants: keep-alive or close, HEAD without the body', () => {
  const r = new Responses(T);
  const get = r.get('robots', false, false).toString('latin1');
  const head = r.get('robots', false, true).toString('latin1');
  assert.match(get, /\r\nConnection: close\r\n/);
  assert.match(r.get('robots', true, false).toString('latin1'), /\r\nConnection: keep-alive\r\n/);
  assert.is(head, get.slice(0, get.indexOf('\r\n\r\n') + 4), 'HEAD is the GET head');
  assert.match(r.fault('too-large').toString('latin1'), /^HTTP\/1\.1 431 .*\r\nConnection: close\r\n/s);
});

test.run();
