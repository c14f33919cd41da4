import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeDelta, encodeKeyframe, type DeltaOptions } from '../encoder/delta.js';
import { DISPOSAL, GIF, encodeFrame, encodePrologue } from '../encoder/gif.js';
import { cliDecoders, compositeGifuct, decodeGifuct, decodeOmggif, firstDifference, indicesToRgba, rgbaToRgb } from './decoders.js';
import { mulberry32 } from './random.js';
import { toolPresent } from './tools.js';


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

// The three ways encodeDelta may fill a rectangle, written independently of it: plain repeats cur; masked
// makes every unchanged pixel transparent; runs makes a maximal stretch of unchanged pixels (raster order
// through the rectangle) transparent exactly when it is not all one colour, and leaves it opaque otherwise.
interface Rect { left: number; top: number; width: number; height: number }
function candidates(prev: Uint8Array, cur: Uint8Array, w: number, r: Rect): { plain: Uint8Array; masked: Uint8Array; runs: Uint8Array } {
  const n = r.width * r.height;
  const plain = new Uint8Array(n), masked = new Uint8Array(n), same = new Array<boolean>(n);
  for (let y = 0; y < r.height; y++) for (let x = 0; x < r.width; x++) {
    const i = (r.top + y) * w + r.left + x, j = y * r.width + x;
    plain[j] = cur[i]!;
    same[j] = prev[i] === cur[i];
    masked[j] = same[j] ? T : cur[i]!;
  }
  const runs = plain.slice();
  for (let a = 0; a < n;) {
    if (!same[a]) { a++; continue; }
    let b = a;
    while (b < n && same[b]) b++;
    if (new Set(plain.subarray(a, b)).size > 1) runs.fill(T, a, b);
    a = b;
  }
  return { plain, masked, runs };
}

function candidateLengths(prev: Uint8Array, cur: Uint8Array, w: number, r: Rect): { plain: number; masked: number; runs: number } {
  const c = candidates(prev, cur, w, r);
  const base = { ...r, delayCs: 1, disposal: DISPOSAL.KEEP };
  return {
    plain: encodeFrame({ ...base, indices: c.plain }, 3).length,
    masked: encodeFrame({ ...base, indices: c.masked, transparentIndex: T }, 3).length,
    runs: encodeFrame({ ...base, indices: c.runs, transparentIndex: T }, 3).length,
  };
}

// A picture where each way of masking is right somewhere: the top band is noise that mostly stays (masking
// it joins runs); the bottom band is noise on even seconds and one colour on odd ones. Going from noise to one
// colour, the unchanged pixels are ones that already had that colour: they must stay opaque, or masking cuts
// the new run apart. Only the run heuristic gets both bands right on odd seconds.
function noiseThenRepaint(rnd: () => number, w: number, h: number, frames: number): Uint8Array[] {
  const noise = (): number => Math.floor(rnd() * 7);
  const out = [new Uint8Array(w * h).map(noise)];
  const half = h >> 1;
  for (let k = 1; k < frames; k++) {
    const c = out.at(-1)!.slice();
    for (let y = 0; y < half; y++) {
      c[y * w] = (c[y * w]! + 1) % 7; // the left column changes, plus a few pixels per row
      for (let m = 0; m < 2; m++) { const i = y * w + Math.floor(rnd() * w); c[i] = (c[i]! + 1) % 7; }
    }
    const v = k % 7;
    for (let i = half * w; i < w * h; i++) c[i] = k % 2 ? v : noise();
    out.push(c);
  }
  return out;
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

test('delta :: identical canvases give a valid 1x1 frame repeating the top-left pixel', () => {
  const o = opts(256, 64);
  const c = blocky(mulberry32(1), 256, 64);
  const d = encodeDelta(c, c.slice(), o);
  assert.ok(d.length <= 24, `${d.length} bytes`);
  const g = decodeGifuct(stream(o, [encodeKeyframe(c, o), d]));
  const f = g.frames[1]!;
  assert.equal([f.left, f.top, f.width, f.height, f.transparentIndex, f.disposal, [...f.indices]], [0, 0, 1, 1, null, DISPOSAL.KEEP, [c[0]]]);
  const comp = compositeGifuct(stream(o, [encodeKeyframe(c, o), d]));
  assert.is(firstDifference(comp[1]!.rgba, indicesToRgba(c, PALETTE)), -1);
});

test('delta :: with no delay an opaque frame has no graphic control extension; a transparent one keeps it', () => {
  const o = { ...opts(256, 64), delayCs: 0 };
  const prev = blocky(mulberry32(1), 256, 64);
  const same = encodeDelta(prev, prev.slice(), o);
  assert.is(same[0], 0x2c, 'identical canvases: an image descriptor first');
  assert.is(same.length, encodeDelta(prev, prev.slice(), { ...o, delayCs: 1 }).length - 8, 'the 1x1 frame is 8 bytes shorter than with a delay');
  assert.is(encodeKeyframe(prev, o)[0], 0x2c, 'a keyframe: an image descriptor first');
  // Each delta starts with the extension exactly when it declares the transparent index.
  let opaque = 0, masked = 0;
  for (let seed = 2; seed < 40; seed++) {
    const cur = prev.slice();
    const rnd = mulberry32(seed);
    if (seed % 2 === 0) for (let k = 0; k < 30; k++) cur[Math.floor(rnd() * 64) * 256 + Math.floor(rnd() * 256)] = Math.floor(rnd() * 7);
    else for (let y = seed; y < seed + 5; y++) for (let x = 3 * seed; x < 3 * seed + 10; x++) cur[y * 256 + x] = (prev[y * 256 + x]! + 1) % 7; // every pixel of a block changes
    const d = encodeDelta(prev, cur, o);
    const f = decodeGifuct(stream(o, [d])).frames[0]!;
    if (d[0] === 0x21) {
      assert.is(d[1], 0xf9);
      assert.is(f.transparentIndex, T, `seed ${seed}: an extension only to say the transparent index`);
      masked++;
    } else {
      assert.is(d[0], 0x2c);
      assert.is(f.transparentIndex, null);
      opaque++;
    }
    const comp = compositeGifuct(stream(o, [encodeKeyframe(prev, o), d]));
    assert.is(firstDifference(comp[1]!.rgba, indicesToRgba(cur, PALETTE)), -1, `seed ${seed}: composited`);
  }
  assert.ok(opaque > 0 && masked > 0, `both kinds seen (${opaque} opaque, ${masked} transparent)`);
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

test('delta :: keeps the smallest of the plain, masked and run-masked rectangles', () => {
  const rnd = mulberry32(77);
  const w = 64, h = 48, o = opts(w, h);
  const chosen = { plain: 0, masked: 0, runs: 0 };
  const pairs: [Uint8Array, Uint8Array][] = [];
  for (let k = 0; k < 40; k++) {
    const prev = k % 2 ? blocky(rnd, w, h) : new Uint8Array(w * h).map(() => Math.floor(rnd() * 7));
    const cur = prev.slice();
    CHANGES[k % 2]![1](rnd, cur, w, h);
    if (k % 4 === 3) for (let i = 0; i < cur.length; i += 3) cur[i] = (cur[i]! + 1) % 7; // scattered
    pairs.push([prev, cur]);
  }
  const repainted = noiseThenRepaint(rnd, w, h, 6);
  for (let k = 1; k < repainted.length; k++) pairs.push([repainted[k - 1]!, repainted[k]!]);
  pairs.forEach(([prev, cur], k) => {
    const bytes = encodeDelta(prev, cur, o);
    const d = decodeGifuct(stream(o, [bytes])).frames[0]!;
    const r = { left: d.left, top: d.top, width: d.width, height: d.height };
    const len = candidateLengths(prev, cur, w, r);
    assert.is(bytes.length, Math.min(len.plain, len.masked, len.runs), `case ${k}`);
    const c = candidates(prev, cur, w, r);
    const got = [...d.indices].join();
    const which = d.transparentIndex === null ? 'plain' : got === c.masked.join() ? 'masked' : got === c.runs.join() ? 'runs' : 'none';
    assert.ok(which !== 'none', `case ${k}: indices are none of the three candidates`);
    if (which === 'plain') assert.is(got, c.plain.join(), `case ${k}`);
    chosen[which]++;
  });
  assert.ok(chosen.plain > 0 && chosen.masked > 0 && chosen.runs > 0, `each variant chosen somewhere: ${JSON.stringify(chosen)}`);
});

test('delta :: run-masked rectangle, strictly smallest, composites exactly (gifuct-js, omggif, command-line)', () => {
  const w = 96, h = 24, o = opts(w, h);
  const canvases = noiseThenRepaint(mulberry32(5), w, h, 7);
  const frames = [encodeKeyframe(canvases[0]!, o)];
  for (let k = 1; k < canvases.length; k++) {
    const prev = canvases[k - 1]!, cur = canvases[k]!;
    const bytes = encodeDelta(prev, cur, o);
    const f = decodeGifuct(stream(o, [bytes])).frames[0]!;
    const r = { left: f.left, top: f.top, width: f.width, height: f.height };
    const len = candidateLengths(prev, cur, w, r);
    assert.is(bytes.length, Math.min(len.plain, len.masked, len.runs), `frame ${k}`);
    if (k % 2) { // noise -> one colour below
      assert.ok(len.runs < len.plain && len.runs < len.masked, `frame ${k}: runs ${len.runs}, plain ${len.plain}, masked ${len.masked}`);
      assert.is(f.transparentIndex, T, `frame ${k}`);
      assert.is([...f.indices].join(), candidates(prev, cur, w, r).runs.join(), `frame ${k}`);
    }
    frames.push(bytes);
  }
  const gif = stream(o, frames);
  const viaGifuct = compositeGifuct(gif);
  const viaOmggif = decodeOmggif(gif).frames;
  canvases.forEach((c, k) => {
    const want = indicesToRgba(c, PALETTE);
    assert.is(firstDifference(viaGifuct[k]!.rgba, want), -1, `gifuct-js frame ${k}`);
    assert.is(firstDifference(viaOmggif[k]!.rgba, want), -1, `omggif frame ${k}`);
  });
  for (const d of cliDecoders()) {
    if (!toolPresent(d.missing, d.name)) continue;
    if (d.finalOnly) continue;
    const got = d.decodeRgb(gif, w, h);
    assert.is(got.length, canvases.length, d.name);
    canvases.forEach((c, k) => assert.is(firstDifference(got[k]!, rgbaToRgb(indicesToRgba(c, PALETTE))), -1, `${d.name} frame ${k}`));
  }
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
    if (!toolPresent(d.missing, d.name)) continue;
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
