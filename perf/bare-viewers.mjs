// The Node floor for a TLS viewer: a bare node:tls (HTTP/1.1) or node:http2 server that streams the same bytes as
// timegif to each viewer (an intro of INTRO bytes in pieces of PIECE, then one FRAME-byte write per viewer every
// second), with nothing else on top: no parser, no admission, no channel. tls-bench.mjs measures RSS per viewer on
// it beside timegif's. What it keeps per connection is Node's own; what timegif keeps beyond it is timegif's.
//
//   node perf/bare-viewers.mjs tls|h2 CERT KEY INTRO FRAME PIECE [OPTIONS]        prints "port N"
// OPTIONS: JSON merged into the server's options (h2-session-rss.mjs tries node:http2 settings with it).
import { createServer as createTls } from 'node:tls';
import { createSecureServer } from 'node:http2';
import { readFileSync } from 'node:fs';

const [kind, certFile, keyFile, intro, frame, piece, extra = '{}'] = process.argv.slice(2);
const INTRO = Buffer.alloc(Number(intro), 1);
const FRAME = Buffer.alloc(Number(frame), 2);
const PIECE = Number(piece);
const tlsOptions = { cert: readFileSync(certFile), key: readFileSync(keyFile), ...JSON.parse(extra) };
/** Everything that gets a frame each second: a TLS socket or an h2 stream (both have write()). */
const viewers = new Set();

function start(sink) {
  for (let at = 0; at < INTRO.length; at += PIECE) sink.write(INTRO.subarray(at, at + PIECE));
  viewers.add(sink);
}

let server;
if (kind === 'tls') {
  const HEAD = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n');
  server = createTls({ ...tlsOptions, ALPNProtocols: ['http/1.1'] }, (s) => {
    s.on('error', () => {});
    s.once('data', () => {
      s.write(HEAD);
      start(s);
    });
    s.on('close', () => viewers.delete(s));
  });
} else if (kind === 'h2') {
  server = createSecureServer({ ...tlsOptions, allowHTTP1: false });
  server.on('stream', (stream) => {
    stream.on('error', () => {});
    stream.respond({ ':status': 200, 'content-type': 'image/gif', 'cache-control': 'no-store' });
    start(stream);
    stream.on('close', () => viewers.delete(stream));
  });
  server.on('sessionError', () => {});
} else throw new Error(`bare-viewers: kind must be tls or h2, not ${kind}`);

// One frame a second to every viewer, on the second boundary as timegif's clock does.
const tick = () => {
  for (const v of viewers) v.write(FRAME);
  setTimeout(tick, 1000 - (Date.now() % 1000));
};
setTimeout(tick, 1000 - (Date.now() % 1000));
server.listen(0, '127.0.0.1', () => console.log(`port ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
