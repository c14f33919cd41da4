// TLS on the wire: the same stream over plain HTTP, HTTP/1.1 over TLS and h2 (raw clients, node:http2 and
// undici); the SNI allowlist; certificate reload with viewers connected. Real sockets on loopback.

import { OPENSSL_MISSING, testNeeding } from './tools.js';
import * as assert from 'uvu/assert';
import { connect as netConnect } from 'node:net';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { parseArgs } from '../lib/core/config.js';
import { ConfigError } from '../lib/core/errors.js';
import { TRANSPORT } from '../lib/stream/viewer.js';
import { run } from './procs.js';
import {
  GifStreamSplitter, h1Stream, h2Session, h2Stream, makeCert, nowSecond, secondsShown, startServer, tlsConnect,
  tlsHandshake, waitFor, waitIdle, type StreamClient,
} from './helpers.js';

// Every spec here needs openssl for its certificate: reported as skipped without it (a failure under CI).
const test = testNeeding(OPENSSL_MISSING);
const cert = OPENSSL_MISSING === null ? makeCert(['localhost', 'time.example']) : { dir: '', cert: '', key: '', remove: () => undefined };

/**
 * Every frame must show renderFace of consecutive seconds (decoded by omggif); returns the frames after the
 * intro keyframe (deltas, shared by every viewer) by the second they show.
 */
function deltasBySecond(c: { gif: GifStreamSplitter }, t0: number): Map<number, Buffer> {
  const shown = secondsShown(c.gif.gif(), t0 - 1, t0 + 30);
  for (let k = 1; k < shown.length; k++) assert.is(shown[k], shown[0]! + k, `frame ${k} follows frame ${k - 1}`);
  return new Map(shown.slice(1).map((s, k) => [s, c.gif.frames[k + 1]!]));
}

function assertStreamHeaders(h: Record<string, string>, label: string): void {
  assert.is(h['content-type'], 'image/gif', `${label}: content-type`);
  assert.is(h['cache-control'], 'no-cache, no-store, no-transform', `${label}: cache-control`);
  assert.is(h['content-length'], undefined, `${label}: no content-length`);
  assert.is(h['transfer-encoding'], undefined, `${label}: no chunking`);
}

// undici announces its h2 client as experimental (a process warning, once): this spec uses it on purpose, and the
// warning would be the only noise in the test output. Every other warning still prints.
const emitWarning = process.emitWarning.bind(process) as (...a: unknown[]) => void;
process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
  const o = rest[0] as { code?: string } | undefined;
  if (typeof o === 'object' && o !== null && o.code === 'UNDICI-H2') return;
  emitWarning(warning, ...rest);
}) as typeof process.emitWarning;

test('tls :: plain HTTP, HTTP/1.1 over TLS, h2 and undici (h1 and h2) stream the same frames', async () => {
  const { inst, httpPort, httpsPort, http, https } = await startServer([], cert);
  const t0 = nowSecond();
  const agentH2 = new Agent({ allowH2: true, connect: { rejectUnauthorized: false } });
  const agentH1 = new Agent();
  try {
    const plain = await h1Stream(netConnect(httpPort, '127.0.0.1'));
    const h1tls = await h1Stream(tlsConnect(httpsPort, 'localhost', ['http/1.1']));
    const session = await h2Session(httpsPort);
    const h2 = await h2Stream(session);
    // undici: body bytes into splitters of our own.
    const undiciClients: { label: string; status: number; headers: Record<string, string>; gif: GifStreamSplitter; stop: () => void }[] = [];
    for (const [label, url, agent] of [['undici h2', https!, agentH2], ['undici http', http!, agentH1]] as const) {
      const res = await request(`${url}/time.gif`, { dispatcher: agent, headers: { host: 'localhost' } });
      const gif = new GifStreamSplitter();
      res.body.on('data', (c: Buffer) => gif.push(c));
      res.body.on('error', () => undefined); // destroyed by stop()
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(res.headers)) headers[k] = String(v);
      undiciClients.push({ label, status: res.statusCode, headers, gif, stop: () => res.body.destroy() });
    }
    // One viewer per transport class: plain h1 + undici http, TLS h1, h2 + undici h2.
    assert.is(inst.app.viewersByTransport[TRANSPORT.H1], 2, 'plain viewers');
    assert.is(inst.app.viewersByTransport[TRANSPORT.H1_TLS], 1, 'h1 over TLS viewers (ALPN http/1.1)');
    assert.is(inst.app.viewersByTransport[TRANSPORT.H2], 2, 'h2 viewers (node:http2 and undici via ALPN h2)');

    const clients: { label: string; status: number; headers: Record<string, string>; gif: GifStreamSplitter }[] = [
      { label: 'plain', ...plain }, { label: 'h1 tls', ...h1tls }, { label: 'h2', ...h2 }, ...undiciClients,
    ];
    for (const c of clients) {
      assert.is(c.status, 200, `${c.label}: status`);
      assertStreamHeaders(c.headers, c.label);
    }
    for (const c of [plain, h1tls] as StreamClient[]) {
      assert.ok(c.rawHead.startsWith('HTTP/1.1 200 OK\r\n'), 'status line');
      assert.is(c.headers.connection, 'close');
    }
    await waitFor(() => clients.every((c) => c.gif.frames.length >= 3), 'three frames on every stream', 6000);
    const bySecond = clients.map((c) => ({ label: c.label, m: deltasBySecond(c, t0) }));
    // The delta of a second is one shared Buffer: every transport carries the same bytes for it.
    let compared = 0;
    for (const a of bySecond)
      for (const b of bySecond) {
        if (a === b) continue;
        for (const [s, buf] of a.m) {
          const other = b.m.get(s);
          if (other === undefined) continue;
          assert.ok(buf.equals(other), `${a.label} and ${b.label}: frame of second ${s}`);
          compared++;
        }
      }
    assert.ok(compared >= 10, `delta frames compared across transports: ${compared}`);
    plain.close();
    h1tls.close();
    h2.close();
    session.close();
    for (const u of undiciClients) u.stop();
  } finally {
    await agentH2.close();
    await agentH1.close();
  }
  await waitIdle(inst);
  assert.is(inst.app.h2Sessions.size, 0, 'h2 sessions');
  await inst.drain();
});

test('tls :: an unknown SNI name is refused in the handshake, a known one is served', async () => {
  const { inst, httpsPort } = await startServer(['--hosts', 'time.example'], cert);
  try {
    const err = await tlsHandshake(httpsPort, 'evil.example').then(
      (s) => (s.destroy(), null),
      (e: Error) => e,
    );
    assert.ok(err !== null, 'handshake for evil.example must fail');
    assert.is(inst.app.metrics.rejects.get('unknown-sni'), 1, 'counted as unknown-sni');
    await waitFor(() => inst.app.connections === 0, 'refused handshake closed');
    const ok = await tlsHandshake(httpsPort, 'TIME.example');
    assert.is(ok.alpnProtocol, 'http/1.1');
    const c = await h1Stream(ok, '/time.gif', 'time.example');
    assert.is(c.status, 200);
    assert.is(inst.app.viewers, 1);
    c.close();
    // Host checked too: a TLS client that names the right SNI but the wrong Host gets 421.
    const wrong = await h1Stream(tlsConnect(httpsPort, 'time.example'), '/time.gif', 'other.example');
    assert.is(wrong.status, 421);
    wrong.close();
    assert.is(inst.app.metrics.rejects.get('unknown-host'), 1);
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

test('tls :: --require-sni refuses a hello without a server name before any certificate, with or without ALPN, counted once each', async () => {
  const { inst, httpsPort } = await startServer(['--hosts', 'time.example', '--require-sni'], cert);
  try {
    // Node sends no SNI for an empty servername; an empty ALPN list sends no ALPN extension at all.
    for (const [k, alpn] of [[1, ['http/1.1']], [2, ['h2', 'http/1.1']], [3, []]] as const) {
      const s = tlsConnect(httpsPort, '', [...alpn]);
      let handshake = false;
      s.on('secureConnect', () => (handshake = true));
      await new Promise<void>((resolve) => {
        s.on('error', () => undefined);
        s.on('close', () => resolve());
      });
      assert.not.ok(handshake, `ALPN ${JSON.stringify(alpn)}: no handshake completed`);
      assert.is(s.getPeerCertificate()?.subject, undefined, `ALPN ${JSON.stringify(alpn)}: no certificate reached the client`);
      assert.is(inst.app.metrics.rejects.get('no-sni'), k, `ALPN ${JSON.stringify(alpn)}: counted as no-sni`);
    }
    assert.is(inst.app.metrics.rejects.get('tls-handshake') ?? 0, 0, 'and not a second time as a failed handshake');
    // An unknown name: counted once, as unknown-sni; a known one is served.
    await tlsHandshake(httpsPort, 'evil.example').then((x) => x.destroy(), () => undefined);
    assert.is(inst.app.metrics.rejects.get('unknown-sni'), 1);
    assert.is(inst.app.metrics.rejects.get('tls-handshake') ?? 0, 0, 'unknown-sni is not counted twice');
    const ok = await tlsHandshake(httpsPort, 'time.example', ['http/1.1']);
    assert.match(String(ok.getPeerCertificate().subject?.CN), 'localhost');
    ok.destroy();
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

test('tls :: --require-sni: openssl s_client -noservername gets no certificate', async () => {
  const { inst, httpsPort } = await startServer(['--hosts', 'time.example', '--require-sni'], cert);
  try {
    // s_client as a child process (the server runs in this one: a synchronous spawn would stop it answering).
    const sClient = async (args: string[]): Promise<string> => {
      const p = run('openssl', ['s_client', '-connect', `127.0.0.1:${httpsPort}`, ...args]);
      await p.exited;
      return p.out();
    };
    for (const extra of [[], ['-alpn', 'http/1.1']]) {
      const out = await sClient(['-noservername', ...extra]);
      assert.match(out, 'no peer certificate available', `s_client ${extra.join(' ')}: ${out.slice(0, 300)}`);
      assert.not.match(out, 'BEGIN CERTIFICATE');
    }
    assert.match(await sClient(['-servername', 'time.example']), 'BEGIN CERTIFICATE', 'a named hello gets it');
    await waitIdle(inst);
  } finally {
    await inst.drain();
  }
});

// ALPN is chosen natively by OpenSSL, with --require-sni (its context switched in the SNI callback) too.
for (const [label, flags] of [['native', []], ['with --require-sni', ['--hosts', 'localhost', '--require-sni']]] as const) {
  test(`tls :: ALPN ${label}: h2 preferred, http/1.1 alone, no match is a no_application_protocol alert`, async () => {
    const { inst, httpsPort } = await startServer([...flags], cert);
    try {
      const both = await tlsHandshake(httpsPort, 'localhost', ['http/1.1', 'h2']);
      assert.is(both.alpnProtocol, 'h2', 'h2 when offered, whatever the client\'s order');
      both.destroy();
      const h1 = await tlsHandshake(httpsPort, 'localhost', ['http/1.1']);
      assert.is(h1.alpnProtocol, 'http/1.1');
      h1.destroy();
      const err = await tlsHandshake(httpsPort, 'localhost', ['spdy/3']).then((s) => (s.destroy(), null), (e: NodeJS.ErrnoException) => e);
      assert.is(err?.code, 'ERR_SSL_TLSV1_ALERT_NO_APPLICATION_PROTOCOL');
      await waitIdle(inst);
    } finally {
      await inst.drain();
    }
  });
}

const fingerprint = (pemFile: string): string => new X509Certificate(readFileSync(pemFile)).fingerprint256;

test('tls :: reload swaps the certificate for new handshakes, viewers keep streaming; a broken one is refused', async () => {
  const a = makeCert(['localhost']);
  const b = makeCert(['localhost'], a.dir, 'second');
  const args = (c: { cert: string; key: string }): string[] => ['--listen', '127.0.0.1:0', '--tls-listen', '127.0.0.1:0', '--cert', c.cert, '--key', c.key];
  const { inst, httpsPort } = await startServer([], a);
  try {
    const s1 = await tlsHandshake(httpsPort);
    assert.is(s1.getPeerX509Certificate()?.fingerprint256, fingerprint(a.cert), 'first certificate served');
    const h1 = await h1Stream(s1);
    const session = await h2Session(httpsPort);
    const h2 = await h2Stream(session);
    await waitFor(() => h1.gif.frames.length >= 2 && h2.gif.frames.length >= 2, 'frames before reload', 4000);

    inst.reload(parseArgs(args(b)).config);
    const s2 = await tlsHandshake(httpsPort);
    assert.is(s2.getPeerX509Certificate()?.fingerprint256, fingerprint(b.cert), 'new handshakes see the new certificate');
    s2.destroy();
    const n1 = h1.gif.frames.length;
    const n2 = h2.gif.frames.length;
    await waitFor(() => h1.gif.frames.length >= n1 + 2 && h2.gif.frames.length >= n2 + 2, 'frames after reload', 4000);
    assert.is(inst.app.viewers, 2, 'both viewers still connected');
    assert.not.ok(h1.closed || h2.closed);

    // A broken certificate: reload throws and the previous one stays in use.
    const broken = join(a.dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n');
    assert.throws(() => inst.reload(parseArgs(args({ cert: broken, key: b.key })).config), (e: unknown) => e instanceof ConfigError);
    assert.throws(() => inst.reload(parseArgs(args({ cert: a.cert, key: b.key })).config), (e: unknown) => e instanceof ConfigError, 'mismatched key');
    const s3 = await tlsHandshake(httpsPort);
    assert.is(s3.getPeerX509Certificate()?.fingerprint256, fingerprint(b.cert), 'still the second certificate');
    s3.destroy();
    assert.is(inst.app.viewers, 2);
    h1.close();
    h2.close();
    session.close();
    await waitIdle(inst);
  } finally {
    await inst.drain();
    a.remove();
  }
});

test.after(() => cert.remove());

test.run();
