// One wire table, three transports: every answer that is not a stream (canned pages, 4xx with their bodies, HEAD,
// /metrics, a finite GIF, the 503 of a full server) must be the same over plain HTTP/1.1, HTTP/1.1 over TLS and
// HTTP/2: status, content type, body. Both transports take the same decision (answer.ts) and write it in their own
// framing (http1-conn.ts, http2.ts); this table checks that the writing agrees.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import type { ClientHttp2Session } from 'node:http2';
import { drainAll, RawClient, startTest } from './wire.js';
import { h2Session, makeCert, type CertFiles } from './helpers.js';
import { OPENSSL_MISSING, specIf } from './tools.js';
import type { Instance } from '../lib/run/start.js';

interface Answer { status: number; type: string; length: string | null; body: Buffer }

/** One HTTP/1.1 request on its own connection (Connection: close), read to the end by the specs' raw client. */
async function h1(socket: Socket, method: string, path: string): Promise<Answer> {
  const c = new RawClient(socket);
  c.send(`${method} ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  await c.untilClosed(5000);
  if (c.closeKind === 'reset') throw new Error(`${method} ${path}: connection reset`);
  const end = c.headEnd;
  const head = c.data.toString('latin1', 0, end);
  const field = (name: string): string | null => new RegExp(`\\r\\n${name}: ([^\\r]*)`, 'i').exec(head)?.[1] ?? null;
  return { status: c.status, type: field('Content-Type') ?? '', length: field('Content-Length'), body: c.data.subarray(end) };
}

function h2(session: ClientHttp2Session, method: string, path: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const st = session.request({ ':method': method, ':path': path, ':authority': 'localhost', ':scheme': 'https' });
    let status = 0, type = '', length: string | null = null;
    const chunks: Buffer[] = [];
    st.on('response', (h) => {
      status = Number(h[':status']);
      type = String(h['content-type'] ?? '');
      length = h['content-length'] === undefined ? null : String(h['content-length']);
    });
    st.on('data', (d: Buffer) => chunks.push(d));
    st.on('end', () => resolve({ status, type, length, body: Buffer.concat(chunks) }));
    st.on('error', reject);
  });
}

/** [method, path, status, what the body must be: exact text, 'same' across transports, or 'empty']. */
const TABLE: [string, string, number, string][] = [
  ['GET', '/robots.txt', 200, 'same'],
  ['GET', '/', 200, 'same'],
  ['GET', '/favicon.ico', 200, 'same'],
  ['GET', '/nope', 404, 'not found\n'],
  ['GET', '/announce?info_hash=x', 404, 'not found\n'],
  ['POST', '/time.gif', 405, 'method not allowed\n'],
  ['GET', '/time.gif?tz=Mars/Base', 400, 'tz: use an IANA time zone: Europe/Berlin, America/New_York, Asia/Kolkata, UTC\n'],
  ['GET', '/time.gif?theme=blue', 400, 'theme: use dark, light\n'],
  ['GET', '/time.gif?seconds=0', 400, 'seconds: use a whole number from 1 to 3600\n'],
  ['GET', '/time.gif?stream=mpeg', 400, 'stream: use gif or multipart\n'],
  ['HEAD', '/robots.txt', 200, 'empty'],
  ['HEAD', '/time.gif', 200, 'empty'],
  ['HEAD', '/time.gif?seconds=5', 200, 'empty'],
  ['GET', '/healthz', 200, 'ok\n'],
  ['GET', '/metrics', 200, 'metrics'],
  ['HEAD', '/metrics', 200, 'empty'],
];

let cert: CertFiles | null = null;
const frozenNow = 1_796_160_000_250;
const clock = { now: () => frozenNow, manualClock: true };

async function start(extra: string[] = []): Promise<{ inst: Instance; port: number; tlsPort: number }> {
  cert ??= makeCert(['localhost']);
  const { inst, port } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key, ...extra], clock);
  const tlsPort = (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;
  return { inst, port, tlsPort };
}

type Ask = (method: string, path: string) => Promise<Answer>;
function transports(port: number, tlsPort: number, session: ClientHttp2Session): [string, Ask][] {
  return [
    ['HTTP/1.1', (m, p) => h1(netConnect({ port, host: '127.0.0.1' }), m, p)],
    ['HTTP/1.1 over TLS', (m, p) => h1(tlsConnect({ port: tlsPort, host: '127.0.0.1', servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }), m, p)],
    ['HTTP/2', (m, p) => h2(session, m, p)],
  ];
}

specIf(OPENSSL_MISSING, 'transports :: the same status, type and body for every non-stream answer over h1, h1 over TLS and h2', async () => {
  const { port, tlsPort } = await start();
  const session = await h2Session(tlsPort);
  try {
    for (const [method, path, status, want] of TABLE) {
      const answers: [string, Answer][] = [];
      for (const [name, ask] of transports(port, tlsPort, session)) answers.push([name, await ask(method, path)]);
      const [, first] = answers[0]!;
      for (const [name, a] of answers) {
        const what = `${method} ${path} over ${name}`;
        assert.is(a.status, status, `${what}: status`);
        assert.is(a.type, first.type, `${what}: the same Content-Type as over HTTP/1.1`);
        if (want === 'empty') assert.is(a.body.length, 0, `${what}: no body`);
        else if (want === 'same') assert.ok(a.body.equals(first.body), `${what}: the same body`);
        else if (want === 'metrics') assert.match(a.body.toString(), /^# HELP timegif_/m, `${what}: Prometheus text`);
        else assert.is(a.body.toString(), want, `${what}: body`);
        if (method === 'HEAD' && path.includes('seconds=')) assert.ok(Number(a.length) > 100, `${what}: the finite GIF's Content-Length`);
      }
    }
  } finally {
    session.close();
    await drainAll();
  }
});

specIf(OPENSSL_MISSING, 'transports :: a finite GIF is the same bytes over all three; a full server answers 503 with the same GIF over all three', async () => {
  const { inst, port, tlsPort } = await start(['--max-viewers', '0']);
  const session = await h2Session(tlsPort);
  try {
    const finite: Buffer[] = [];
    const busy: Buffer[] = [];
    for (const [name, ask] of transports(port, tlsPort, session)) {
      const f = await ask('GET', '/time.gif?seconds=3&tz=Asia/Tokyo');
      assert.is(f.status, 200, name);
      assert.is(f.length, String(f.body.length), `${name}: Content-Length is the body`);
      finite.push(f.body);
      const b = await ask('GET', '/time.gif');
      assert.is(b.status, 503, `${name}: full`);
      assert.is(b.type, 'image/gif', `${name}: a GIF an <img> can show`);
      busy.push(b.body);
      // A new face's hour at scale 5 is 91 M pixels, past a second's encoding budget (32 M): a bodiless 503 to HEAD.
      const h = await ask('HEAD', '/time.gif?seconds=3600&theme=light&scale=5');
      assert.is(h.status, 503, `${name}: HEAD past the finite budget`);
      assert.is(h.body.length, 0, `${name}: HEAD has no body`);
    }
    assert.ok(finite.every((b) => b.equals(finite[0]!)), 'finite GIFs are byte for byte the same');
    assert.ok(busy.every((b) => b.equals(busy[0]!)) && busy[0]!.length > 20, 'the busy GIF is the same');
    assert.is(inst.app.metrics.rejects.get('max-viewers'), 3);
    assert.is(inst.app.metrics.rejects.get('finite-budget'), 3);
    assert.is(inst.app.viewers, 0);
  } finally {
    session.close();
    await drainAll();
  }
});

test.after.each(drainAll);
test.run();
