#!/usr/bin/env node
// The naive Node floor for the fan-out benchmark: the endless-GIF protocol with a plain
// `for (const s of sockets) s.write(frame)` at every wall-clock second boundary, no backpressure handling.
// Same wire protocol and same stdout lines as cwrite.c:
//   listening on http://127.0.0.1:PORT
//   tick SEC sockets N loop_us X us_per_write Y cpu_us Z lag_us L
//
//   node perf/naive-server.mjs [--listen 127.0.0.1:0] [--prologue FILE --frame FILE]
// Without files it serves fixedStream(): a 132×28 four-colour GIF made with omggif, a full keyframe in the
// prologue and the same small delta frame every second.

import net from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import omggif from 'omggif';

export const RESPONSE_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\n' +
  'Cache-Control: no-cache, no-store, no-transform\r\nConnection: close\r\n\r\n';

// { prologue, frame }: prologue = header + logical screen + global colour table + keyframe (no HTTP head);
// frame = one delta frame (GCE, image descriptor, LZW data) of 47 bytes.
export function fixedStream() {
  const W = 132; const H = 28;
  const palette = [0x000000, 0xffffff, 0x808080, 0xff00ff]; // index 3: transparent in deltas
  const buf = Buffer.alloc(16384);
  const gw = new omggif.GifWriter(buf, W, H, { palette });
  const key = new Uint8Array(W * H);
  for (let y = 4; y < 24; y++) for (let x = 6; x < 126; x++) if (((x >> 2) + (y >> 2)) % 3 === 0) key[y * W + x] = 1;
  gw.addFrame(0, 0, W, H, key, { delay: 1, disposal: 1 });
  const p1 = gw.getOutputBufferPosition();
  const dw = 12; const dh = 14;
  const delta = new Uint8Array(dw * dh).fill(3);
  for (let y = 2; y < 12; y++) for (let x = 2; x < 10; x++) if (x === 2 || x === 9 || y === 2 || y === 11) delta[y * dw + x] = 1;
  gw.addFrame(108, 7, dw, dh, delta, { delay: 1, disposal: 1, transparent: 3 });
  const p2 = gw.getOutputBufferPosition();
  return { prologue: Buffer.from(buf.subarray(0, p1)), frame: Buffer.from(buf.subarray(p1, p2)) };
}

function main(argv) {
  let listen = '127.0.0.1:0';
  let prologueFile = ''; let frameFile = '';
  for (let i = 0; i < argv.length; i += 2) {
    if (argv[i] === '--listen') listen = argv[i + 1];
    else if (argv[i] === '--prologue') prologueFile = argv[i + 1];
    else if (argv[i] === '--frame') frameFile = argv[i + 1];
    else { console.error(`naive-server: unknown option ${argv[i]}`); process.exit(2); }
  }
  const fixed = prologueFile ? { prologue: readFileSync(prologueFile), frame: readFileSync(frameFile) } : fixedStream();
  const intro = Buffer.concat([Buffer.from(RESPONSE_HEAD, 'latin1'), fixed.prologue]);
  const frame = fixed.frame;
  const sockets = new Set();

  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.once('data', () => {
      s.write(intro);
      sockets.add(s);
      s.on('data', () => {});
    });
    s.on('close', () => sockets.delete(s));
  });

  let nextAt = 0; // the boundary the pending tick is for (a timer may fire a millisecond early)
  const schedule = () => {
    nextAt = (Math.floor(Date.now() / 1000) + 1) * 1000;
    setTimeout(tick, nextAt - Date.now());
  };
  const tick = () => {
    if (Date.now() < nextAt) { setTimeout(tick, nextAt - Date.now()); return; }
    const wall = performance.timeOrigin + performance.now();
    const lagUs = Math.round((wall % 1000) * 1000);
    const cpu0 = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    for (const s of sockets) s.write(frame);
    const loopUs = Number(process.hrtime.bigint() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const n = sockets.size;
    console.log(`tick ${Math.floor(wall / 1000)} sockets ${n} loop_us ${Math.round(loopUs)} us_per_write ${n ? (loopUs / n).toFixed(2) : 0} cpu_us ${cpu.user + cpu.system} lag_us ${lagUs}`);
    schedule();
  };

  const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
  server.listen({ host, port, backlog: 4096 }, () => {
    console.log(`listening on http://${host}:${server.address().port}`);
    schedule();
  });

  process.on('SIGTERM', () => {
    server.close();
    for (const s of sockets) s.end(Buffer.from([0x3b]));
    setTimeout(() => process.exit(0), 500).unref();
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main(process.argv.slice(2));
