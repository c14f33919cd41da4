// Unit tables for the small pure pieces that the wire specs only reach indirectly: route(), parseStreamQuery(),
// the access-log line and its quoting, the fault sampler, and the clock's alignment to the second.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseStreamQuery, route, type RequestInfo, type RouteContext } from '../lib/http/routes.js';
import { DEFAULT_FACE } from '../lib/face/face.js';
import { clfTime, FaultLog, formatAccess, info, logField, setInfoSink, setLogLevel, warn } from '../lib/core/log.js';
import { parseArgs } from '../lib/core/config.js';
import { ConfigError } from '../lib/core/errors.js';
import { createClock } from '../lib/stream/clock.js';
import { waitFor } from './helpers.js';

const req = (over: Partial<RequestInfo>): RequestInfo => ({
  method: 'GET', path: '/time.gif', query: '', host: 'localhost', secure: false, trusted: false, userAgent: 'curl/8', ...over,
});
const ANY: RouteContext = { hosts: new Set(), redirectHttps: false };
const HOSTS: RouteContext = { hosts: new Set(['time.example']), redirectHttps: true };
const SAFARI = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15';

/** [what, request, context, the route as 'kind[:name or mode][/status]'] */
const ROUTES: [string, Partial<RequestInfo>, RouteContext, string][] = [
  ['the stream', {}, ANY, 'stream:gif'],
  ['WebKit gets multipart', { userAgent: SAFARI }, ANY, 'stream:multipart'],
  ['forced gif for WebKit', { userAgent: SAFARI, query: 'stream=gif' }, ANY, 'stream:gif'],
  ['finite', { query: 'seconds=5' }, ANY, 'finite'],
  ['bad zone', { query: 'tz=Nowhere/Land' }, ANY, 'canned:bad-tz/400'],
  ['bad theme', { query: 'theme=neon' }, ANY, 'canned:bad-theme/400'],
  ['page', { path: '/' }, ANY, 'canned:page/200'],
  ['page over http with redirect', { path: '/', host: 'time.example' }, HOSTS, 'canned:redirect-https/308'],
  ['page over https with redirect', { path: '/', host: 'time.example', secure: true }, HOSTS, 'canned:page/200'],
  ['unknown host', { host: 'tracker.example' }, HOSTS, 'canned:misdirected/421'],
  ['no host with a host list', { host: null }, HOSTS, 'canned:misdirected/421'],
  ['announce', { path: '/announce', query: 'info_hash=x' }, ANY, 'canned:not-found/404'],
  ['junk path', { path: '/wp-login.php' }, ANY, 'canned:not-found/404'],
  ['POST', { method: 'POST' }, ANY, 'canned:method-not-allowed/405'],
  ['metrics untrusted', { path: '/metrics' }, ANY, 'canned:not-found/404'],
  ['metrics trusted', { path: '/metrics', trusted: true }, ANY, 'metrics'],
  ['healthz trusted, any host', { path: '/healthz', trusted: true, host: 'whatever' }, HOSTS, 'canned:healthz/200'],
  ['robots', { path: '/robots.txt' }, ANY, 'canned:robots/200'],
];

test('units :: route() table', () => {
  for (const [what, r, ctx, want] of ROUTES) {
    const got = route(req(r), ctx);
    const name = got.kind === 'canned' ? `canned:${got.name}/${got.status}` : got.kind === 'stream' ? `stream:${got.mode}` : got.kind;
    assert.is(name, want, what);
  }
  const announce = route(req({ path: '/announce' }), ANY);
  assert.ok(announce.kind === 'canned' && announce.junk === 'announce', 'announce counted as its own junk');
  assert.is(route(req({}), ANY), route(req({}), ANY), 'the default stream route is one shared object');
});

test('units :: parseStreamQuery: faces, modes, bad names', () => {
  assert.is((parseStreamQuery('r=123') as { face: unknown }).face, DEFAULT_FACE, 'unknown parameters: the shared default face');
  assert.is((parseStreamQuery('tz=UTC&h12=0&scale=3&theme=dark') as { face: unknown }).face, DEFAULT_FACE, 'defaults spelled out');
  assert.equal((parseStreamQuery('tz=asia%2Fkolkata&h12&scale=2&theme=light') as { face: unknown }).face, { tz: 'Asia/Calcutta', hour12: true, scale: 2, theme: 'light' });
  assert.equal(parseStreamQuery('stream=multipart&seconds=60'), { face: DEFAULT_FACE, mode: 'multipart', seconds: 60, loop: null });
  assert.equal(parseStreamQuery('seconds=60&loop=0'), { face: DEFAULT_FACE, mode: null, seconds: 60, loop: 0 });
  const bad: [string, string][] = [['tz=', 'tz'], ['tz=%E0%A4%A', 'tz'], ['h12=2', 'h12'], ['scale=0', 'scale'], ['scale=33', 'scale'], ['theme=', 'theme'], ['stream=', 'stream'], ['seconds=3601', 'seconds'], ['seconds=007', 'seconds'], ['seconds=5&loop=x', 'loop'], ['seconds=5&loop=65536', 'loop']];
  for (const [q, name] of bad) assert.is(parseStreamQuery(q), name, q);
  assert.not.type(parseStreamQuery(`${'x=1&'.repeat(20)}theme=neon`), 'string', 'parameters past the 16th are not read');
});

test('units :: the access-log line: CLF time, quoting, bytes and duration', () => {
  assert.is(clfTime(Date.UTC(2026, 0, 2, 3, 4, 5)), '02/Jan/2026:03:04:05 +0000');
  assert.is(logField('a"b\\c\nd\x7f'), 'a\\x22b\\x5cc\\x0ad\\x7f');
  assert.is(logField('x'.repeat(10), 4), 'xxxx...');
  const line = formatAccess({
    remote: '192.0.2.7', startMs: Date.UTC(2026, 11, 31, 23, 59, 59), method: 'GET', target: '/time.gif?tz="x"', protocol: 'HTTP/1.1',
    status: 200, bodyBytes: 1234, totalBytes: 1400, referer: '', userAgent: 'curl/8', endMs: Date.UTC(2026, 11, 31, 23, 59, 59) + 61_500,
  });
  assert.is(line, '192.0.2.7 - - [31/Dec/2026:23:59:59 +0000] "GET /time.gif?tz=\\x22x\\x22 HTTP/1.1" 200 1234 "-" "curl/8" 1400 61.500\n');
});

test('units :: the fault sampler: counts every fault, keeps the first sample, one line per reason', () => {
  const lines: string[] = [];
  setInfoSink((l) => lines.push(l));
  const counted: string[] = [];
  const f = new FaultLog((reason) => counted.push(reason));
  f.note('announce', '192.0.2.1', 'tracker.example', '/announce?info_hash=1');
  f.note('announce', '192.0.2.2', 'other', '/announce?info_hash=2');
  f.note('bad-request', '192.0.2.3', 'GET /\x00');
  f.noteBytes('bad-request', '192.0.2.4', Buffer.from('GET /second'));
  f.noteBytes('bad-version', '192.0.2.5', Buffer.from('GET / HTTP/3.0\r\n'));
  assert.equal(counted, ['announce', 'announce', 'bad-request', 'bad-request', 'bad-version'], 'every fault counted as it is noted');
  f.flush(10);
  assert.equal(lines.filter((l) => l.includes('client fault')).length, 3);
  assert.ok(lines.some((l) => l.includes('client fault announce: 2 in 10s, e.g. 192.0.2.1 tracker.example /announce?info_hash=1')), lines.join('\n'));
  assert.ok(lines.some((l) => l.includes('bad-request: 2 in 10s, e.g. 192.0.2.3 GET /\\x00')), 'control bytes quoted, the first sample kept');
  assert.ok(lines.some((l) => l.includes('bad-version: 1 in 10s, e.g. 192.0.2.5 GET / HTTP/3.0\\x0d\\x0a')), 'bytes sampled, quoted');
  lines.length = 0;
  f.flush(10);
  assert.is(lines.length, 0, 'nothing after a flush');
});

test('units :: --log-level: warn keeps warnings and drops info; a bad level names the option', () => {
  const lines: string[] = [];
  setInfoSink((l) => lines.push(l));
  try {
    assert.is(parseArgs(['--log-level', 'warn']).config.logLevel, 'warn');
    assert.is(parseArgs([]).config.logLevel, 'info');
    setLogLevel('warn');
    info('started');
    warn('no certificate');
    setLogLevel('info');
    info('started again');
    assert.is(lines.length, 2);
    assert.match(lines[0]!, / warning: no certificate$/);
    assert.match(lines[1]!, / started again$/);
  } finally {
    setLogLevel('info');
  }
  assert.throws(() => parseArgs(['--log-level', 'loud']), (e: unknown) => e instanceof ConfigError && /--log-level: expected one of info, warn/.test((e as Error).message));
});

test('units :: the clock ticks on the second it was armed for, never replays missed seconds, prepares the next', async () => {
  // A fake wall clock that starts 990 ms into a second: the first tick is armed for the next boundary.
  let offset = 1_796_160_000_990 - Date.now();
  const now = (): number => Date.now() + offset;
  const ticks: [number, number][] = [];
  const prepared: number[] = [];
  const clock = createClock({ tick: (s, ms) => ticks.push([s, ms]), prepare: (s) => prepared.push(s) }, now);
  clock.start();
  await waitFor(() => ticks.length >= 1, 'the first tick', 3000, 5);
  assert.equal(ticks.map((t) => t[0]), [1_796_160_001], 'one tick, for the boundary it waited for');
  assert.ok(ticks[0]![1] >= 1_796_160_001_000, 'not before the boundary');
  await new Promise((r) => setImmediate(r));
  assert.equal(prepared, [1_796_160_002], 'then the next second is prepared');
  // The loop "blocks" for 3.5 s (the wall clock jumps): the next tick shows the second we are in, not the missed ones.
  offset += 3_500;
  await waitFor(() => ticks.length >= 2, 'the second tick', 3000, 5);
  clock.stop();
  const seconds = ticks.map((t) => t[0]);
  assert.ok(seconds.length >= 2 && seconds[1]! >= 1_796_160_004, `missed seconds are skipped: ${seconds.join(',')}`);
  for (let i = 1; i < seconds.length; i++) assert.ok(seconds[i]! > seconds[i - 1]!, 'strictly increasing');
  for (const [s, ms] of ticks) assert.ok(ms >= s * 1000 && ms < (s + 1) * 1000, `tick ${s} runs inside its second (${ms})`);
});

test.run();
