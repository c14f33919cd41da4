// LZW encoder benchmark: timegif's writeLzwData vs gifenc's lzwEncode vs omggif's GifWriter on the same pixels.
// Checks first (every encoder's output decodes back to the input through gifuct-js), then times the variants
// interleaved round-robin, then appends the table to perf/RESULTS.md.
//
//   ITER=30 SCENES=clock,noise,lowentropy RECORD=1 node encoder-bench.mjs      (after `npx tsc -p .` at the root)
// ITER: timed rounds per variant (default 25); SCENES: subset to run; RECORD=0 skips RESULTS.md.

import { appendFileSync } from 'node:fs';
import os from 'node:os';
import { ByteWriter } from '../dist/encoder/bytes.js';
import { writeLzwData } from '../dist/encoder/lzw.js';
import { encodeGif, encodePrologue, minCodeSizeFor, DISPOSAL } from '../dist/encoder/gif.js';
import lzwEncode from 'gifenc/src/lzwEncode.js';
import createStream from 'gifenc/src/stream.js';
import omggif from 'omggif';
import { parseGIF, decompressFrames } from 'gifuct-js';
import { mulberry32 } from '../dist/spec/random.js';
import { machine, median } from './common.mjs';

const ITER = Number(process.env.ITER ?? 25);
const WARMUP = Number(process.env.WARMUP ?? 3);
const SCENES = (process.env.SCENES ?? 'clock,noise,lowentropy').split(',');
const RECORD = process.env.RECORD !== '0';


// --- scenes: each is a list of frames (Uint8Array indices) of one size and palette -----------------------

// 7-segment digits, 5 px strokes: a synthetic stand-in for the clock face (4 colours, anti-alias-free)
const SEGMENTS = [0x3f, 0x06, 0x5b, 0x4f, 0x66, 0x6d, 0x7d, 0x07, 0x7f, 0x6f];
function clockFrame(w, h, second) {
  const px = new Uint8Array(w * h); // 0 background
  const rect = (x0, y0, rw, rh, v) => {
    for (let y = y0; y < y0 + rh; y++) px.fill(v, y * w + x0, y * w + x0 + rw);
  };
  rect(0, 0, w, 6, 2); // a title bar in another colour
  const s = ((second % 86400) + 86400) % 86400;
  const text = [Math.floor(s / 36000), Math.floor(s / 3600) % 10, -1, Math.floor(s / 600) % 6, Math.floor(s / 60) % 10, -1, Math.floor(s / 10) % 6, s % 10];
  let x = 8;
  for (const d of text) {
    if (d < 0) { rect(x + 2, 24, 5, 5, 3); rect(x + 2, 44, 5, 5, 3); x += 10; continue; }
    const m = SEGMENTS[d], dw = 22, t = 4, y = 12;
    if (m & 1) rect(x, y, dw, t, 1);
    if (m & 2) rect(x + dw - t, y, t, 22, 1);
    if (m & 4) rect(x + dw - t, y + 22, t, 22, 1);
    if (m & 8) rect(x, y + 44 - t, dw, t, 1);
    if (m & 16) rect(x, y + 22, t, 22, 1);
    if (m & 32) rect(x, y, t, 22, 1);
    if (m & 64) rect(x, y + 20, dw, t, 1);
    x += dw + 8;
  }
  return px;
}

const scenes = {
  clock: () => ({ desc: '60 clock frames 256x64, 4 colours', width: 256, height: 64, colors: 4,
    frames: Array.from({ length: 60 }, (_, k) => clockFrame(256, 64, 45296 + k * 37)) }),
  noise: () => {
    const rnd = mulberry32(1);
    return { desc: '1000x1000 noise, 256 colours', width: 1000, height: 1000, colors: 256,
      frames: [new Uint8Array(1e6).map(() => Math.floor(rnd() * 256))] };
  },
  lowentropy: () => {
    const rnd = mulberry32(2);
    const px = new Uint8Array(1e6);
    for (let y = 0; y < 1000; y++) for (let x = 0; x < 1000; x++) {
      px[y * 1000 + x] = rnd() < 0.003 ? Math.floor(rnd() * 16) : ((x >> 6) + (y >> 5)) & 15; // bands + speckles
    }
    return { desc: '1000x1000 bands + 0.3% speckles, 16 colours', width: 1000, height: 1000, colors: 16, frames: [px] };
  },
};

// --- variants: encode one frame's LZW image data, return its byte count ------------------------------------

function variants(scene) {
  const { width, height, colors } = scene;
  const mcs = minCodeSizeFor(colors);
  const w = new ByteWriter(1 << 16);
  const gStream = createStream(1 << 16), gAccum = new Uint8Array(256), gHtab = new Int32Array(5003), gCodetab = new Int32Array(5003);
  let pow2 = 2;
  while (pow2 < colors) pow2 *= 2;
  const oPalette = Array.from({ length: pow2 }, (_, i) => i * 0x010101);
  const oBuf = new Uint8Array(width * height * 2 + 4096);
  const oWriter = new omggif.GifWriter(oBuf, width, height, { palette: oPalette });
  const oStart = oWriter.getOutputBufferPosition();
  return {
    timegif: {
      encode(px) { w.reset(); writeLzwData(w, px, mcs); return w.pos; },
      data() { return w.toUint8Array(); },
    },
    gifenc: {
      encode(px) { gStream.reset(); lzwEncode(width, height, px, mcs, gStream, gAccum, gHtab, gCodetab); return gStream.bytesView().length; },
      data() { return gStream.bytes(); },
    },
    omggif: {
      // addFrame also writes the 10-byte image descriptor; subtracted so all three count image data only
      encode(px) { oWriter.setOutputBufferPosition(oStart); oWriter.addFrame(0, 0, width, height, px); return oWriter.getOutputBufferPosition() - oStart - 10; },
      data() { return oBuf.slice(oStart + 10, oWriter.getOutputBufferPosition()); },
    },
  };
}

function decodeIndices(imageData, scene) {
  // wrap the image data in our prologue + a bare descriptor, decode with gifuct-js (independent of all three)
  const palette = new Uint8Array(scene.colors * 3).map((_, i) => i);
  const pro = encodePrologue({ width: scene.width, height: scene.height, palette });
  const desc = Uint8Array.of(0x2c, 0, 0, 0, 0, scene.width & 255, scene.width >> 8, scene.height & 255, scene.height >> 8, 0);
  const gif = Buffer.concat([pro, desc, imageData, Uint8Array.of(0x3b)]);
  const parsed = parseGIF(gif.buffer.slice(gif.byteOffset, gif.byteOffset + gif.length));
  return Uint8Array.from(decompressFrames(parsed, false)[0].pixels);
}

function verify(name, scene, vs) {
  for (const [vname, v] of Object.entries(vs)) {
    for (const px of scene.frames.slice(0, 3)) {
      v.encode(px);
      const got = decodeIndices(v.data(), scene);
      if (got.length !== px.length || got.some((p, i) => p !== px[i])) throw new Error(`${name}/${vname}: output does not decode to the input`);
    }
  }
  // and once through the full writer + omggif's decoder (red = 3 * index mod 256 identifies the index)
  const f = scene.frames[0];
  const gif = encodeGif({ width: scene.width, height: scene.height, palette: new Uint8Array(scene.colors * 3).map((_, i) => i) },
    [{ left: 0, top: 0, width: scene.width, height: scene.height, indices: f, delayCs: 0, disposal: DISPOSAL.NONE }]);
  const r = new omggif.GifReader(gif);
  const rgba = new Uint8Array(scene.width * scene.height * 4);
  r.decodeAndBlitFrameRGBA(0, rgba);
  for (let i = 0; i < f.length; i++) if (rgba[i * 4] !== ((f[i] * 3) & 255)) throw new Error(`${name}: omggif disagrees at pixel ${i}`);
}


const rows = [];
for (const name of SCENES) {
  const scene = scenes[name]();
  const vs = variants(scene);
  verify(name, scene, vs);
  const pixels = scene.frames.reduce((n, f) => n + f.length, 0);
  const times = Object.fromEntries(Object.keys(vs).map((k) => [k, []]));
  const bytes = {};
  for (let round = 0; round < WARMUP + ITER; round++) {
    for (const [vname, v] of Object.entries(vs)) { // interleaved so drift and neighbours' load hit all alike
      let total = 0;
      const t0 = process.hrtime.bigint();
      for (const px of scene.frames) total += v.encode(px);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      if (round >= WARMUP) times[vname].push(ms);
      bytes[vname] = total;
    }
  }
  for (const vname of Object.keys(vs)) {
    const ms = median(times[vname]);
    rows.push({ scene: name, desc: scene.desc, variant: vname, ms, mbs: pixels / 1e6 / (ms / 1000), bytes: bytes[vname],
      min: Math.min(...times[vname]), max: Math.max(...times[vname]) });
  }
}

const lines = [
  `| scene | encoder | median ms | min–max ms | MB/s (1 byte/pixel) | image data bytes | vs gifenc (time, bytes) |`,
  `|---|---|---:|---:|---:|---:|---:|`,
];
for (const r of rows) {
  const g = rows.find((x) => x.scene === r.scene && x.variant === 'gifenc');
  lines.push(`| ${r.scene} | ${r.variant} | ${r.ms.toFixed(2)} | ${r.min.toFixed(2)}–${r.max.toFixed(2)} | ${r.mbs.toFixed(1)} | ${r.bytes} | ${(r.ms / g.ms).toFixed(2)}×, ${(r.bytes / g.bytes).toFixed(3)}× |`);
}
console.log(lines.join('\n'));
for (const s of SCENES) {
  const t = rows.find((x) => x.scene === s && x.variant === 'timegif'), g = rows.find((x) => x.scene === s && x.variant === 'gifenc');
  const ok = t.ms <= g.ms && t.bytes <= g.bytes;
  console.log(`${ok ? 'ok  ' : 'MISS'} ${s}: timegif ${t.ms.toFixed(2)} ms / ${t.bytes} B vs gifenc ${g.ms.toFixed(2)} ms / ${g.bytes} B`);
}

if (RECORD) {
  const cpu = os.cpus();
  const scenesDesc = SCENES.map((s) => `${s}: ${rows.find((r) => r.scene === s).desc}`).join('; ');
  appendFileSync(new URL('./RESULTS.md', import.meta.url), [
    '', `## Encoder: LZW throughput and size (${new Date().toISOString()})`, '',
    `Command: \`cd perf && ITER=${ITER} WARMUP=${WARMUP} SCENES=${SCENES.join(',')} node encoder-bench.mjs\`  `,
    `${machine()}.  `,
    `Scenes: ${scenesDesc}. All outputs verified to decode to the input (gifuct-js) before timing; variants interleaved per round.`,
    '', ...lines, '',
  ].join('\n'));
  console.log('appended to perf/RESULTS.md');
}
