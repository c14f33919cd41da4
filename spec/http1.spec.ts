// Exact bytes in, status + reason + fields out; every case is also fed at every split point and one byte
// at a time, and must give the same answer.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mulberry32 } from './random.js';
import { PARSE, RequestParser, type ParseStatus } from '../lib/http/http1-parser.js';
import { normalizeHost } from '../lib/http/http1-fields.js';
import { MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_TARGET_BYTES } from '../lib/core/limits.js';

const NAME: Record<number, string> = Object.fromEntries(Object.entries(PARSE).map(([k, v]) => [v, k]));

interface Outcome {
  status: string;
  reason: string;
  method?: string;
  target?: string;
  path?: string;
  query?: string;
  versionMinor?: number;
  host?: string | null;
  keepAlive?: boolean;
  hasBody?: boolean;
  userAgent?: string;
  referer?: string;
  authorization?: string;
  headerCount?: number;
  headerBytes?: number;
  /** Absolute offset in the input just past the head (DONE only). */
  end?: number;
}

function snapshot(p: RequestParser, status: ParseStatus, lastChunkAt: number): Outcome {
  const o: Outcome = { status: NAME[status]!, reason: p.reason, headerBytes: p.headerBytes, headerCount: p.headerCount };
  if (status !== PARSE.DONE) return o;
  return {
    ...o,
    method: p.method,
    target: p.target,
    path: p.path,
    query: p.query,
    versionMinor: p.versionMinor,
    host: p.host,
    keepAlive: p.keepAlive,
    hasBody: p.hasBody,
    userAgent: p.userAgent,
    referer: p.referer,
    authorization: p.authorization,
    end: lastChunkAt + p.consumed,
  };
}

/** Feeds `input` in pieces cut at `cuts` (ascending offsets); stops at the first status other than NEED_MORE. */
function feed(input: Buffer, cuts: number[], p = new RequestParser()): Outcome {
  let from = 0;
  let status: ParseStatus = PARSE.NEED_MORE;
  for (const to of [...cuts, input.length]) {
    status = p.execute(input.subarray(from, to));
    if (status !== PARSE.NEED_MORE) return snapshot(p, status, from);
    from = to;
  }
  return snapshot(p, status, from);
}

const whole = (input: Buffer): Outcome => feed(input, []);
const bytewise = (input: Buffer): Outcome => feed(input, Array.from({ length: input.length - 1 }, (_, k) => k + 1));
const bin = (s: string): Buffer => Buffer.from(s, 'latin1');

/** Every split point for small inputs; a stride through large ones (bounded CPU); one byte at a time always. */
function assertSplitsAgree(input: Buffer, label: string): void {
  const expected = whole(input);
  const stride = input.length <= 1024 ? 1 : 97;
  for (let at = 1; at < input.length; at += stride) {
    assert.equal(feed(input, [at]), expected, `${label}: split at ${at}`);
  }
  assert.equal(bytewise(input), expected, `${label}: one byte at a time`);
}

// ---- good requests ----------------------------------------------------------------------------------------

const CHROME =
  'GET /time.gif HTTP/1.1\r\n' +
  'Host: time.example.org\r\n' +
  'Connection: keep-alive\r\n' +
  'sec-ch-ua: "Chromium";v="124", "Google Chrome";v="124", "Not-A.Brand";v="99"\r\n' +
  'sec-ch-ua-mobile: ?0\r\n' +
  'User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n' +
  'sec-ch-ua-platform: "Linux"\r\n' +
  'Accept: image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8\r\n' +
  'Sec-Fetch-Site: same-origin\r\n' +
  'Sec-Fetch-Mode: no-cors\r\n' +
  'Sec-Fetch-Dest: image\r\n' +
  'Referer: https://time.example.org/\r\n' +
  'Accept-Encoding: gzip, deflate, br, zstd\r\n' +
  'Accept-Language: en-US,en;q=0.9\r\n' +
  '\r\n';

interface Good {
  name: string;
  input: string;
  want: Partial<Outcome>;
}

const LONG_UA = 'U'.repeat(300);

const GOOD: Good[] = [
  {
    name: 'a Chrome image request',
    input: CHROME,
    want: {
      method: 'GET', target: '/time.gif', path: '/time.gif', query: '', versionMinor: 1, host: 'time.example.org',
      keepAlive: true, hasBody: false, referer: 'https://time.example.org/', headerCount: 13, end: CHROME.length,
      userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36',
    },
  },
  {
    name: 'query split from path at the first ?',
    input: 'GET /time.gif?tz=Europe/Berlin&x=?y HTTP/1.1\r\nHost: a\r\n\r\n',
    want: { target: '/time.gif?tz=Europe/Berlin&x=?y', path: '/time.gif', query: 'tz=Europe/Berlin&x=?y' },
  },
  {
    name: 'HEAD over HTTP/1.0 without Host closes',
    input: 'HEAD / HTTP/1.0\r\n\r\n',
    want: { method: 'HEAD', versionMinor: 0, host: null, keepAlive: false, headerCount: 0 },
  },
  { name: 'HTTP/1.0 keep-alive', input: 'GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n', want: { keepAlive: true, host: null } },
  { name: 'HTTP/1.1 Connection: close', input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n', want: { keepAlive: false } },
  { name: 'close inside a token list', input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade , CLOSE\r\n\r\n', want: { keepAlive: false } },
  { name: 'close wins over keep-alive', input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n', want: { keepAlive: false } },
  { name: 'a token that only contains close', input: 'GET / HTTP/1.1\r\nHost: a\r\nConnection: closed, xclose\r\n\r\n', want: { keepAlive: true } },
  {
    name: 'absolute-form: reduced to path, its host wins over Host',
    input: 'GET http://Time.Example.ORG:8080/time.gif?tz=UTC HTTP/1.1\r\nHost: other.example\r\n\r\n',
    want: { target: '/time.gif?tz=UTC', path: '/time.gif', query: 'tz=UTC', host: 'time.example.org' },
  },
  { name: 'absolute-form with an empty path', input: 'GET HTTPS://example.com HTTP/1.1\r\nHost: x\r\n\r\n', want: { target: '/', path: '/', host: 'example.com' } },
  { name: 'absolute-form with only a query', input: 'GET http://example.com?a=1 HTTP/1.1\r\nHost: x\r\n\r\n', want: { target: '/?a=1', path: '/', query: 'a=1' } },
  { name: 'OPTIONS *', input: 'OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n', want: { method: 'OPTIONS', target: '*', path: '*' } },
  { name: 'an unknown method is kept', input: 'BREW /pot HTTP/1.1\r\nHost: a\r\n\r\n', want: { method: 'BREW', path: '/pot' } },
  { name: 'POST with a body', input: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello', want: { method: 'POST', hasBody: true, keepAlive: false, end: 48 } },
  { name: 'Content-Length: 0 is no body', input: 'POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n', want: { hasBody: false, keepAlive: true } },
  { name: 'equal duplicate Content-Length', input: 'POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\ncontent-length: 007\r\n\r\n', want: { hasBody: true } },
  { name: 'Transfer-Encoding is a body', input: 'POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', want: { hasBody: true, keepAlive: false } },
  { name: 'leading empty lines are skipped (RFC 9112 §2.2)', input: '\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n', want: { path: '/', headerBytes: 31, end: 31 } },
  { name: 'HTTP/1.2 is handled as 1.1', input: 'GET / HTTP/1.2\r\nHost: a\r\n\r\n', want: { versionMinor: 1 } },
  { name: 'IPv6 literal Host keeps brackets, drops port', input: 'GET / HTTP/1.1\r\nHost: [2001:DB8::1]:8080\r\n\r\n', want: { host: '[2001:db8::1]' } },
  { name: 'IPv4 Host with port', input: 'GET / HTTP/1.1\r\nHost: 127.0.0.1:80\r\n\r\n', want: { host: '127.0.0.1' } },
  { name: 'an empty Host value is allowed (RFC 9112 §3.2)', input: 'GET / HTTP/1.1\r\nHost:\r\n\r\n', want: { host: '' } },
  { name: 'OWS around a value is trimmed', input: 'GET / HTTP/1.1\r\nHost: \t Example.com \t \r\nUser-Agent:  a b  \r\n\r\n', want: { host: 'example.com', userAgent: 'a b' } },
  {
    name: 'field names match in any case',
    input: 'GET / HTTP/1.1\r\nhOST: a\r\nUSER-AGENT: ua\r\nreferer: r\r\nAUTHORIZATION: Bearer t\r\ncOnNeCtIoN: close\r\n\r\n',
    want: { host: 'a', userAgent: 'ua', referer: 'r', authorization: 'Bearer t', keepAlive: false, headerCount: 5 },
  },
  {
    name: 'look-alike names are not the known fields',
    input: 'GET / HTTP/1.0\r\nHosts: a\r\nX-Host: b\r\nUser-Agents: c\r\nContent-Lengthy: x\r\nTransfer-Encodings: x\r\nConnectionx: keep-alive\r\n\r\n',
    want: { host: null, userAgent: '', hasBody: false, keepAlive: false, headerCount: 6 },
  },
  {
    name: 'User-Agent, Referer, Authorization are cut to 256 bytes; obs-text is kept',
    input: `GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: ${LONG_UA}\r\nReferer: caf\xe9\r\nAuthorization: ${LONG_UA}\r\n\r\n`,
    want: { userAgent: LONG_UA.slice(0, 256), authorization: LONG_UA.slice(0, 256), referer: 'caf\xe9' },
  },
  { name: 'first User-Agent is kept', input: 'GET / HTTP/1.1\r\nHost: a\r\nUser-Agent: one\r\nUser-Agent: two\r\n\r\n', want: { userAgent: 'one' } },
  {
    name: 'pipelined bytes after the head are not consumed',
    input: 'GET /a HTTP/1.1\r\nHost: a\r\n\r\nGET /b HTTP/1.1\r\nHost: b\r\n\r\n',
    want: { path: '/a', host: 'a', end: 28 },
  },
];

for (const g of GOOD) {
  test(`http1 :: DONE: ${g.name}`, () => {
    const input = bin(g.input);
    const got = whole(input);
    assert.is(got.status, 'DONE', `reason ${got.reason}`);
    assert.is(got.reason, '');
    for (const [k, v] of Object.entries(g.want)) assert.equal(got[k as keyof Outcome], v, k);
    assertSplitsAgree(input, g.name);
  });
}

// ---- bad requests -----------------------------------------------------------------------------------------

interface Bad {
  name: string;
  input: string;
  status: keyof typeof PARSE;
  reason: string;
}

const H = 'GET / HTTP/1.1\r\nHost: a\r\n';
const BAD: Bad[] = [
  { name: 'TLS ClientHello on the plain port', input: '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'binary junk', input: '\xff\xfe\x00\x01garbage', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'a space before the method', input: ' GET / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'method only', input: 'GET\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'no version (HTTP/0.9 style)', input: 'GET /\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'empty version', input: 'GET / \r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'double space before the target', input: 'GET  / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'double space before the version', input: 'GET /  HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'space after the version', input: 'GET / HTTP/1.1 \r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'lower-case http', input: 'GET / http/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'minor version of two digits', input: 'GET / HTTP/1.10\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'version without minor', input: 'GET / HTTP/1.\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'bad method characters', input: 'G@T / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'method with a slash', input: 'GET/ / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'method of 33 bytes', input: `${'A'.repeat(33)} / HTTP/1.1\r\n`, status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'too many leading empty lines', input: '\r\n'.repeat(5) + 'GET / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-request-line' },
  { name: 'HTTP/2.0', input: 'GET / HTTP/2.0\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: 'HTTP/3', input: 'GET / HTTP/3\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: 'HTTP/0.9', input: 'GET / HTTP/0.9\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: 'HTTP/11.1', input: 'GET / HTTP/11.1\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: 'OPTIONS * HTTP/2.0', input: 'OPTIONS * HTTP/2.0\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: 'the HTTP/2 connection preface', input: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 'H2_PREFACE', reason: 'h2-preface' },
  { name: 'PRI * over HTTP/1.1', input: 'PRI * HTTP/1.1\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'PRI with a path and HTTP/2.0', input: 'PRI / HTTP/2.0\r\n\r\n', status: 'BAD_VERSION', reason: 'bad-version' },
  { name: '* with GET', input: 'GET * HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: '*x with OPTIONS', input: 'OPTIONS *x HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'target without a leading slash', input: 'GET %2F HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'control character in the target', input: 'GET /a\x01b HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'DEL in the target', input: 'GET /a\x7f HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'HTAB in the target', input: 'GET /a\tb HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'non-ASCII bytes in the target', input: 'GET /caf\xc3\xa9 HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'NUL in the target', input: 'GET /a\x00 HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'nul-byte' },
  { name: 'NUL in the method', input: 'GE\x00T / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'nul-byte' },
  { name: 'absolute-form with another scheme', input: 'GET ftp://example.com/ HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'absolute-form with userinfo', input: 'GET http://user@example.com/ HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'absolute-form with an empty host', input: 'GET http:///x HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'absolute-form with a bad port', input: 'GET http://example.com:8o/ HTTP/1.1\r\nHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-target' },
  { name: 'a 10 KB target', input: `GET /${'a'.repeat(10_000)} HTTP/1.1\r\nHost: a\r\n\r\n`, status: 'URI_TOO_LONG', reason: 'uri-too-long' },
  { name: 'space before the colon', input: 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', status: 'BAD_REQUEST', reason: 'header-syntax' },
  { name: 'no colon', input: `${H}X-Thing\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-syntax' },
  { name: 'no colon, words', input: `${H}Hello world\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-syntax' },
  { name: 'empty field name', input: `${H}: value\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-syntax' },
  { name: 'separator in a field name', input: `${H}X(a): b\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-syntax' },
  { name: 'obs-fold', input: `${H}X-A: one\r\n two\r\n\r\n`, status: 'BAD_REQUEST', reason: 'obs-fold' },
  { name: 'obs-fold with HTAB', input: `${H}X-A: one\r\n\ttwo\r\n\r\n`, status: 'BAD_REQUEST', reason: 'obs-fold' },
  { name: 'whitespace line after the request line', input: 'GET / HTTP/1.1\r\n Host: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'obs-fold' },
  { name: 'bare LF everywhere', input: 'GET / HTTP/1.1\nHost: a\n\n', status: 'BAD_REQUEST', reason: 'bare-lf' },
  { name: 'bare LF after a field', input: 'GET / HTTP/1.1\r\nHost: a\nX: b\r\n\r\n', status: 'BAD_REQUEST', reason: 'bare-lf' },
  { name: 'bare LF ending the head', input: `${H}\n`, status: 'BAD_REQUEST', reason: 'bare-lf' },
  { name: 'bare LF before the request line', input: '\nGET / HTTP/1.1\r\n', status: 'BAD_REQUEST', reason: 'bare-lf' },
  { name: 'bare CR in a value', input: `${H}X-A: a\rb\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bare-cr' },
  { name: 'bare CR after the request line', input: 'GET / HTTP/1.1\rHost: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'bare-cr' },
  { name: 'CR CR at the end', input: `${H}\r\r\n`, status: 'BAD_REQUEST', reason: 'bare-cr' },
  { name: 'NUL in a value', input: `${H}X-A: a\x00b\r\n\r\n`, status: 'BAD_REQUEST', reason: 'nul-byte' },
  { name: 'NUL in a name', input: `${H}X-\x00A: b\r\n\r\n`, status: 'BAD_REQUEST', reason: 'nul-byte' },
  { name: 'control character in a value', input: `${H}X-A: a\x01b\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-value' },
  { name: 'control character starting a value', input: `${H}X-A: \x1bb\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-value' },
  { name: 'DEL in a value', input: `${H}X-A: a\x7f\r\n\r\n`, status: 'BAD_REQUEST', reason: 'header-value' },
  { name: 'HTTP/1.1 without Host', input: 'GET / HTTP/1.1\r\nUser-Agent: a\r\n\r\n', status: 'BAD_REQUEST', reason: 'missing-host' },
  { name: 'absolute-form still needs Host over 1.1', input: 'GET http://a/ HTTP/1.1\r\n\r\n', status: 'BAD_REQUEST', reason: 'missing-host' },
  { name: 'two Host fields', input: `${H}host: b\r\n\r\n`, status: 'BAD_REQUEST', reason: 'duplicate-host' },
  { name: 'two equal Host fields', input: `${H}Host: a\r\n\r\n`, status: 'BAD_REQUEST', reason: 'duplicate-host' },
  { name: 'Host with a space', input: 'GET / HTTP/1.1\r\nHost: a b\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Host with a bad port', input: 'GET / HTTP/1.1\r\nHost: a:80x\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Host with only a port', input: 'GET / HTTP/1.1\r\nHost: :80\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Host with a slash', input: 'GET / HTTP/1.1\r\nHost: a/b\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Host with non-ASCII bytes', input: 'GET / HTTP/1.1\r\nHost: caf\xc3\xa9.example\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Host with a bad IPv6 literal', input: 'GET / HTTP/1.1\r\nHost: [zz::1]\r\n\r\n', status: 'BAD_REQUEST', reason: 'bad-host' },
  { name: 'Content-Length not digits', input: `${H}Content-Length: abc\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Content-Length negative', input: `${H}Content-Length: -1\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Content-Length as a list', input: `${H}Content-Length: 1, 1\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Content-Length empty', input: `${H}Content-Length:\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Content-Length of 16 digits', input: `${H}Content-Length: 1234567890123456\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Content-Length duplicates disagree', input: `${H}Content-Length: 5\r\nContent-Length: 6\r\n\r\n`, status: 'BAD_REQUEST', reason: 'bad-content-length' },
  { name: 'Transfer-Encoding with Content-Length', input: `${H}Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`, status: 'BAD_REQUEST', reason: 'te-and-cl' },
  { name: 'Content-Length with Transfer-Encoding', input: `${H}Content-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n`, status: 'BAD_REQUEST', reason: 'te-and-cl' },
];

for (const c of BAD) {
  test(`http1 :: ${c.status}: ${c.name}`, () => {
    const input = bin(c.input);
    const got = whole(input);
    assert.is(got.status, c.status);
    assert.is(got.reason, c.reason);
    assertSplitsAgree(input, c.name);
  });
}

// ---- limits -----------------------------------------------------------------------------------------------

/** A head of exactly `size` bytes: request line, Host, filler fields of ~200 bytes, final CRLF. */
function headOfSize(size: number): string {
  let s = 'GET / HTTP/1.1\r\nHost: a\r\n';
  for (let n = 0; ; n++) {
    const left = size - s.length - 2; // bytes before the final CRLF
    if (left === 0) break;
    const take = left >= 216 ? 200 : left; // the last filler takes the rest
    s += `X-${n}: `.padEnd(take - 2, 'v') + '\r\n';
  }
  if (s.length + 2 !== size) throw new Error('headOfSize: wrong size');
  return s + '\r\n';
}

test('http1 :: a head of exactly MAX_HEADER_BYTES is DONE, one more byte is TOO_LARGE', () => {
  const fits = bin(headOfSize(MAX_HEADER_BYTES));
  assert.is(fits.length, MAX_HEADER_BYTES);
  const ok = whole(fits);
  assert.is(ok.status, 'DONE', ok.reason);
  assert.is(ok.headerBytes, MAX_HEADER_BYTES);
  const over = bin(headOfSize(MAX_HEADER_BYTES + 1));
  const got = whole(over);
  assert.is(got.status, 'TOO_LARGE');
  assert.is(got.reason, 'header-too-large');
  assertSplitsAgree(over, 'one byte over');
});

test('http1 :: TOO_LARGE fires at the first byte past the bound, before the head ends', () => {
  const endless = bin('GET / HTTP/1.1\r\nHost: a\r\nX-Slow: ' + 'z'.repeat(3 * MAX_HEADER_BYTES));
  const p = new RequestParser();
  let status: ParseStatus = PARSE.NEED_MORE;
  let fedBytes = 0;
  for (let at = 0; at < endless.length && status === PARSE.NEED_MORE; at += 100) {
    const piece = endless.subarray(at, at + 100);
    status = p.execute(piece);
    fedBytes = at + piece.length;
  }
  assert.is(status, PARSE.TOO_LARGE);
  assert.is(p.reason, 'header-too-large');
  assert.is(fedBytes, Math.ceil((MAX_HEADER_BYTES + 1) / 100) * 100, 'stopped in the first chunk past the bound');
  assert.is(p.headerBytes, MAX_HEADER_BYTES);
  // exactly at the bound: waiting; one more byte: refused
  const q = new RequestParser();
  assert.is(q.execute(endless.subarray(0, MAX_HEADER_BYTES)), PARSE.NEED_MORE);
  assert.is(q.execute(endless.subarray(MAX_HEADER_BYTES, MAX_HEADER_BYTES + 1)), PARSE.TOO_LARGE);
});

test('http1 :: URI_TOO_LONG fires at the first target byte past MAX_TARGET_BYTES', () => {
  const fits = bin(`GET /${'t'.repeat(MAX_TARGET_BYTES - 1)} HTTP/1.1\r\nHost: a\r\n\r\n`);
  const ok = whole(fits);
  assert.is(ok.status, 'DONE', ok.reason);
  assert.is(ok.target!.length, MAX_TARGET_BYTES);
  const p = new RequestParser();
  const open = bin(`GET /${'t'.repeat(MAX_TARGET_BYTES - 1)}`);
  assert.is(p.execute(open), PARSE.NEED_MORE);
  assert.is(p.execute(bin('t')), PARSE.URI_TOO_LONG);
  assert.is(p.reason, 'uri-too-long');
});

test('http1 :: MAX_HEADER_COUNT fields are DONE, one more is TOO_LARGE', () => {
  const fields = (n: number): string => Array.from({ length: n - 1 }, (_, k) => `X-${k}: v\r\n`).join('');
  const ok = whole(bin(`GET / HTTP/1.1\r\nHost: a\r\n${fields(MAX_HEADER_COUNT)}\r\n`));
  assert.is(ok.status, 'DONE', ok.reason);
  assert.is(ok.headerCount, MAX_HEADER_COUNT);
  const input = bin(`GET / HTTP/1.1\r\nHost: a\r\n${fields(MAX_HEADER_COUNT + 1)}\r\n`);
  const got = whole(input);
  assert.is(got.status, 'TOO_LARGE');
  assert.is(got.reason, 'too-many-headers');
  assertSplitsAgree(input, 'too many headers');
});

// ---- connection life ---------------------------------------------------------------------------------------

test('http1 :: pipelined requests: consumed, reset, the rest of the chunk', () => {
  const chunk = bin('GET /a HTTP/1.1\r\nHost: one\r\nUser-Agent: ua1\r\n\r\nHEAD /b?x=1 HTTP/1.1\r\nHost: two\r\nConnection: close\r\n\r\nGET /c');
  const p = new RequestParser();
  assert.is(p.execute(chunk), PARSE.DONE);
  assert.is([p.method, p.path, p.host, p.userAgent, p.keepAlive].join(' '), 'GET /a one ua1 true');
  const first = p.consumed;
  assert.is(chunk.subarray(first, first + 4).toString(), 'HEAD');
  p.reset();
  assert.is(p.execute(chunk.subarray(first)), PARSE.DONE);
  assert.is([p.method, p.path, p.query, p.host, p.userAgent, p.keepAlive].join(' '), 'HEAD /b x=1 two  false');
  const second = first + p.consumed;
  p.reset();
  assert.is(p.execute(chunk.subarray(second)), PARSE.NEED_MORE);
  assert.is(p.execute(bin(' HTTP/1.0\r\n\r\n')), PARSE.DONE);
  assert.is(p.path, '/c');
  assert.is(p.consumed, 13, 'consumed counts from the start of the last chunk');
});

test('http1 :: reset clears every result of the previous request', () => {
  const p = new RequestParser();
  assert.is(p.execute(bin('GET http://h/x?q HTTP/1.1\r\nHost: a\r\nUser-Agent: u\r\nReferer: r\r\nAuthorization: z\r\nContent-Length: 3\r\n\r\n')), PARSE.DONE);
  p.reset();
  // every field but the scratch byte buffers (which reset() leaves as they are: they are written before read)
  const state = (q: RequestParser): [string, unknown][] => Object.entries(q).filter(([, v]) => !(v instanceof Uint8Array));
  assert.equal(state(p), state(new RequestParser()), 'same state as a new parser');
  assert.is(p.execute(bin('GET / HTTP/1.0\r\n\r\n')), PARSE.DONE);
  assert.equal([p.host, p.userAgent, p.referer, p.authorization, p.hasBody, p.query], [null, '', '', '', false, '']);
});

test('http1 :: a result is sticky until reset', () => {
  const p = new RequestParser();
  assert.is(p.execute(bin('GET / HTTP/1.1\r\nHost : a\r\n')), PARSE.BAD_REQUEST);
  assert.is(p.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), PARSE.BAD_REQUEST);
  assert.is(p.reason, 'header-syntax');
  p.reset();
  assert.is(p.execute(bin('GET / HTTP/1.1\r\nHost: a\r\n\r\n')), PARSE.DONE);
  assert.is(p.execute(bin('junk')), PARSE.DONE);
  assert.is(p.consumed, 27);
});

test('http1 :: a value split across many chunks is joined', () => {
  const p = new RequestParser();
  const parts = ['GET /ti', 'me.g', 'if?tz=', 'UTC HTTP/1.1\r\nHo', 'st: Exa', 'mple', '.com\r\nUser-Agent: ', 'Moz', 'illa  ', '\r', '\n\r', '\n'];
  let status: ParseStatus = PARSE.NEED_MORE;
  for (const s of parts) status = p.execute(bin(s));
  assert.is(status, PARSE.DONE);
  assert.equal([p.target, p.path, p.query, p.host, p.userAgent], ['/time.gif?tz=UTC', '/time.gif', 'tz=UTC', 'example.com', 'Mozilla']);
});

test('http1 :: mutated requests never throw and agree across splits', () => {
  const base = bin(CHROME);
  const pool = bin('\x00\t\n\r :/?#@[]%Hh0\x7f\x80\xff');
  const next = mulberry32(12345);
  const rand = (n: number): number => Math.floor(next() * n);
  for (let k = 0; k < 300; k++) {
    const input = Buffer.from(base);
    for (let m = 1 + rand(3); m > 0; m--) input[rand(input.length)] = pool[rand(pool.length)]!;
    const expected = whole(input);
    assert.equal(feed(input, [rand(input.length - 1) + 1]), expected, `mutation ${k}: one split`);
    assert.equal(bytewise(input), expected, `mutation ${k}: one byte at a time`);
  }
});

test('http1 :: normalizeHost', () => {
  const cases: [string, string | null][] = [
    ['Example.COM', 'example.com'], ['example.com:443', 'example.com'], ['example.com:', 'example.com'],
    ['[::1]', '[::1]'], ['[::FFFF:127.0.0.1]:80', '[::ffff:127.0.0.1]'], ['', ''],
    ['a b', null], ['[::1', null], ['[::1]x', null], ['[]', null], ['a:123456', null], ['a:1:2', null], ['ex\u00e9', null],
  ];
  for (const [input, want] of cases) assert.is(normalizeHost(input), want, input);
});

test.run();
