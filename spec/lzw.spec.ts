import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ByteWriter } from '../encoder/bytes.js';
import { maxLzwBytes, writeLzwData } from '../encoder/lzw.js';
import { DISPOSAL, encodeGif, minCodeSizeFor } from '../encoder/gif.js';
import { cliDecoders, decodeGifuct, decodeOmggif, firstDifference, indicesToRgba, rgbaToRgb } from './decoders.js';
import { mulberry32 } from './random.js';


/** `runChance` 1 = noise; small values = long runs (low entropy). */
function randomImage(rnd: () => number, n: number, colors: number, runChance: number): Uint8Array {
  const px = new Uint8Array(n);
  let v = Math.floor(rnd() * colors);
  for (let i = 0; i < n; i++) {
    if (rnd() < runChance) v = Math.floor(rnd() * colors);
    px[i] = v;
  }
  return px;
}

/** Distinct colours, so a decoded RGB value identifies its index. */
function distinctPalette(colors: number): Uint8Array {
  const p = new Uint8Array(colors * 3);
  for (let i = 0; i < colors; i++) { p[i * 3] = i; p[i * 3 + 1] = (i * 37) & 255; p[i * 3 + 2] = 255 - i; }
  return p;
}

function lzwBytes(indices: Uint8Array, minCodeSize: number): Uint8Array {
  const w = new ByteWriter(16);
  writeLzwData(w, indices, minCodeSize);
  return w.toUint8Array();
}

/** Sub-block payloads joined, checking the framing: lengths 1..255, then one 0 terminator at the end. */
function unblock(data: Uint8Array): { payload: Uint8Array; blockSizes: number[] } {
  const sizes: number[] = [];
  const parts: number[] = [];
  let p = 1;
  for (;;) {
    const len = data[p++];
    if (len === undefined) throw new Error('image data ran out before the block terminator');
    if (len === 0) break;
    sizes.push(len);
    for (let i = 0; i < len; i++) parts.push(data[p++]!);
  }
  if (p !== data.length) throw new Error(`${data.length - p} bytes after the block terminator`);
  return { payload: Uint8Array.from(parts), blockSizes: sizes };
}

/**
 * A third, minimal decoder written from the spec: reads the code stream and reports each code with the
 * table size at the moment it was read, so specs can see exactly when clears happen.
 */
function readCodes(data: Uint8Array): { codes: number[]; nextAtCode: number[]; pixels: number[] } {
  const mcs = data[0]!;
  const { payload } = unblock(data);
  const clear = 1 << mcs, eoi = clear + 1;
  let size = mcs + 1, next = eoi + 1, bitPos = 0;
  let prev: number[] | null = null;
  const table: number[][] = [];
  for (let i = 0; i < clear; i++) table[i] = [i];
  const codes: number[] = [], nextAtCode: number[] = [], pixels: number[] = [];
  for (;;) {
    if (bitPos + size > payload.length * 8) throw new Error('code stream ended without end-of-information');
    let code = 0;
    for (let b = 0; b < size; b++, bitPos++) code |= ((payload[bitPos >> 3]! >> (bitPos & 7)) & 1) << b;
    codes.push(code);
    nextAtCode.push(next);
    if (code === clear) { size = mcs + 1; next = eoi + 1; prev = null; table.length = eoi + 1; continue; }
    if (code === eoi) break;
    let entry: number[];
    if (code < next && table[code]) entry = table[code]!;
    else if (code === next && prev) entry = [...prev, prev[0]!];
    else throw new Error(`code ${code} is not in the table (next ${next})`);
    pixels.push(...entry);
    if (prev && next < 4096) {
      table[next++] = [...prev, entry[0]!];
      if (next === 1 << size && size < 12) size++;
    }
    prev = entry;
  }
  return { codes, nextAtCode, pixels };
}

test('lzw :: hand-computed bytes for a 2x2 two-colour image', () => {
  // clear(4) 0 1 1 at 3 bits, then 0 and eoi(5) at 4 bits once code 8 is assigned, LSB first
  assert.equal([...lzwBytes(Uint8Array.of(0, 1, 1, 0), 2)], [2, 3, 0x44, 0x02, 0x05, 0]);
});

test('lzw :: round-trips random images through omggif and gifuct-js', () => {
  const rnd = mulberry32(42);
  type Case = [w: number, h: number, colors: number, runChance: number];
  const cases: Case[] = [
    [1, 1, 2, 1], [1, 2, 2, 1], [2, 1, 3, 1], [1, 1000, 256, 1], [1000, 1, 256, 0.01],
    [1000, 1000, 256, 1], [1000, 1000, 4, 0.002], [700, 500, 16, 0.05], [256, 64, 5, 0.01],
  ];
  for (let k = 0; k < 60; k++) {
    const w = 1 + Math.floor(rnd() * 120), h = 1 + Math.floor(rnd() * 120);
    cases.push([w, h, 2 + Math.floor(rnd() * 255), [1, 0.3, 0.02][k % 3]!]);
  }
  for (const [w, h, colors, runChance] of cases) {
    const label = `${w}x${h}, ${colors} colours, run chance ${runChance}`;
    const palette = distinctPalette(colors);
    const indices = randomImage(rnd, w * h, colors, runChance);
    const gif = encodeGif({ width: w, height: h, palette }, [
      { left: 0, top: 0, width: w, height: h, indices, delayCs: 0, disposal: DISPOSAL.NONE },
    ]);
    const g = decodeGifuct(gif);
    assert.is(firstDifference(g.frames[0]!.indices, indices), -1, `gifuct-js: ${label}`);
    const o = decodeOmggif(gif);
    assert.is(firstDifference(o.frames[0]!.rgba, indicesToRgba(indices, palette)), -1, `omggif: ${label}`);
  }
});

test('lzw :: clears the table at 4096 and never before', () => {
  const rnd = mulberry32(7);
  const indices = randomImage(rnd, 200_000, 256, 1);
  const data = lzwBytes(indices, 8);
  const { codes, nextAtCode, pixels } = readCodes(data);
  assert.is(firstDifference(Uint8Array.from(pixels), indices), -1);
  const clears = codes.flatMap((c, i) => (c === 256 ? [i] : []));
  assert.is(clears[0], 0, 'stream starts with a clear code');
  assert.ok(clears.length > 10, `noise should fill the table many times, saw ${clears.length} clears`);
  // the decoder's table is one entry behind the encoder's: a clear arrives right after it has 4095 entries
  for (const i of clears.slice(1)) assert.is(nextAtCode[i - 1], 4095, `clear at code ${i}`);
  assert.is(codes.at(-1), 257, 'ends with end-of-information');
});

test('lzw :: widens codes exactly when the decoder does, for every min code size', () => {
  const rnd = mulberry32(99);
  for (let mcs = 2; mcs <= 8; mcs++) {
    for (const n of [1, 2, 3, 5, 13, 600, 9000]) {
      const indices = randomImage(rnd, n, 1 << mcs, 0.7);
      const { pixels } = readCodes(lzwBytes(indices, mcs)); // throws on a code read at the wrong width
      assert.is(firstDifference(Uint8Array.from(pixels), indices), -1, `mcs ${mcs}, ${n} pixels`);
    }
  }
});

test('lzw :: sub-blocks hold at most 255 bytes, are never empty, and end with one terminator', () => {
  const rnd = mulberry32(3);
  for (const n of [1, 100, 169, 170, 171, 5000, 100_000]) {
    const data = lzwBytes(randomImage(rnd, n, 256, 1), 8);
    const { blockSizes } = unblock(data);
    assert.ok(blockSizes.length > 0);
    blockSizes.forEach((s, i) => assert.ok(i === blockSizes.length - 1 ? s >= 1 && s <= 255 : s === 255, `block ${i} of ${n}: ${s}`));
    assert.ok(data.length <= maxLzwBytes(n), `${data.length} within the bound ${maxLzwBytes(n)}`);
  }
});

test('lzw :: output is deterministic and reuses the shared table cleanly', () => {
  const rnd = mulberry32(5);
  const a = randomImage(rnd, 50_000, 200, 0.3);
  const b = randomImage(rnd, 333, 7, 0.5);
  const firstA = lzwBytes(a, 8);
  lzwBytes(b, 3);
  assert.is(firstDifference(lzwBytes(a, 8), firstA), -1);
});

test('lzw :: rejects bad input with a clear error, and stays usable afterwards', () => {
  const good = Uint8Array.of(0, 1, 2, 3, 3, 3, 1);
  const before = lzwBytes(good, 2);
  const cases: [Uint8Array, number, RegExp][] = [
    [Uint8Array.of(0, 1, 4), 2, /index 4 at pixel 2 does not fit min code size 2/],
    [Uint8Array.of(9), 3, /index 9 at pixel 0/],
    [new Uint8Array(0), 2, /no pixels/],
    [good, 1, /min code size must be an integer 2\.\.8/],
    [good, 9, /min code size/],
    [good, 2.5, /min code size/],
  ];
  for (const [px, mcs, re] of cases) {
    assert.throws(() => lzwBytes(px, mcs), (e: unknown) => e instanceof RangeError && re.test(e.message), `${re}`);
  }
  assert.is(firstDifference(lzwBytes(good, 2), before), -1, 'a failed call leaves no stale table entries');
});

test('lzw :: command-line decoders (giflib, ImageMagick, Pillow) read the same pixels', () => {
  const rnd = mulberry32(11);
  const cases: [number, number, number, number][] = [[1, 1, 2, 1], [37, 23, 3, 1], [300, 200, 256, 1], [640, 480, 16, 0.01], [120, 90, 128, 0.3]];
  for (const d of cliDecoders()) {
    if (d.missing) {
      console.log(`  (skipped ${d.name}: ${d.missing})`);
      continue;
    }
    for (const [w, h, colors, runChance] of cases) {
      const palette = distinctPalette(colors);
      const indices = randomImage(rnd, w * h, colors, runChance);
      const gif = encodeGif({ width: w, height: h, palette }, [
        { left: 0, top: 0, width: w, height: h, indices, delayCs: 100, disposal: DISPOSAL.NONE },
      ]);
      const frames = d.decodeRgb(gif, w, h);
      assert.is(frames.length, 1, `${d.name}: one frame`);
      const diff = firstDifference(frames[0]!, rgbaToRgb(indicesToRgba(indices, palette)));
      assert.is(diff, -1, `${d.name}: ${w}x${h}, ${colors} colours (min code size ${minCodeSizeFor(colors)})`);
    }
  }
});

test.run();
