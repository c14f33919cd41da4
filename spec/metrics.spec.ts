// /metrics and /healthz: who may read them, and counters that match what the spec did.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { RawClient, startTest, drainAll } from './wire.js';
import { makeCert, type CertFiles } from './helpers.js';
import { OPENSSL_MISSING, specIf } from './tools.js';

test.after.each(drainAll);

let now = 1_795_000_000_300;
const clock = { now: () => now, manualClock: true };
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function get(port: number, path: string, extra = '', proxy = ''): Promise<RawClient> {
  const c = await RawClient.open(port, proxy ? '127.60.0.1' : undefined);
  c.send(`${proxy}GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n${extra}\r\n`);
  await c.untilClosed();
  return c;
}

function metric(text: string, name: string): number {
  const m = new RegExp(`^${name.replace(/[{}"=]/g, (ch) => '\\' + ch)} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

test('metrics :: answered to loopback, refused (404) to a remote client, allowed with the bearer token', async () => {
  const { port } = await startTest(['--proxy-protocol-from', '127.60.0.1', '--metrics-token', 's3cret'], clock);
  const remote = 'PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n';
  assert.is((await get(port, '/metrics')).status, 200);
  assert.is((await get(port, '/healthz')).status, 200);
  assert.is((await get(port, '/metrics', '', remote)).status, 404);
  assert.is((await get(port, '/healthz', '', remote)).status, 404);
  assert.is((await get(port, '/metrics', 'Authorization: Bearer wrong\r\n', remote)).status, 404);
  const ok = await get(port, '/metrics', 'Authorization: Bearer s3cret\r\n', remote);
  assert.is(ok.status, 200);
  assert.match(ok.text, /Content-Type: text\/plain; version=0\.0\.4/);
});

test('metrics :: counters match what happened', async () => {
  const { inst, port } = await startTest([], clock);
  for (let i = 0; i < 3; i++) await get(port, '/announce?info_hash=x');
  await get(port, '/nope');
  const viewers = await Promise.all([RawClient.open(port), RawClient.open(port)]);
  for (const v of viewers) v.send('GET /time.gif HTTP/1.1\r\nHost: a\r\n\r\n');
  await Promise.all(viewers.map((v) => v.until(() => v.status === 200)));
  for (let i = 0; i < 4; i++) {
    const t = Math.floor(now / 1000) + 1;
    now = t * 1000 + 1;
    inst.app.tick(t, now);
  }
  await sleep(30);
  const text = (await get(port, '/metrics')).text;
  assert.is(metric(text, 'timegif_rejects_total{reason="announce"}'), 3);
  assert.is(metric(text, 'timegif_rejects_total{reason="junk-path"}'), 1);
  assert.is(metric(text, 'timegif_viewers{transport="h1"}'), 2);
  assert.is(metric(text, 'timegif_viewers_started_total'), 2);
  assert.is(metric(text, 'timegif_frames_sent_total{kind="delta"}'), 8);
  assert.is(metric(text, 'timegif_frames_sent_total{kind="keyframe"}'), 0);
  assert.is(metric(text, 'timegif_ticks_total'), 4);
  assert.is(metric(text, 'timegif_responses_total{status="404"}'), 4);
  assert.is(metric(text, 'timegif_connections_open'), 3, 'two viewers and this request');
  assert.is(metric(text, 'timegif_connections_closed_total{reason="done"}'), 4, 'the four junk requests, closed after their answers');
  const bytes = viewers.reduce((n, v) => n + v.data.length, 0);
  assert.ok(metric(text, 'timegif_frame_bytes_total') + metric(text, 'timegif_intro_bytes_total') === bytes, 'bytes counted = bytes received');
  assert.ok(metric(text, 'timegif_intro_bytes_total') > 2 * viewers[0]!.headEnd, 'the intros (head + prologue + keyframe) are counted as intro bytes');
  assert.ok(metric(text, 'timegif_resident_memory_bytes') > 0);
  for (const v of viewers) v.close();
});

let cert: CertFiles | null = null;
specIf(OPENSSL_MISSING, 'metrics :: --redirect-https sends page requests to https, the stream is served on both', async () => {
  cert ??= makeCert(['localhost']);
  const tls = ['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key]; // a redirect needs somewhere to go
  const { port } = await startTest(['--redirect-https', '--hosts', 'time.example', ...tls], clock);
  const page = await RawClient.open(port);
  page.send('GET /?tz=UTC HTTP/1.1\r\nHost: time.example\r\nConnection: close\r\n\r\n');
  await page.untilClosed();
  assert.is(page.status, 308);
  assert.match(page.text, /\r\nLocation: https:\/\/time\.example\/\?tz=UTC\r\n/);
  const head = await RawClient.open(port);
  head.send('HEAD / HTTP/1.1\r\nHost: time.example\r\n\r\nGET /robots.txt HTTP/1.1\r\nHost: time.example\r\nConnection: close\r\n\r\n');
  await head.untilClosed();
  const answers = [...head.text.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
  assert.equal(answers, [308, 200], 'HEAD got no body, so the next answer starts where it should');
  assert.ok(head.text.startsWith('HTTP/1.1 308') && head.text.indexOf('use https') < 0, 'no body after HEAD');
  const gif = await RawClient.open(port);
  gif.send('GET /time.gif HTTP/1.1\r\nHost: time.example\r\n\r\n');
  await gif.until(() => gif.status !== 0);
  assert.is(gif.status, 200);
  gif.close();
});

test.after(() => cert?.remove());
test.run();
