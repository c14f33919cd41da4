// Per-second frames for a stream whose canvas is kept between frames (disposal KEEP, or no graphic control
// extension at all where a frame has neither a delay nor a transparent index: "not specified" keeps it too):
//   keyframe(cur)       the full canvas, no transparency: what a viewer that missed frames gets;
//   delta(prev -> cur)  only the bounding box of changed pixels, drawn over prev.
// Inside the box there are three ways to say "unchanged":
//   plain    repeat cur's pixel;
//   masked   write the reserved transparent index so prev shows through, for every unchanged pixel;
//   runs     repeat cur's pixel, except that a stretch of unchanged pixels (in raster order through the box)
//            holding two or more runs of different colours becomes transparent (gifsicle's transp_frame_data
//            heuristic): transparency only where it joins runs, never where it would cut one cur already had.
// Which is smallest depends on the picture, so all are encoded into reusable writers and the smallest kept
// (ties go to plain, then masked): a delta is at most a few thousand pixels, and guessing wrong would cost
// every viewer bytes every second, which matters more than two extra encodes. Runs is skipped when it equals
// plain (no stretch masked) or masked (every stretch masked). Once per second per channel; allocates nothing
// but the returned copy once the buffers have grown. Guarded by perf/bytes-bench.mjs (bytes and time).

import { ByteWriter } from './bytes.js';
import { DISPOSAL, writeFrameControl, writeImageData, writeImageDescriptor } from './gif.js';

export interface DeltaOptions {
  width: number;
  height: number;
  minCodeSize: number;
  transparentIndex: number;
  delayCs: number;
}

const plainWriter = new ByteWriter(1 << 14);
const maskedWriter = new ByteWriter(1 << 14);
const runsWriter = new ByteWriter(1 << 14);
let plainPixels = new Uint8Array(1 << 12);
let maskedPixels = new Uint8Array(1 << 12);
let runsPixels = new Uint8Array(1 << 12);
const onePixel = new Uint8Array(1);

function checkCanvas(name: string, px: Uint8Array, o: DeltaOptions): void {
  if (!(px instanceof Uint8Array)) throw new TypeError(`delta: ${name} must be a Uint8Array`);
  if (px.length !== o.width * o.height) {
    throw new RangeError(`delta: ${name} has ${px.length} indices, expected ${o.width}x${o.height} = ${o.width * o.height}`);
  }
}

function checkTransparent(o: DeltaOptions): void {
  const t = o.transparentIndex;
  if (!Number.isInteger(t) || t < 0 || t >= 1 << o.minCodeSize) {
    throw new RangeError(`delta: transparent index ${t} does not fit min code size ${o.minCodeSize}`);
  }
}

function writeFrameTo(
  w: ByteWriter, o: DeltaOptions, left: number, top: number, width: number, height: number,
  indices: Uint8Array, transparentIndex: number | undefined,
): void {
  w.reset();
  // An opaque frame with no delay needs no graphic control extension (8 bytes, an eighth of a typical delta).
  const disposal = o.delayCs === 0 && transparentIndex === undefined ? DISPOSAL.NONE : DISPOSAL.KEEP;
  writeFrameControl(w, o.delayCs, disposal, transparentIndex);
  writeImageDescriptor(w, left, top, width, height);
  writeImageData(w, indices, o.minCodeSize);
}

/** The whole canvas, no transparency, kept (disposal KEEP, or not specified when the delay is 0). */
export function encodeKeyframe(cur: Uint8Array, o: DeltaOptions): Uint8Array {
  checkCanvas('cur', cur, o);
  writeFrameTo(plainWriter, o, 0, 0, o.width, o.height, cur, undefined);
  return plainWriter.toUint8Array();
}

/**
 * The changed rectangle between two canvases, to be drawn over `prev` (which must have been shown with
 * disposal KEEP). Identical canvases give a 1x1 frame repeating the top-left pixel, so there is still a frame every
 * second.
 */
export function encodeDelta(prev: Uint8Array, cur: Uint8Array, o: DeltaOptions): Uint8Array {
  checkCanvas('prev', prev, o);
  checkCanvas('cur', cur, o);
  checkTransparent(o);
  const W = o.width;
  const H = o.height;
  const t = o.transparentIndex;

  // bounding box of changed pixels: first/last changed rows, then narrow the columns row by row
  let top = 0;
  let rowDiff = -1;
  for (; top < H; top++) {
    const r = top * W;
    for (let x = 0; x < W; x++) if (prev[r + x] !== cur[r + x]) { rowDiff = x; break; }
    if (rowDiff >= 0) break;
  }
  if (top === H) {
    onePixel[0] = cur[0]!; // the pixel it already shows: no transparency, so no extension when the delay is 0
    writeFrameTo(plainWriter, o, 0, 0, 1, 1, onePixel, undefined);
    return plainWriter.toUint8Array();
  }
  let bottom = H - 1;
  for (;; bottom--) {
    const r = bottom * W;
    let x = 0;
    while (x < W && prev[r + x] === cur[r + x]) x++;
    if (x < W) break;
  }
  let left = rowDiff;
  let right = rowDiff;
  for (let y = top; y <= bottom; y++) {
    const r = y * W;
    for (let x = 0; x < left; x++) if (prev[r + x] !== cur[r + x]) { left = x; break; }
    for (let x = W - 1; x > right; x--) if (prev[r + x] !== cur[r + x]) { right = x; break; }
  }
  const bw = right - left + 1;
  const bh = bottom - top + 1;
  const n = bw * bh;
  if (plainPixels.length < n) {
    plainPixels = new Uint8Array(n);
    maskedPixels = new Uint8Array(n);
    runsPixels = new Uint8Array(n);
  }
  const plain = plainPixels.subarray(0, n);
  const masked = maskedPixels.subarray(0, n);
  const runs = runsPixels.subarray(0, n);

  let unchanged = 0;
  let runsMasked = 0; // unchanged pixels made transparent in `runs`
  let maskable = true; // false if a changed pixel is itself the transparent index (it would show prev)
  // the current stretch of unchanged pixels: 0 none, 1 one colour so far (opaque in runs), 2 masked in runs
  let stretch = 0;
  let stretchBegin = 0;
  let i = 0;
  for (let y = top; y <= bottom; y++) {
    const r = y * W;
    for (let x = left; x <= right; x++, i++) {
      const c = cur[r + x]!;
      plain[i] = c;
      if (prev[r + x] === c) {
        masked[i] = t;
        unchanged++;
        if (stretch === 0) {
          stretch = 1;
          stretchBegin = i;
        } else if (stretch === 1 && c !== runs[i - 1]) {
          runs.fill(t, stretchBegin, i); // a second colour: the whole stretch so far becomes one run
          runsMasked += i - stretchBegin;
          stretch = 2;
        }
        if (stretch === 2) {
          runs[i] = t;
          runsMasked++;
        } else runs[i] = c;
      } else {
        masked[i] = c;
        runs[i] = c;
        stretch = 0;
        if (c === t) maskable = false;
      }
    }
  }

  writeFrameTo(plainWriter, o, left, top, bw, bh, plain, undefined);
  if (unchanged === 0 || !maskable) return plainWriter.toUint8Array();
  writeFrameTo(maskedWriter, o, left, top, bw, bh, masked, t);
  let best = maskedWriter.pos < plainWriter.pos ? maskedWriter : plainWriter;
  if (runsMasked > 0 && runsMasked < unchanged) {
    writeFrameTo(runsWriter, o, left, top, bw, bh, runs, t);
    if (runsWriter.pos < best.pos) best = runsWriter;
  }
  return best.toUint8Array();
}
