import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeDelta, encodeKeyframe, type DeltaOptions } from '../encoder/delta.js';
import { DISPOSAL, GIF, encodeFrame, encodePrologue } from '../encoder/gif.js';
import { cliDecoders, compositeGifuct, decodeGifuct, decodeOmggif, firstDifference, indicesToRgba, rgbaToRgb } from './decoders.js';

function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// 8 distinct colours; index 7 is reserved for transparency and never drawn
const PALETTE = Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 0, 0, 255, 255, 9, 9, 9);
const T = 7;
const opts = (width: number, height: number): DeltaOptions => ({ width, height, minCodeSize: 3, transparentIndex: T, delayCs: 1 });

function stream(o: DeltaOptions, frames: Uint8Array[]): Uint8Array {
  const parts = [encodePrologue({ width: o.width, height: o.height, palette: PALETTE }), ...frames, Uint8Array.of(GIF.TRAILER)];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

type Change = (rnd: () => number, c: Uint8Array, w: number, h: number) => void;
const CHANGES: [string, Change][] = [
  ['sparse pixels', (rnd, c) => { for (let k = 0; k < 5; k++) c[Math.floor(rnd() * c.length)] = Math.floor(rnd() * 7); }],
  ['a block (a digit)', (rnd, c, w, h) => {
    const bw = 1 + Math.floor(rnd() * Math.min(w, 24)), bh = 1 + Math.floor(rnd() * Math.min(h, 40));
    const x0 = Math.floor(rnd() * (w - bw + 1)), y0 = Math.floor(rnd() * (h - bh + 1)), v = Math.floor(rnd() * 7);
    for (let y = y0; y < y0 + bh; y++) for (let x = x0; x < x0 + bw; x++) if (rnd() < 0.6) c[y * w + x] = v;
  }],
  ['everything', (rnd, c) => { for (let i = 0; i < c.length; i++) c[i] = Math.floor(rnd() * 7); }],
  ['corners', (_rnd, c, w, h) => { c[0] = (c[0]! + 1) % 7; c[w * h - 1] = (c[w * h - 1]! + 1) % 7; }],
];

function blocky(rnd: () => number, w: number, h: number): Uint8Array {
  const c = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) c[y * w + x] = ((x >> 3) + (y >> 3) + (rnd() < 0.05 ? 1 : 0)) % 7;
  return c;
}

test('delta :: keyframe then deltas composite to exactly each canvas (gifuct-js, omggif)', () => {
  const rnd = mulberry32(2024);
  const sizes: [number, number][] = [[256, 64], [1, 1], [2, 1], [1, 3], [37, 11], [132, 28]];
  for (const [w, h] of sizes) {
    for (const [name, change] of CHANGES) {
      const o = opts(w, h);
      const canvases = [blocky(rnd, w, h)];
      for (let k = 0; k < 6; k++) {
        const next = canvases.at(-1)!.slice();
        change(rnd, next, w, h);
        canvases.push(next);
      }
      const frames = [encodeKeyframe(canvases[0]!, o)];
      for (let k = 1; k < canvases.length; k++) frames.push(encodeDelta(canvases[k - 1]!, canvases[k]!, o));
      const gif = stream(o, frames);
      const viaGifuct = compositeGifuct(gif);
      const viaOmggif = decodeOmggif(gif).frames;
      canvases.forEach((c, k) => {
        const want = indicesToRgba(c, PALETTE);
        assert.is(firstDifference(viaGifuct[k]!.rgba, want), -1, `gifuct-js ${w}x${h} ${name} frame ${k}`);
        assert.is(firstDifference(viaOmggif[k]!.rgba, want), -1, `omggif ${w}x${h} ${name} frame ${k}`);
        assert.is(viaGifuct[k]!.disposal, DISPOSAL.KEEP);
      });
    }
  }
});

test('delta :: identical canvases give a valid 1x1 transparent frame', () => {
  const o = opts(256, 64);
  const c = blocky(mulberry32(1), 256, 64);
  const d = encodeDelta(c, c.slice(), o);
  assert.ok(d.length <= 24, `${d.length} bytes`);
  const g = decodeGifuct(stream(o, [encodeKeyframe(c, o), d]));
  const f = g.frames[1]!;
  assert.equal([f.width, f.height, f.transparentIndex, f.disposal, [...f.indices]], [1, 1, T, DISPOSAL.KEEP, [T]]);
  const comp = compositeGifuct(stream(o, [encodeKeyframe(c, o), d]));
  assert.is(firstDifference(comp[1]!.rgba, indicesToRgba(c, PALETTE)), -1);
});

test('delta :: a single changed pixel gives a 1x1 rectangle at that pixel', () => {
  const o = opts(40, 30);
  const prev = blocky(mulberry32(9), 40, 30);
  for (const [x, y] of [[0, 0], [39, 0], [0, 29], [39, 29], [17, 11]] as const) {
    const cur = prev.slice();
    cur[y * 40 + x] = (cur[y * 40 + x]! + 3) % 7;
    const f = decodeGifuct(stream(o, [encodeDelta(prev, cur, o)])).frames[0]!;
    assert.equal([f.left, f.top, f.width, f.height, [...f.indices]], [x, y, 1, 1, [cur[y * 40 + x]]], `pixel ${x},${y}`);
  }
});

test('delta :: keeps the smaller of the plain and the masked rectangle', () => {
  const rnd = mulberry32(77);
  const w = 64, h = 48, o = opts(w, h);
  let sawMasked = false, sawPlain = false;
  for (let k = 0; k < 40; k++) {
    const prev = k % 2 ? blocky(rnd, w, h) : new Uint8Array(w * h).map(() => Math.floor(rnd() * 7));
    const cur = prev.slice();
    CHANGES[k % 2]![1](rnd, cur, w, h);
    if (k % 4 === 3) for (let i = 0; i < cur.length; i += 3) cur[i] = (cur[i]! + 1) % 7; // scattered
    const d = decodeGifuct(stream(o, [encodeDelta(prev, cur, o)])).frames[0]!;
    const { left, top, width, height } = d;
    const plain = new Uint8Array(width * height), masked = new Uint8Array(width * height);
    for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
      const i = (top + y) * w + left + x;
      plain[y * width + x] = cur[i]!;
      masked[y * width + x] = prev[i] === cur[i] ? T : cur[i]!;
    }
    const base = { left, top, width, height, delayCs: 1, disposal: DISPOSAL.KEEP };
    const plainLen = encodeFrame({ ...base, indices: plain }, 3).length;
    const maskedLen = encodeFrame({ ...base, indices: masked, transparentIndex: T }, 3).length;
    assert.is(encodeDelta(prev, cur, o).length, Math.min(plainLen, maskedLen), `case ${k}`);
    if (d.transparentIndex === T) sawMasked = true; else sawPlain = true;
  }
  assert.ok(sawMasked && sawPlain, 'both variants chosen somewhere');
});

test('delta :: a changed pixel that is the transparent index forces the plain rectangle', () => {
  const o = opts(8, 8);
  const prev = new Uint8Array(64).fill(1);
  const cur = prev.slice();
  cur[9] = T; cur[18] = 2; cur[27] = 3;
  const gif = stream(o, [encodeKeyframe(prev, o), encodeDelta(prev, cur, o)]);
  assert.is(decodeGifuct(gif).frames[1]!.transparentIndex, null);
  const want = indicesToRgba(cur, PALETTE);
  assert.is(firstDifference(compositeGifuct(gif)[1]!.rgba, want), -1);
});

test('delta :: keyframe is the full canvas, disposal KEEP, no transparency', () => {
  const o = opts(13, 7);
  const c = blocky(mulberry32(4), 13, 7);
  const f = decodeGifuct(stream(o, [encodeKeyframe(c, o)])).frames[0]!;
  assert.equal([f.left, f.top, f.width, f.height, f.disposal, f.transparentIndex, f.delayCs], [0, 0, 13, 7, DISPOSAL.KEEP, null, 1]);
  assert.equal([...f.indices], [...c]);
});

test('delta :: command-line decoders composite a keyframe + delta stream', () => {
  const rnd = mulberry32(31);
  const w = 96, h = 40, o = opts(w, h);
  const canvases = [blocky(rnd, w, h)];
  for (let k = 0; k < 5; k++) {
    const next = canvases.at(-1)!.slice();
    CHANGES[k % CHANGES.length]![1](rnd, next, w, h);
    canvases.push(next);
  }
  canvases.push(canvases.at(-1)!.slice()); // an unchanged second
  const frames = [encodeKeyframe(canvases[0]!, o)];
  for (let k = 1; k < canvases.length; k++) frames.push(encodeDelta(canvases[k - 1]!, canvases[k]!, o));
  const gif = stream(o, frames);
  for (const d of cliDecoders()) {
    if (d.missing) {
      console.log(`  (skipped ${d.name}: ${d.missing})`);
      continue;
    }
    if (d.finalOnly) continue; // gif2rgb draws transparent pixels too
    const got = d.decodeRgb(gif, w, h);
    assert.is(got.length, canvases.length, d.name);
    canvases.forEach((c, k) => assert.is(firstDifference(got[k]!, rgbaToRgb(indicesToRgba(c, PALETTE))), -1, `${d.name} frame ${k}`));
  }
});

test('delta :: malformed input throws a clear error', () => {
  const o = opts(4, 4);
  const good = new Uint8Array(16);
  const rows: [string, () => unknown, RegExp][] = [
    ['short cur', () => encodeDelta(good, new Uint8Array(15), o), /cur has 15 indices, expected 4x4 = 16/],
    ['long prev', () => encodeDelta(new Uint8Array(17), good, o), /prev has 17 indices/],
    ['short keyframe', () => encodeKeyframe(new Uint8Array(3), o), /cur has 3 indices/],
    ['transparent index too big', () => encodeDelta(good, good, { ...o, transparentIndex: 8 }), /transparent index 8 does not fit min code size 3/],
    ['index beyond min code size', () => encodeKeyframe(new Uint8Array(16).fill(8), o), /index 8 at pixel 0/],
    ['zero width canvas', () => encodeKeyframe(new Uint8Array(0), { ...o, width: 0, height: 4 }), /width must be an integer 1\.\.65535/],
  ];
  for (const [name, fn, re] of rows) assert.throws(fn, (e: unknown) => e instanceof RangeError && re.test(e.message), name);
});

test.run();
