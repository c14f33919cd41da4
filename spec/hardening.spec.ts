// What an attacker found, on the wire, each with the clock driven by hand so deadlines fire exactly when told:
// h2 sessions that do nothing are closed within their deadlines (and cannot fill the connection cap); pipeliners
// that never read are held to one answer in user space and reset, which frees the kernel's send queue; the memory
// guard refuses at its bound and accepts again once the wave is gone; TLS renegotiation is refused and a corrupt
// record closes the connection at once; one address cannot take every zone; an h2 request body is bounded.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnectRaw } from 'node:tls';
import { RawClient, drainAll, startTest } from './wire.js';
import { h2Session, makeCert, serverSendQueue, sleep, tlsHandshake, waitFor, type CertFiles } from './helpers.js';
import { commandMissing, specIf } from './tools.js';
import { H2_FIRST_STREAM_MS, H2_GOAWAY_GRACE_MS, H2_IDLE_MS, LINGER_MS, MAX_CHANNELS_PER_IP, MAX_PIPELINE_BYTES, SEND_TIMEOUT_MS, TLS_CONN_BYTES } from '../lib/core/limits.js';
import type { Instance } from '../lib/run/start.js';

let now = Date.now();
const clock = { now: () => now, manualClock: true };
/** Advance the hand-driven clock by `ms` and run one tick at the new time. */
function advance(inst: Instance, ms: number): void {
  now += ms;
  inst.app.tick(Math.floor(now / 1000), now);
}
const closes = (inst: Instance, reason: string): number => inst.app.metrics.closes.get(reason) ?? 0;
const rejects = (inst: Instance, reason: string): number => inst.app.metrics.rejects.get(reason) ?? 0;

const opensslMissing = commandMissing('openssl', ['version']);
let cert: CertFiles | null = null;
const tlsArgs = (): string[] => {
  cert ??= makeCert(['localhost']);
  return ['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key];
};
const tlsPortOf = (inst: Instance): number => (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;

specIf(opensslMissing, 'hardening :: h2 sessions that open no stream, or go idle, are closed at their deadlines and free the connection cap', async () => {
  const { inst } = await startTest([...tlsArgs(), '--max-connections', '3'], clock);
  const port = tlsPortOf(inst);
  // (a) TLS with ALPN h2, then silence: no preface at all.
  const silent = await tlsHandshake(port, 'localhost', ['h2']);
  // (b) the preface and SETTINGS, then no stream.
  const quiet = await h2Session(port);
  // (c) one request, answered, then idle.
  const used = await h2Session(port);
  await new Promise<void>((resolve, reject) => {
    const st = used.request({ ':path': '/healthz', ':authority': 'localhost' });
    st.on('error', reject);
    st.resume();
    st.on('end', resolve);
  });
  await waitFor(() => inst.app.h2Sessions.size === 3, 'three h2 sessions');
  // The cap is full of sessions that do nothing: a fourth connection is refused.
  const refused = new RawClient(port);
  await refused.untilClosed();
  assert.is(rejects(inst, 'max-connections'), 1, 'the cap holds');
  advance(inst, H2_FIRST_STREAM_MS - 1000);
  assert.is(inst.app.h2Sessions.size, 3, 'nothing closed before the first-stream deadline');
  advance(inst, 2000);
  advance(inst, H2_GOAWAY_GRACE_MS + 1000); // our GOAWAY, then destroyed if the peer stays
  await waitFor(() => inst.app.h2Sessions.size === 1, `the two sessions without a stream closed (${inst.app.h2Sessions.size} left)`);
  assert.is(closes(inst, 'h2-first-stream-timeout'), 2);
  advance(inst, H2_IDLE_MS);
  advance(inst, 3000); // past the GOAWAY grace, if the peer did not go away by itself
  await waitFor(() => inst.app.h2Sessions.size === 0 && inst.app.connections === 0, `every session gone (open ${inst.app.connections})`);
  assert.is(closes(inst, 'h2-idle-timeout'), 1);
  // The cap is free again: a viewer gets in.
  const s = await h2Session(port);
  const stream = s.request({ ':path': '/time.gif', ':authority': 'localhost' });
  const status = await new Promise<number>((r) => stream.once('response', (h) => r(Number(h[':status']))));
  assert.is(status, 200);
  for (const c of [silent, quiet, used, s]) c.destroy();
  await drainAll();
});

const PY = fileURLToPath(new URL('../../spec/fixtures/smallbuf.py', import.meta.url));
const toolsForPipeline = commandMissing('ss', ['-V'], 'apt-get install iproute2') ?? commandMissing('python3', ['-c', 'import socket'], 'apt-get install python3');

specIf(toolsForPipeline, 'hardening :: 40 pipeliners that never read: one answer at a time, then reset; the kernel send queues are freed', async () => {
  const { inst, port } = await startTest(['--conn-rate-per-ip', '1000'], clock);
  // Small receive windows (Node cannot set them): the peers' kernels take a few KB, then the server's must hold the rest.
  const py = spawn('python3', [PY, 'pipeline', String(port), '40', '1000'], { stdio: ['pipe', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve) => py.stdout!.once('data', () => resolve()));
    await waitFor(() => inst.app.connections === 40, `40 connections (open ${inst.app.connections})`);
    await sleep(1500);
    const pageBytes = inst.app.responses.get('page', true, false).length;
    const held = serverSendQueue(port);
    let userSpace = 0;
    for (const c of inst.app.pending) userSpace += c.socket.writableLength;
    // Answers stop where the kernel stopped taking them: at most one answer each waits in user space.
    const bound = 40 * (Math.ceil(MAX_PIPELINE_BYTES / pageBytes) + 1);
    assert.ok(inst.app.metrics.requests <= bound, `requests answered: ${inst.app.metrics.requests} of ${40 * 1000} (bound ${bound})`);
    // Answers go out while fewer than MAX_PIPELINE_BYTES were sent: the last kept-alive one may cross it, and the
    // next (the last, with Connection: close) adds one more page.
    assert.ok(held.bytes <= 40 * (MAX_PIPELINE_BYTES + 2 * pageBytes), `the kernel holds at most the pipeline bound each: ${held.bytes} B on ${held.sockets} sockets`);
    assert.ok(userSpace <= 40 * pageBytes, `user space holds at most one answer per peer: ${userSpace} B`);
    advance(inst, SEND_TIMEOUT_MS + 1000);
    await waitFor(() => inst.app.connections === 0, `all reset (open ${inst.app.connections})`);
    const reset = closes(inst, 'send-timeout') + closes(inst, 'linger-timeout');
    assert.is(reset, 40, 'every one reset for not reading (answers waiting, or our FIN unanswered)');
    await sleep(200);
    const after = serverSendQueue(port);
    assert.is(after.bytes, 0, `nothing left queued in the kernel for them (was ${held.bytes} B on ${held.sockets} sockets)`);
    assert.is(after.sockets, 0, 'no server-side socket left (a reset, not an orphaned FIN)');
  } finally {
    py.kill();
  }
  await drainAll();
});

test('hardening :: a pipeliner past the pipeline bound gets Connection: close, and is reset when it does not close', async () => {
  const { inst, port } = await startTest([], clock);
  const c = netConnect({ port, host: '127.0.0.1' });
  c.on('error', () => undefined);
  c.pause();
  c.write('GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'.repeat(1000));
  const pageBytes = inst.app.responses.get('page', true, false).length;
  await waitFor(() => inst.app.metrics.requests >= Math.floor(MAX_PIPELINE_BYTES / pageBytes), 'answers up to the bound');
  await sleep(300);
  assert.ok(inst.app.metrics.requests <= Math.ceil(MAX_PIPELINE_BYTES / pageBytes) + 1, `no answer past the bound: ${inst.app.metrics.requests}`);
  assert.is(inst.app.connections, 1, 'still counted while the peer holds it');
  advance(inst, LINGER_MS + 1000);
  await waitFor(() => inst.app.connections === 0, 'reset at the linger deadline');
  assert.is(closes(inst, 'linger-timeout'), 1);
  c.destroy();
  await drainAll();
});

specIf(opensslMissing, 'hardening :: the memory guard refuses at its bound and accepts again once the wave is gone', async () => {
  const { inst, port } = await startTest(tlsArgs(), clock);
  const tlsPort = tlsPortOf(inst);
  // A bound 40 TLS connections above what is held now.
  inst.app.memoryLimitBytes = inst.app.memoryHeldBytes + 40 * TLS_CONN_BYTES;
  const wave = await Promise.all(Array.from({ length: 60 }, () => tlsHandshake(tlsPort)));
  const ask = async (): Promise<number> => {
    const c = await RawClient.open(port);
    c.send('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await c.until(() => c.status !== 0, 3000, 'a status');
    const st = c.status;
    c.close();
    return st;
  };
  assert.is(await ask(), 503, 'refused while the wave is open');
  assert.ok(rejects(inst, 'memory') >= 1);
  for (const s of wave) s.destroy();
  await waitFor(() => inst.app.tlsOpen === 0, 'the wave gone');
  assert.is(await ask(), 200, 'accepted again: the estimate fell back');
  await drainAll();
});

specIf(opensslMissing, 'hardening :: TLS renegotiation is refused; a corrupt record closes the connection at once', async () => {
  const { inst } = await startTest(tlsArgs(), clock);
  const port = tlsPortOf(inst);
  // TLS 1.2 (1.3 has no renegotiation): the client asks, the server refuses.
  const s12 = await new Promise<ReturnType<typeof tlsConnectRaw>>((resolve, reject) => {
    const s = tlsConnectRaw({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.2', ALPNProtocols: ['http/1.1'] });
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
  });
  s12.on('error', () => undefined);
  const renegotiated = await new Promise<boolean>((resolve) => {
    const ok = s12.renegotiate({}, (err) => resolve(err === null || err === undefined));
    if (ok === false) resolve(false);
    setTimeout(() => resolve(!s12.destroyed), 3000);
  });
  assert.not.ok(renegotiated, 'no renegotiation');
  s12.destroy();
  // A corrupt record after the handshake: garbage on the TCP socket under a TLS client.
  const raw = netConnect({ port, host: '127.0.0.1' });
  const t = tlsConnectRaw({ socket: raw, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  t.on('error', () => undefined);
  await new Promise((r) => t.once('secureConnect', r));
  await waitFor(() => inst.app.connections === 1 && inst.app.pending.size === 1, 'the connection past its handshake');
  raw.write(Buffer.from([0x17, 0x03, 0x03, 0x00, 0x20, ...Array.from({ length: 32 }, (_, i) => i)]));
  const t0 = Date.now();
  await waitFor(() => inst.app.connections === 0, 'closed on the bad record', 3000);
  assert.ok(Date.now() - t0 < 3000, 'at once, not at a deadline (the clock is not moving)');
  assert.ok(rejects(inst, 'tls-error') >= 1, 'counted');
  t.destroy();
  await drainAll();
});

test('hardening :: one address cannot take every zone; others still get theirs', async () => {
  const { inst, port } = await startTest([], clock);
  const zones = ['Europe/Berlin', 'Asia/Tokyo', 'America/New_York', 'Europe/Paris', 'Asia/Kolkata', 'Africa/Cairo', 'Australia/Sydney', 'America/Chicago', 'Europe/Madrid', 'Asia/Seoul'];
  const open = async (zone: string, src = '127.0.0.1'): Promise<RawClient> => {
    const c = await RawClient.open(port, src);
    c.send(`GET /time.gif?tz=${zone} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    await c.until(() => c.status !== 0, 3000, 'a status');
    return c;
  };
  const mine: RawClient[] = [];
  for (const z of zones.slice(0, MAX_CHANNELS_PER_IP)) {
    mine.push(await open(z));
    assert.is(mine.at(-1)!.status, 200, z);
  }
  const over = await open(zones[MAX_CHANNELS_PER_IP]!);
  assert.is(over.status, 503, 'one distinct face too many');
  assert.is(rejects(inst, 'channels-per-ip'), 1);
  const again = await open(zones[0]!);
  assert.is(again.status, 200, 'a face it already watches is fine');
  const other = await open(zones[MAX_CHANNELS_PER_IP]!, '127.0.0.2');
  assert.is(other.status, 200, 'another address gets the zone');
  const utc = await open('UTC');
  assert.is(utc.status, 200, 'the default face is never counted');
  // Closing frees the slot.
  mine[0]!.close();
  again.close();
  await waitFor(() => inst.app.viewers === MAX_CHANNELS_PER_IP + 1, 'two viewers gone');
  const freed = await open(zones[MAX_CHANNELS_PER_IP + 1]!);
  assert.is(freed.status, 200, 'a freed slot is usable');
  await drainAll();
});

specIf(opensslMissing, 'hardening :: an h2 stream that sends a body past the bound is cancelled', async () => {
  const { inst } = await startTest(tlsArgs(), clock);
  const s = await h2Session(tlsPortOf(inst));
  const st = s.request({ ':method': 'GET', ':path': '/time.gif', ':authority': 'localhost' }, { endStream: false });
  st.on('error', () => undefined);
  st.resume();
  await new Promise((r) => st.once('response', r));
  st.write(Buffer.alloc(60 * 1024));
  st.write(Buffer.alloc(20 * 1024));
  await new Promise((r) => st.once('close', r));
  assert.is(rejects(inst, 'stream-input'), 1);
  s.destroy();
  await drainAll();
});

specIf(opensslMissing, 'hardening :: --redirect-https goes to a configured name only, never to the Host a client sent', async () => {
  // a redirect needs a TLS listener to go to
  const { port } = await startTest(['--redirect-https', '--hosts', 'time.example,www.time.example', ...tlsArgs()], clock);
  for (const [host, want] of [['www.time.example', 'https://www.time.example/'], ['time.example', 'https://time.example/']]) {
    const c = await RawClient.open(port);
    c.send(`GET / HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`);
    await c.untilClosed();
    assert.match(c.text, `Location: ${want}\r\n`);
  }
  const evil = await RawClient.open(port);
  evil.send('GET / HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n');
  await evil.untilClosed();
  assert.is(evil.status, 421, 'an unknown Host is not redirected anywhere');
  assert.not.match(evil.text, 'evil.example');
  await drainAll();
});

test.after(() => cert?.remove());
test.run();
