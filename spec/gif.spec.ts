import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { ByteWriter } from '../encoder/bytes.js';
import {
  DISPOSAL, GIF, encodeFrame, encodeGif, encodePrologue, minCodeSizeFor, writeColorTable, writeGraphicControlExt, writeHeader,
  writeImageDescriptor, writeLogicalScreenDescriptor, writeTrailer, type FrameSpec, type Screen,
} from '../encoder/gif.js';
import { cliDecoders, compositeGifuct, decodeGifuct, decodeOmggif, firstDifference, rgbaToRgb } from './decoders.js';
import { toolPresent } from './tools.js';

const GOLDEN = new URL('../../spec/golden/two-frames-4x3.gif', import.meta.url);
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const written = (fn: (w: ByteWriter) => void): string => {
  const w = new ByteWriter(1);
  fn(w);
  return hex(w.toUint8Array());
};

// black, white, red; index 3 is a padding slot used as the transparent index
const goldenScreen: Screen = { width: 4, height: 3, palette: Uint8Array.of(0, 0, 0, 255, 255, 255, 255, 0, 0) };
const goldenFrames: FrameSpec[] = [
  { left: 0, top: 0, width: 4, height: 3, indices: Uint8Array.of(0, 0, 1, 1, 0, 2, 2, 1, 1, 1, 0, 0), delayCs: 100, disposal: DISPOSAL.KEEP },
  { left: 1, top: 1, width: 2, height: 2, indices: Uint8Array.of(3, 1, 2, 3), delayCs: 100, disposal: DISPOSAL.KEEP, transparentIndex: 3 },
];

test('gif :: golden two-frame file is byte-identical and decodes to the pictures it encodes', () => {
  const golden = new Uint8Array(readFileSync(GOLDEN));
  const ours = encodeGif(goldenScreen, goldenFrames);
  assert.is(hex(ours), hex(golden));
  const K = [0, 0, 0, 255], W = [255, 255, 255, 255], R = [255, 0, 0, 255];
  const after1 = [K, K, W, W, K, R, R, W, W, W, K, K].flat();
  const after2 = [K, K, W, W, K, R, W, W, W, R, K, K].flat(); // (2,1)->white, (1,2)->red; (1,1), (2,2) show through
  for (const [name, frames] of [['gifuct-js', compositeGifuct(golden)], ['omggif', decodeOmggif(golden).frames]] as const) {
    assert.equal([...frames[0]!.rgba], after1, `${name} frame 1`);
    assert.equal([...frames[1]!.rgba], after2, `${name} frame 2`);
  }
});

test('gif :: block bytes follow the spec', () => {
  const rows: [string, (w: ByteWriter) => void, string][] = [
    ['header', (w) => writeHeader(w), '474946383961'],
    // 4x3; packed 0x91 = global table | colour resolution 2 bits (1<<4) | 2^(1+1) entries; bg 0; no aspect ratio
    ['screen, 3 colours', (w) => writeLogicalScreenDescriptor(w, goldenScreen), '04000300910000'],
    ['screen, 256 colours, bg 7', (w) => writeLogicalScreenDescriptor(w, { width: 65535, height: 1, palette: new Uint8Array(768), backgroundIndex: 7 }), 'ffff0100f70700'],
    ['screen, 2 colours', (w) => writeLogicalScreenDescriptor(w, { width: 1, height: 1, palette: new Uint8Array(6) }), '01000100800000'],
    ['colour table padded to 4', (w) => writeColorTable(w, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9)), '010203040506070809000000'],
    ['colour table of 5 padded to 8', (w) => writeColorTable(w, new Uint8Array(15).fill(1)), '01'.repeat(15) + '00'.repeat(9)],
    ['GCE keep, no transparency', (w) => writeGraphicControlExt(w, 100, DISPOSAL.KEEP), '21f90404640000' + '00'],
    ['GCE keep, transparent 255, delay 1', (w) => writeGraphicControlExt(w, 1, DISPOSAL.KEEP, 255), '21f9040501' + '00ff00'],
    ['GCE previous, transparent 0', (w) => writeGraphicControlExt(w, 0, DISPOSAL.PREVIOUS, 0), '21f9040d00000000'],
    ['GCE background', (w) => writeGraphicControlExt(w, 65535, DISPOSAL.BACKGROUND), '21f90408ffff0000'],
    ['image descriptor', (w) => writeImageDescriptor(w, 1, 258, 640, 65535), '2c010002018002ffff00'],
    ['trailer', (w) => writeTrailer(w), '3b'],
  ];
  for (const [name, fn, want] of rows) assert.is(written(fn), want, name);
  assert.is(GIF.TRAILER, 0x3b);
});

test('gif :: minCodeSizeFor', () => {
  const rows: [number, number][] = [[2, 2], [3, 2], [4, 2], [5, 3], [8, 3], [9, 4], [16, 4], [17, 5], [128, 7], [129, 8], [256, 8]];
  for (const [colors, want] of rows) assert.is(minCodeSizeFor(colors), want, `${colors} colours`);
});

test('gif :: prologue + frames + trailer equals encodeGif', () => {
  const mcs = minCodeSizeFor(3);
  const parts = [encodePrologue(goldenScreen), ...goldenFrames.map((f) => encodeFrame(f, mcs)), Uint8Array.of(GIF.TRAILER)];
  const joined = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) { joined.set(p, o); o += p.length; }
  assert.is(hex(joined), hex(encodeGif(goldenScreen, goldenFrames)));
});

test('gif :: frames keep their offsets, delays, disposal and transparency through two decoders', () => {
  const palette = new Uint8Array(16 * 3).map((_, i) => (i * 29) & 255);
  const frames: FrameSpec[] = [
    { left: 0, top: 0, width: 20, height: 10, indices: new Uint8Array(200).map((_, i) => i % 16), delayCs: 0, disposal: DISPOSAL.KEEP },
    { left: 5, top: 2, width: 3, height: 4, indices: new Uint8Array(12).fill(15), delayCs: 1, disposal: DISPOSAL.PREVIOUS, transparentIndex: 15 },
    { left: 19, top: 9, width: 1, height: 1, indices: Uint8Array.of(3), delayCs: 100, disposal: DISPOSAL.BACKGROUND, transparentIndex: 0 },
    { left: 0, top: 0, width: 2, height: 1, indices: Uint8Array.of(1, 2), delayCs: 65535, disposal: DISPOSAL.NONE },
  ];
  const gif = encodeGif({ width: 20, height: 10, palette }, frames);
  const g = decodeGifuct(gif);
  const o = decodeOmggif(gif);
  assert.is(g.frames.length, 4);
  assert.is(o.frames.length, 4);
  frames.forEach((f, k) => {
    for (const d of [g.frames[k]!, o.frames[k]!]) {
      assert.equal([d.left, d.top, d.width, d.height, d.delayCs, d.disposal, d.transparentIndex],
        [f.left, f.top, f.width, f.height, f.delayCs, f.disposal, f.transparentIndex ?? null], `frame ${k}`);
    }
    assert.equal([...g.frames[k]!.indices], [...f.indices], `frame ${k} indices`);
  });
  const composited = compositeGifuct(gif);
  composited.forEach((c, k) => assert.is(firstDifference(c.rgba, o.frames[k]!.rgba), -1, `frame ${k}: gifuct-js + compositor vs omggif`));
});

test('gif :: command-line decoders agree on the golden file', () => {
  const golden = new Uint8Array(readFileSync(GOLDEN));
  const want = compositeGifuct(golden).map((f) => rgbaToRgb(f.rgba));
  for (const d of cliDecoders()) {
    if (!toolPresent(d.missing, d.name)) continue;
    if (d.finalOnly) continue; // giflib's gif2rgb overwrites with transparent pixels; lzw.spec covers it
    const got = d.decodeRgb(golden, 4, 3);
    assert.is(got.length, 2, d.name);
    got.forEach((f, k) => assert.is(firstDifference(f, want[k]!), -1, `${d.name} frame ${k}`));
  }
});

test('gif :: malformed input throws a clear error', () => {
  const ok = (over: Partial<FrameSpec> = {}): FrameSpec => ({ left: 0, top: 0, width: 2, height: 2, indices: new Uint8Array(4), delayCs: 0, disposal: DISPOSAL.KEEP, ...over });
  const screen = (over: Partial<Screen> = {}): Screen => ({ width: 4, height: 4, palette: new Uint8Array(12), ...over });
  const rows: [string, () => unknown, new (...a: never[]) => Error, RegExp][] = [
    ['wrong indices length', () => encodeGif(screen(), [ok({ indices: new Uint8Array(3) })]), RangeError, /3 indices, expected 2x2 = 4/],
    ['indices not bytes', () => encodeFrame(ok({ indices: [0, 0, 0, 0] as unknown as Uint8Array }), 2), TypeError, /Uint8Array/],
    ['palette not RGB triplets', () => encodePrologue(screen({ palette: new Uint8Array(10) })), RangeError, /not a multiple of 3/],
    ['palette of one colour', () => encodePrologue(screen({ palette: new Uint8Array(3) })), RangeError, /2\.\.256 colours, got 1/],
    ['palette of 257 colours', () => encodePrologue(screen({ palette: new Uint8Array(771) })), RangeError, /got 257/],
    ['palette not bytes', () => encodePrologue(screen({ palette: [0, 0, 0, 1, 1, 1] as unknown as Uint8Array })), TypeError, /palette/],
    ['index beyond palette', () => encodeGif(screen(), [ok({ indices: Uint8Array.of(0, 1, 2, 4) })]), RangeError, /index 4 at pixel 3 is outside the 4-colour palette/],
    ['index beyond min code size', () => encodeFrame(ok({ indices: Uint8Array.of(0, 8, 0, 0) }), 3), RangeError, /index 8 at pixel 1 does not fit min code size 3/],
    ['transparent index beyond min code size', () => encodeFrame(ok({ transparentIndex: 4 }), 2), RangeError, /transparent index 4/],
    ['zero width', () => encodeFrame(ok({ width: 0, indices: new Uint8Array(0) }), 2), RangeError, /frame width must be an integer 1\.\.65535, got 0/],
    ['oversized screen', () => encodePrologue(screen({ width: 65536 })), RangeError, /screen width .* got 65536/],
    ['zero screen height', () => encodePrologue(screen({ height: 0 })), RangeError, /screen height/],
    ['fractional offset', () => encodeFrame(ok({ left: 0.5 }), 2), RangeError, /frame left/],
    ['frame outside screen', () => encodeGif(screen(), [ok({ left: 3 })]), RangeError, /frame 0 \(2x2 at 3,0\) lies outside the 4x4 screen/],
    ['bad disposal', () => encodeFrame(ok({ disposal: 4 }), 2), RangeError, /disposal/],
    ['delay too long', () => encodeFrame(ok({ delayCs: 65536 }), 2), RangeError, /delay/],
    ['background outside palette', () => encodePrologue(screen({ backgroundIndex: 4 })), RangeError, /background index 4/],
    ['min code size 1', () => encodeFrame(ok(), 1), RangeError, /min code size/],
  ];
  for (const [name, fn, type, re] of rows) {
    assert.throws(fn, (e: unknown) => e instanceof type && re.test((e as Error).message), name);
  }
});

test.run();
