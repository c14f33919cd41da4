// Checks a recorded stream (HTTP head + GIF blocks up to the end of a frame) with two independent decoders,
// omggif and gifuct-js: both must parse it, decode every frame's LZW data to exactly width × height pixels,
// and agree on every pixel. Used by the load tool before any timing is trusted.

import omggif from 'omggif';
import { parseGIF, decompressFrames } from 'gifuct-js';

const HEAD_END = Buffer.from('\r\n\r\n');

export function verifyStream(bytes) {
  const headEnd = bytes.indexOf(HEAD_END);
  if (headEnd < 0) return { ok: false, frames: 0, error: 'no response head' };
  const gif = Buffer.concat([bytes.subarray(headEnd + 4), Buffer.from([0x3b])]);
  const warnings = [];
  const log = console.log;
  console.log = (...a) => warnings.push(a.join(' ')); // omggif reports short/long LZW data this way
  try {
    const reader = new omggif.GifReader(gif);
    const n = reader.numFrames();
    if (n < 2) return { ok: false, frames: n, error: `only ${n} frame(s)` };
    const frames = decompressFrames(parseGIF(gif), false);
    if (frames.length !== n) return { ok: false, frames: n, error: `omggif ${n} frames, gifuct-js ${frames.length}` };
    const W = reader.width;
    const canvas = new Uint8Array(W * reader.height * 4);
    for (let i = 0; i < n; i++) {
      const info = reader.frameInfo(i);
      canvas.fill(0);
      reader.decodeAndBlitFrameRGBA(i, canvas);
      if (warnings.length > 0) return { ok: false, frames: n, error: `frame ${i}: ${warnings[0]}` };
      const f = frames[i];
      const { left, top, width, height } = f.dims;
      if (left !== info.x || top !== info.y || width !== info.width || height !== info.height) return { ok: false, frames: n, error: `frame ${i}: descriptors differ` };
      if (f.pixels.length !== width * height) return { ok: false, frames: n, error: `frame ${i}: ${f.pixels.length} pixels, want ${width * height}` };
      for (let p = 0; p < f.pixels.length; p++) {
        const idx = f.pixels[p];
        const o = ((top + Math.floor(p / width)) * W + left + (p % width)) * 4;
        if (idx === info.transparent_index) {
          if (canvas[o + 3] !== 0) return { ok: false, frames: n, error: `frame ${i}: pixel ${p} should be transparent` };
          continue;
        }
        const c = f.colorTable[idx];
        if (!c || canvas[o] !== c[0] || canvas[o + 1] !== c[1] || canvas[o + 2] !== c[2] || canvas[o + 3] !== 255) {
          return { ok: false, frames: n, error: `frame ${i}: decoders disagree at pixel ${p}` };
        }
      }
    }
    return { ok: true, frames: n, error: null };
  } catch (e) {
    return { ok: false, frames: 0, error: String(e.message ?? e) };
  } finally {
    console.log = log;
  }
}
