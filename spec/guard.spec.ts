// Flood defences on the wire: blocklists at accept, per-IP and global caps, the memory guard, PROXY
// protocol from trusted sources only, and recovery from open-files exhaustion.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { connect } from 'node:net';
import { RawClient, startTest, drainAll } from './wire.js';
import { makeCert } from './helpers.js';
import { connect as tlsConnect } from 'node:tls';
import type { AddressInfo } from 'node:net';

test.after.each(drainAll);

const GET = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: localhost\r\n\r\n`;
const dir = mkdtempSync(join(tmpdir(), 'timegif-guard-'));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test('guard :: a peer in the blocklist gets no byte; others are served', async () => {
  const list = join(dir, 'block.txt');
  writeFileSync(list, '# test ranges\n127.77.0.0/16\n10.0.0.0/8\n2001:db8::/32\n');
  const { inst, port } = await startTest(['--blocklist', list]);
  const blocked = new RawClient(port, '127.0.0.1', '127.77.3.4');
  blocked.send(GET('/time.gif'));
  await blocked.untilClosed();
  assert.is(blocked.data.length, 0, 'no byte for a blocked peer');
  const ok = await RawClient.open(port, '127.78.3.4');
  ok.send(GET('/robots.txt'));
  await ok.until(() => ok.status !== 0);
  assert.is(ok.status, 200);
  assert.is(inst.app.metrics.rejects.get('blocked'), 1);
  ok.close();
});

test('guard :: --allowlist wins over the blocklist and the rate limit', async () => {
  const block = join(dir, 'block2.txt');
  const allow = join(dir, 'allow.txt');
  writeFileSync(block, '127.0.0.0/8\n');
  writeFileSync(allow, '127.66.0.1\n');
  const { port } = await startTest(['--blocklist', block, '--allowlist', allow]);
  const c = await RawClient.open(port, '127.66.0.1');
  c.send(GET('/robots.txt'));
  await c.until(() => c.status !== 0);
  assert.is(c.status, 200);
  c.close();
});

test('guard :: --max-streams-per-ip: the stream over the cap gets 503 + GIF, the others keep streaming', async () => {
  const { inst, port } = await startTest(['--max-streams-per-ip', '2']);
  const a = await RawClient.open(port, '127.5.0.1');
  const b = await RawClient.open(port, '127.5.0.1');
  const other = await RawClient.open(port, '127.5.0.2');
  for (const c of [a, b, other]) c.send(GET('/time.gif'));
  await Promise.all([a, b, other].map((c) => c.until(() => c.status !== 0)));
  const over = await RawClient.open(port, '127.5.0.1');
  over.send(GET('/time.gif'));
  await over.untilClosed();
  assert.is(over.status, 503);
  assert.match(over.text, /Retry-After: \d+/);
  assert.is(over.data.toString('latin1', over.headEnd, over.headEnd + 6), 'GIF89a');
  assert.equal([a.status, b.status, other.status], [200, 200, 200]);
  assert.is(inst.app.viewers, 3);
  assert.is(inst.app.metrics.rejects.get('streams-per-ip'), 1);
  a.close();
  await sleep(50);
  const again = await RawClient.open(port, '127.5.0.1');
  again.send(GET('/time.gif'));
  await again.until(() => again.status !== 0);
  assert.is(again.status, 200, 'a slot freed by a closed stream is reusable');
  for (const c of [b, other, again]) c.close();
});

test('guard :: --conn-rate-per-ip: connections over the burst are dropped at accept', async () => {
  const { inst, port } = await startTest(['--conn-rate-per-ip', '1']); // burst 4
  const cs = await Promise.all(Array.from({ length: 8 }, () => RawClient.open(port, '127.9.0.1')));
  for (const c of cs) c.send(GET('/robots.txt'));
  await Promise.all(cs.map((c) => c.until(() => c.closed || c.status !== 0)));
  const served = cs.filter((c) => c.status === 200).length;
  assert.ok(served >= 4 && served <= 5, `burst admitted (${served})`);
  assert.ok(cs.filter((c) => c.status === 0 && c.data.length === 0).length >= 3, 'the rest got no byte');
  assert.ok((inst.app.metrics.rejects.get('conn-rate') ?? 0) >= 3);
  const elsewhere = await RawClient.open(port, '127.9.0.2');
  elsewhere.send(GET('/robots.txt'));
  await elsewhere.until(() => elsewhere.status !== 0);
  assert.is(elsewhere.status, 200, 'another address has its own bucket');
  for (const c of [...cs, elsewhere]) c.close();
});

test('guard :: the memory guard refuses new viewers with 503 before RSS passes the bound', async () => {
  const { inst, port } = await startTest(['--memory-limit-mb', '16']);
  const c = await RawClient.open(port);
  c.send(GET('/time.gif'));
  await c.untilClosed();
  assert.is(c.status, 503);
  assert.is(inst.app.metrics.rejects.get('memory'), 1);
  const page = await RawClient.open(port);
  page.send(GET('/robots.txt'));
  await page.until(() => page.status !== 0);
  assert.is(page.status, 200, 'small answers still work');
  page.close();
});

test('guard :: --max-connections: connections over the cap are closed at accept', async () => {
  const { inst, port } = await startTest(['--max-connections', '3']);
  const held = await Promise.all(Array.from({ length: 3 }, () => RawClient.open(port)));
  for (const c of held) c.send(GET('/time.gif'));
  await Promise.all(held.map((c) => c.until(() => c.status === 200)));
  const over = await RawClient.open(port);
  over.send(GET('/robots.txt'));
  await over.untilClosed();
  assert.is(over.data.length, 0);
  assert.is(inst.app.metrics.rejects.get('max-connections'), 1);
  held[0]!.close();
  await sleep(50);
  const next = await RawClient.open(port);
  next.send(GET('/robots.txt'));
  await next.until(() => next.status !== 0);
  assert.is(next.status, 200);
  for (const c of [...held, next]) c.close();
});

function proxyV2(src: [number, number, number, number], srcPort: number): Buffer {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const h = Buffer.alloc(16 + 12);
  sig.copy(h);
  h[12] = 0x21; // v2, PROXY
  h[13] = 0x11; // AF_INET, STREAM
  h.writeUInt16BE(12, 14);
  Buffer.from(src).copy(h, 16);
  Buffer.from([127, 0, 0, 1]).copy(h, 20);
  h.writeUInt16BE(srcPort, 24);
  h.writeUInt16BE(80, 26);
  return h;
}

test('guard :: PROXY v1/v2 from a trusted balancer names the client for blocklists, caps and logs', async () => {
  const list = join(dir, 'block3.txt');
  writeFileSync(list, '203.0.113.0/24\n');
  const log = join(dir, 'access.log');
  const { inst, port } = await startTest(['--proxy-protocol-from', '127.50.0.1', '--blocklist', list, '--access-log', log]);
  // v1 from the balancer for a client that is allowed
  const v1 = await RawClient.open(port, '127.50.0.1');
  v1.send('PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n' + GET('/robots.txt'));
  await v1.until(() => v1.status !== 0);
  assert.is(v1.status, 200);
  // v2 for a blocked client: closed without a byte
  const v2 = await RawClient.open(port, '127.50.0.1');
  v2.send(Buffer.concat([proxyV2([203, 0, 113, 9], 40001), Buffer.from(GET('/robots.txt'))]));
  await v2.untilClosed();
  assert.is(v2.data.length, 0);
  // a malformed header from the balancer: closed
  const bad = await RawClient.open(port, '127.50.0.1');
  bad.send('PROXY TCP4 999.1.1.1 127.0.0.1 1 80\r\n');
  await bad.untilClosed();
  assert.is(bad.data.length, 0);
  // split across writes
  const split = await RawClient.open(port, '127.50.0.1');
  split.send('PROXY TCP4 198.51.1');
  await sleep(20);
  split.send('00.8 127.0.0.1 40002 80\r\nGET /robots.txt HTTP/1.1\r\nHo');
  await sleep(20);
  split.send('st: a\r\n\r\n');
  await split.until(() => split.status !== 0);
  assert.is(split.status, 200);
  // a PROXY header from anyone else is just a bad request: nothing trusts it
  const spoof = await RawClient.open(port, '127.50.0.2');
  spoof.send('PROXY TCP4 198.51.100.7 127.0.0.1 40000 80\r\n' + GET('/robots.txt'));
  await spoof.until(() => spoof.status !== 0);
  assert.is(spoof.status, 400);
  assert.is(inst.app.metrics.rejects.get('blocked'), 1);
  assert.is(inst.app.metrics.rejects.get('bad-proxy'), 1);
  for (const c of [v1, split, spoof]) c.close();
  await inst.drain();
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  assert.ok(lines.some((l) => l.startsWith('198.51.100.7 ')), 'the access log names the real client');
  assert.ok(lines.some((l) => l.startsWith('198.51.100.8 ')));
  assert.not.ok(lines.some((l) => l.startsWith('127.50.0.1 ')), 'never the balancer');
});

test('guard :: X-Forwarded-For and X-Real-IP are never trusted', async () => {
  const list = join(dir, 'block4.txt');
  writeFileSync(list, '127.44.0.0/16\n');
  const { port } = await startTest(['--blocklist', list]);
  const c = await RawClient.open(port, '127.45.0.1');
  c.send('GET /metrics HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 127.44.0.1\r\nX-Real-IP: 127.44.0.1\r\n\r\n');
  await c.until(() => c.status !== 0);
  assert.is(c.status, 200, 'judged by the socket address only');
  c.close();
});

test('guard :: PROXY header before the TLS handshake: the client behind the balancer is checked and logged', async () => {
  const cert = makeCert(['localhost'], dir, 'proxy-tls');
  const list = join(dir, 'block5.txt');
  writeFileSync(list, '203.0.113.0/24\n');
  const log = join(dir, 'access-tls.log');
  const { inst } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key, '--proxy-protocol-from', '127.51.0.1', '--blocklist', list, '--access-log', log]);
  const tlsPort = (inst.listeners.find((l) => l.tls)!.server.address() as AddressInfo).port;
  const through = async (header: string): Promise<string> => {
    const raw = connect({ port: tlsPort, host: '127.0.0.1', localAddress: '127.51.0.1' });
    await new Promise((r) => raw.once('connect', r));
    raw.write(header);
    return new Promise<string>((resolve) => {
      const s = tlsConnect({ socket: raw, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }, () => s.write(GET('/robots.txt')));
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('error', () => resolve(got || 'error'));
      s.on('close', () => resolve(got || 'closed'));
      setTimeout(() => s.destroy(), 1000);
    });
  };
  assert.match(await through('PROXY TCP4 198.51.100.20 127.0.0.1 40000 443\r\n'), /^HTTP\/1\.1 200 /);
  assert.not.match(await through('PROXY TCP4 203.0.113.20 127.0.0.1 40000 443\r\n'), /HTTP/);
  assert.is(inst.app.metrics.rejects.get('blocked'), 1);
  await inst.drain();
  const { readFileSync } = await import('node:fs');
  assert.match(readFileSync(log, 'utf8'), /^198\.51\.100\.20 - - /m);
  assert.is(inst.app.connections, 0);
});

const here = dirname(fileURLToPath(import.meta.url));

test('guard :: out of descriptors (EMFILE): the server keeps running and recovers when sockets close', async () => {
  const server = spawn('sh', ['-c', `ulimit -n 48 && exec "${process.execPath}" "${join(here, '..', 'server.js')}" serve --listen 127.0.0.1:0 --max-connections 1000`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  server.stderr!.on('data', (d) => (stderr += d));
  try {
    const first = await new Promise<string>((resolve) => createInterface({ input: server.stdout! }).once('line', resolve));
    const port = Number(/:(\d+)$/.exec(first)![1]);
    const socks = await Promise.all(
      Array.from({ length: 80 }, () => new Promise<import('node:net').Socket>((resolve) => {
        const s = connect(port, '127.0.0.1');
        s.on('error', () => {});
        s.once('connect', () => {
          s.write(GET('/time.gif'));
          resolve(s);
        });
        s.once('close', () => resolve(s));
      })),
    );
    await sleep(500);
    assert.is(server.exitCode, null, `still running ${stderr}`);
    // libuv refuses what it cannot accept (it closes them rather than spinning): some were dropped.
    assert.ok(socks.filter((s) => s.destroyed).length > 0, 'connections beyond the descriptors were refused');
    for (const s of socks) s.destroy();
    await sleep(1500); // a tick or two with descriptors exhausted must not crash it either
    assert.is(server.exitCode, null, `still running after ticks ${stderr}`);
    const c = await RawClient.open(port);
    c.send(GET('/time.gif'));
    await c.until(() => c.status !== 0, 3000);
    assert.is(c.status, 200, 'serves again once descriptors are free');
    c.close();
  } finally {
    server.kill('SIGKILL');
  }
});

test.run();
