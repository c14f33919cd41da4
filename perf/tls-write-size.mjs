// RSS of a bare node:tls server socket by the size of the first write it makes, and the same bytes in pieces.
// Why TLS_WRITE_PIECE_BYTES (lib/stream/viewer.ts) exists: measured here, not assumed. For each variant: N TLS
// connections (a child process holds the clients, each sends a request and reads), the server answers the
// request with the write(s) under test, then writes three 60-byte frames; RSS per connection after a GC.
// Checks first that every connection got the bytes. Env: N (default 2000), SIZES. Appends to RESULTS.md.
//   node perf/tls-write-size.mjs
import { createServer } from 'node:net';
import { connect as tlsConnect, TLSSocket, createSecureContext } from 'node:tls';
import { execFileSync, fork } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';

const N = Number(process.env.N ?? 2000);

if (process.argv[2] === 'client') {
  const [port, n, expect] = process.argv.slice(3).map(Number);
  const got = new Array(n).fill(0);
  const keep = [];
  const one = (i) => new Promise((resolve) => {
    const s = tlsConnect({ port, host: '127.0.0.1', rejectUnauthorized: false, servername: 'localhost' }, () => {
      s.write('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n');
      resolve();
    });
    s.on('data', (d) => (got[i] += d.length));
    s.on('error', resolve);
    keep.push(s);
  });
  for (let i = 0; i < n; i += 50) await Promise.all(Array.from({ length: Math.min(50, n - i) }, (_, k) => one(i + k)));
  process.on('message', () => process.send({ complete: got.filter((b) => b >= expect).length }));
  process.send('ready');
  setInterval(() => {}, 1000);
} else if (process.argv[2] === 'measure') {
  // One variant per process: freed sockets do not give their memory back, so variants must not share one.
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  const dir = mkdtempSync(join(tmpdir(), 'timegif-tlsws-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'k.pem'),
    '-out', join(dir, 'c.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
  const ctx = createSecureContext({ key: readFileSync(join(dir, 'k.pem')), cert: readFileSync(join(dir, 'c.pem')) });
  rmSync(dir, { recursive: true, force: true });
  {
    const v = process.argv[3];
    const pieces = v.includes('/') ? Math.ceil(Number(v.split('/')[0]) / Number(v.split('/')[1])) : 1;
    const total = Number(v.split('/')[0]);
    const piece = Math.ceil(total / pieces);
    const sockets = [];
    const server = createServer((raw) => {
      const s = new TLSSocket(raw, { isServer: true, secureContext: ctx });
      s.on('error', () => {});
      s.once('data', () => {
        for (let at = 0; at < total; at += piece) s.write(Buffer.alloc(Math.min(piece, total - at), 7));
      });
      sockets.push(s);
    });
    await new Promise((r) => server.listen(0, '127.0.0.1', r));
    globalThis.gc();
    const before = process.memoryUsage.rss();
    const c = fork(new URL(import.meta.url).pathname, ['client', String(server.address().port), String(N), String(total + 180)]);
    await new Promise((r) => c.once('message', r));
    await new Promise((r) => setTimeout(r, 500));
    for (let k = 0; k < 3; k++) {
      for (const s of sockets) s.write(Buffer.alloc(60, 1));
      await new Promise((r) => setTimeout(r, 200));
    }
    const check = await new Promise((r) => { c.once('message', r); c.send('report'); });
    if (check.complete !== N) throw new Error(`${v}: ${check.complete} of ${N} clients got all bytes`);
    globalThis.gc();
    await new Promise((r) => setTimeout(r, 300));
    const perConn = (process.memoryUsage.rss() - before) / N / 1024;
    console.log(JSON.stringify([v, pieces, perConn]));
    c.kill();
    process.exit(0);
  }
} else {
  const variants = (process.env.SIZES ?? '300,448,480,500,700,700/350,700/448').split(',');
  const rows = [];
  for (const v of variants) {
    const out = execFileSync(process.execPath, ['--expose-gc', new URL(import.meta.url).pathname, 'measure', v], { env: process.env, encoding: 'utf8' });
    const [, pieces, perConn] = JSON.parse(out.trim().split('\n').pop());
    rows.push([v, pieces, perConn]);
    console.log(`first answer ${v.replace('/', ' B in pieces of ≤')}${v.includes('/') ? '' : ' B in one write'}: ${perConn.toFixed(1)} KiB per connection`);
  }
  if (process.env.RECORD !== '0')
    appendFileSync(new URL('RESULTS.md', import.meta.url), [
      '',
      `## TLS: RSS per bare node:tls socket by the size of its first write (${new Date().toISOString()})`,
      '',
      `Command: \`node perf/tls-write-size.mjs\` (N=${N}, each variant in its own process); Node ${process.version}, ${cpus().length} × ${cpus()[0]?.model.trim()}, load average ${loadavg()[0].toFixed(1)}. ` +
        'Server: node:net + TLSSocket (TLS 1.3, ECDSA P-256), answering each request with the write(s) below, then three 60-byte writes; ' +
        'clients in a child process read everything (checked). RSS of the server after a GC, per connection.',
      '',
      '| first answer | writes | KiB per connection |',
      '|---|---:|---:|',
      ...rows.map(([v, p, k]) => `| ${v.split('/')[0]} B${v.includes('/') ? ` in pieces of ≤${v.split('/')[1]}` : ''} | ${p} | ${k.toFixed(1)} |`),
      '',
    ].join('\n'));
}
