// A channel's bytes over an hour that crosses midnight (day, hour and minute roll-overs), read by decoders we did
// not write: every second of the GIF stream (keyframe, then the deltas a viewer gets) composited by ImageMagick and
// Pillow, every multipart part (PNG) by pngjs, and a sample of the parts by ImageMagick and Pillow, must be the
// face's picture of that second. giflib's gif2rgb is left out here: it draws transparent pixels over the canvas
// (decoders.ts), so it cannot composite a stream whose deltas use transparency; lzw.spec and delta.spec use it.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Channel } from '../lib/stream/channel.js';
import { NEXT_PART_HEAD } from '../lib/stream/multipart.js';
import { DEFAULT_FACE, faceSize } from '../lib/face/face.js';
import { GIF } from '../encoder/gif.js';
import { cliDecoders, decodePngjs, firstDifference, rgbaToRgb } from './decoders.js';
import { faceRgba } from './helpers.js';
import { toolPresent } from './tools.js';

const T0 = Date.UTC(2026, 11, 31, 23, 30, 0) / 1000;
const SECONDS = 3600;

function hour(): { gif: Buffer; parts: Buffer[] } {
  const ch = new Channel(DEFAULT_FACE, T0);
  const frames: Buffer[] = [ch.prologue, ch.current.keyframe];
  const parts: Buffer[] = [ch.current.part];
  for (let t = T0 + 1; t < T0 + SECONDS; t++) {
    const f = ch.advance(t);
    frames.push(f.delta);
    parts.push(f.part);
  }
  return { gif: Buffer.concat([...frames, Buffer.of(GIF.TRAILER)]), parts: parts.map((p) => p.subarray(0, p.length - NEXT_PART_HEAD.length)) };
}

const { width, height } = faceSize(DEFAULT_FACE);
const { gif, parts } = hour();
const want = (k: number): Uint8Array => rgbaToRgb(faceRgba(T0 + k));

test('channel :: an hour across midnight: every second of the GIF stream, composited by ImageMagick and Pillow', () => {
  for (const d of cliDecoders()) {
    if (d.finalOnly || !toolPresent(d.missing, d.name)) continue;
    const frames = d.decodeRgb(gif, width, height);
    assert.is(frames.length, SECONDS, `${d.name}: one frame a second`);
    frames.forEach((f, k) => assert.is(firstDifference(f, want(k)), -1, `${d.name}: second ${k} (${new Date((T0 + k) * 1000).toISOString()})`));
  }
});

test('channel :: an hour across midnight: every multipart part is the PNG of its second (pngjs), a sample in ImageMagick and Pillow', () => {
  assert.is(parts.length, SECONDS);
  parts.forEach((p, k) => assert.is(firstDifference(rgbaToRgb(decodePngjs(p).rgba), want(k)), -1, `pngjs: part ${k}`));
  const midnight = 1800;
  const sample = [0, 59, 60, 61, midnight - 1, midnight, midnight + 1, SECONDS - 1, ...Array.from({ length: 12 }, (_, i) => i * 300 + 7)];
  for (const d of cliDecoders()) {
    if (!d.reads.includes('png') || !toolPresent(d.missing, d.name)) continue;
    for (const k of sample) assert.is(firstDifference(d.decodeRgb(parts[k]!, width, height).at(-1)!, want(k)), -1, `${d.name}: part ${k}`);
  }
});

test.run();
