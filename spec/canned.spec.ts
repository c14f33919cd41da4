import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { STATUS_TEXT, buildHead, buildResponse, httpDate } from '../lib/http/canned.js';

const RFC_EXAMPLE = 784111777; // RFC 9110 §5.6.7: Sun, 06 Nov 1994 08:49:37 GMT

test('canned :: httpDate is the RFC 9110 example', () => {
  assert.is(httpDate(RFC_EXAMPLE), 'Sun, 06 Nov 1994 08:49:37 GMT');
});

test('canned :: httpDate matches Date#toUTCString across years, leap days and boundaries', () => {
  const seconds = [0, 59, 951782400 /* 2000-02-29 */, 1709251199, 2 ** 31, 4102444800, 253402300799 /* 9999-12-31 */];
  for (let t = 1; t <= 400; t++) seconds.push((t * 633_825_301_447) % 253402300799); // spread over 0000-9999
  seconds.push(Math.floor(Date.now() / 1000));
  for (const s of seconds) {
    const got = httpDate(s);
    assert.is(got, new Date(s * 1000).toUTCString(), String(s));
    assert.ok(/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/.test(got), got);
  }
  assert.is(httpDate(12.9), httpDate(12), 'fractions of a second are dropped');
  assert.throws(() => httpDate(Date.now()), 'milliseconds by mistake: year out of range');
});

test('canned :: exact bytes of a 404', () => {
  const got = buildResponse(404, httpDate(RFC_EXAMPLE), { keepAlive: false, body: 'not found\n' });
  assert.is(
    got.toString('latin1'),
    'HTTP/1.1 404 Not Found\r\n' +
      'Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n' +
      'Server: timegif\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'Content-Length: 10\r\n' +
      'Connection: close\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      '\r\n' +
      'not found\n',
  );
});

test('canned :: exact bytes with keep-alive, extra headers and a binary body', () => {
  const body = new Uint8Array([0x47, 0x49, 0x46, 0x00, 0xff]);
  const o = { keepAlive: true, body, contentType: 'image/gif', headers: [['Retry-After', '10'], ['Cache-Control', 'no-cache, no-store']] as [string, string][] };
  const head =
    'HTTP/1.1 503 Service Unavailable\r\n' +
    'Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n' +
    'Server: timegif\r\n' +
    'Content-Type: image/gif\r\n' +
    'Content-Length: 5\r\n' +
    'Connection: keep-alive\r\n' +
    'X-Content-Type-Options: nosniff\r\n' +
    'Retry-After: 10\r\n' +
    'Cache-Control: no-cache, no-store\r\n' +
    '\r\n';
  const date = httpDate(RFC_EXAMPLE);
  assert.equal(buildResponse(503, date, o), Buffer.concat([Buffer.from(head, 'latin1'), body]));
  assert.equal(buildHead(503, date, o), Buffer.from(head, 'latin1'), 'HEAD: the same head, no body');
});

test('canned :: Content-Length counts UTF-8 bytes; no body means no Content-Type', () => {
  const r = buildResponse(200, 'x', { keepAlive: true, body: 'héllo ⏰\n' }).toString('latin1');
  assert.ok(r.includes('\r\nContent-Length: 11\r\n'), r);
  const empty = buildResponse(404, 'x', { keepAlive: true }).toString('latin1');
  assert.ok(empty.includes('\r\nContent-Length: 0\r\n'));
  assert.not.ok(empty.includes('\r\nContent-Type:'));
  const none = buildResponse(204, 'x', { keepAlive: true }).toString('latin1');
  assert.is(none.split('\r\n')[0], 'HTTP/1.1 204 No Content');
  assert.not.ok(none.includes('Content-Length'), 'RFC 9110 §8.6: no Content-Length on 204');
});

test('canned :: header injection and misuse are refused when built', () => {
  const d = httpDate(RFC_EXAMPLE);
  const bad: [string, () => unknown][] = [
    ['CRLF in a value', () => buildResponse(200, d, { keepAlive: true, headers: [['Location', '/x\r\nSet-Cookie: a=b']] })],
    ['LF in a value', () => buildResponse(200, d, { keepAlive: true, headers: [['Location', '/x\nX: y']] })],
    ['NUL in a value', () => buildResponse(200, d, { keepAlive: true, headers: [['X-A', 'a\0b']] })],
    ['non-ASCII in a value', () => buildResponse(200, d, { keepAlive: true, headers: [['X-A', 'é']] })],
    ['leading space in a value', () => buildResponse(200, d, { keepAlive: true, headers: [['X-A', ' a']] })],
    ['colon in a name', () => buildResponse(200, d, { keepAlive: true, headers: [['X-A: b\r\nX-B', 'c']] })],
    ['space in a name', () => buildResponse(200, d, { keepAlive: true, headers: [['X A', 'c']] })],
    ['empty name', () => buildResponse(200, d, { keepAlive: true, headers: [['', 'c']] })],
    ['a second Content-Length', () => buildResponse(200, d, { keepAlive: true, headers: [['content-length', '0']] })],
    ['a second Connection', () => buildResponse(200, d, { keepAlive: true, headers: [['Connection', 'close']] })],
    ['CRLF in the content type', () => buildResponse(200, d, { keepAlive: true, body: 'x', contentType: 'text/html\r\nX: y' })],
    ['CRLF in the date', () => buildHead(200, `${d}\r\nX: y`, { keepAlive: true })],
    ['unknown status', () => buildResponse(299, d, { keepAlive: true })],
    ['a body on 204', () => buildResponse(204, d, { keepAlive: true, body: 'x' })],
  ];
  for (const [name, fn] of bad) assert.throws(fn, name);
});

test('canned :: every STATUS_TEXT entry builds', () => {
  for (const code of Object.keys(STATUS_TEXT).map(Number)) {
    const r = buildHead(code, 'd', { keepAlive: false }).toString('latin1');
    assert.is(r.split('\r\n')[0], `HTTP/1.1 ${code} ${STATUS_TEXT[code]}`);
  }
});

/** Sends `bytes` as the whole answer to one request and lets node:http (llhttp) parse it. */
async function viaNodeClient(bytes: Buffer, method: string): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }> {
  const server = net.createServer((sock) => {
    sock.once('data', () => sock.end(bytes));
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  try {
    const { port } = server.address() as AddressInfo;
    return await new Promise((ok, fail) => {
      const req = http.request({ host: '127.0.0.1', port, method, path: '/', agent: false }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c));
        res.on('end', () => ok({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts) }));
        res.on('error', fail);
      });
      req.on('error', fail);
      req.end();
    });
  } finally {
    server.close();
  }
}

test('canned :: an independent HTTP client reads the responses', async () => {
  const o = { keepAlive: false, body: 'robots: none ✓\n', headers: [['Cache-Control', 'max-age=60']] as [string, string][] };
  const date = httpDate(Math.floor(Date.now() / 1000));
  const get = await viaNodeClient(buildResponse(200, date, o), 'GET');
  assert.is(get.status, 200);
  assert.is(get.headers['date'], date);
  assert.is(get.headers['server'], 'timegif');
  assert.is(get.headers['connection'], 'close');
  assert.is(get.headers['cache-control'], 'max-age=60');
  assert.is(get.headers['x-content-type-options'], 'nosniff');
  assert.is(get.headers['content-type'], 'text/plain; charset=utf-8');
  assert.is(get.body.toString('utf8'), o.body);
  assert.is(Number(get.headers['content-length']), Buffer.byteLength(o.body));
  const head = await viaNodeClient(buildHead(200, date, o), 'HEAD');
  assert.is(head.status, 200);
  assert.is(head.body.length, 0);
  assert.is(Number(head.headers['content-length']), Buffer.byteLength(o.body));
});

test.run();
