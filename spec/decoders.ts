// Independent GIF decoders for specs: omggif and gifuct-js in-process, plus giflib, ImageMagick and Pillow
// as command-line tools when installed. Every helper returns plain arrays so a spec can compare pixels
// with what it encoded; nothing here uses timegif's own encoder.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decompressFrames, parseGIF } from 'gifuct-js';
import { PNG as PngJs } from 'pngjs';

interface OmggifFrameInfo {
  x: number; y: number; width: number; height: number;
  delay: number; disposal: number; transparent_index: number | null; interlaced: boolean;
}
interface OmggifReader {
  width: number; height: number;
  numFrames(): number;
  loopCount(): number | null;
  frameInfo(i: number): OmggifFrameInfo;
  decodeAndBlitFrameRGBA(i: number, pixels: Uint8Array): void;
}
const { GifReader } = createRequire(import.meta.url)('omggif') as { GifReader: new (buf: Uint8Array) => OmggifReader };

export interface FrameInfo {
  left: number; top: number; width: number; height: number;
  delayCs: number; disposal: number; transparentIndex: number | null;
}
export interface IndexedFrame extends FrameInfo { indices: Uint8Array }
export interface IndexedGif { width: number; height: number; palette: Uint8Array; frames: IndexedFrame[] }
export interface RgbaFrame extends FrameInfo { rgba: Uint8Array }
/** `rgba` of each frame is the whole canvas after that frame was drawn; `loopCount` the NETSCAPE2.0 count, null without one. */
export interface RgbaGif { width: number; height: number; loopCount: number | null; frames: RgbaFrame[] }

/** Indices of every frame as gifuct-js decodes them (no compositing), with the global palette. */
export function decodeGifuct(gif: Uint8Array): IndexedGif {
  const ab = gif.buffer.slice(gif.byteOffset, gif.byteOffset + gif.byteLength) as ArrayBuffer;
  const parsed = parseGIF(ab);
  const decoded = decompressFrames(parsed, false);
  const raw = parsed.frames.filter((f) => 'image' in f);
  const palette = new Uint8Array(parsed.gct.length * 3); // entries are array-likes, not plain arrays
  parsed.gct.forEach((rgb, i) => palette.set([rgb[0], rgb[1], rgb[2]], i * 3));
  const frames = decoded.map((d, k): IndexedFrame => {
    const gce = (raw[k] as { gce?: { delay: number; extras: { transparentColorGiven: boolean } } }).gce;
    return {
      left: d.dims.left, top: d.dims.top, width: d.dims.width, height: d.dims.height,
      delayCs: gce?.delay ?? 0,
      disposal: d.disposalType ?? 0,
      transparentIndex: gce?.extras.transparentColorGiven ? d.transparentIndex : null,
      indices: Uint8Array.from(d.pixels),
    };
  });
  return { width: parsed.lsd.width, height: parsed.lsd.height, palette, frames };
}

/**
 * Our own reference compositor over decoded indices: draws each frame onto an RGBA canvas (initially fully
 * transparent), skipping transparent pixels, then applies the frame's disposal before the next one.
 */
export function composite(g: IndexedGif): RgbaFrame[] {
  const canvas = new Uint8Array(g.width * g.height * 4);
  const out: RgbaFrame[] = [];
  for (const f of g.frames) {
    const saved = f.disposal === 3 ? canvas.slice() : null;
    for (let y = 0; y < f.height; y++) {
      for (let x = 0; x < f.width; x++) {
        const idx = f.indices[y * f.width + x]!;
        if (idx === f.transparentIndex) continue;
        const cx = f.left + x, cy = f.top + y;
        if (cx >= g.width || cy >= g.height) continue;
        const o = (cy * g.width + cx) * 4;
        canvas[o] = g.palette[idx * 3]!; canvas[o + 1] = g.palette[idx * 3 + 1]!;
        canvas[o + 2] = g.palette[idx * 3 + 2]!; canvas[o + 3] = 255;
      }
    }
    const { indices: _i, ...info } = f;
    out.push({ ...info, rgba: canvas.slice() });
    if (f.disposal === 2) clearRect(canvas, g.width, f);
    else if (saved) canvas.set(saved);
  }
  return out;
}

function clearRect(canvas: Uint8Array, width: number, f: FrameInfo): void {
  for (let y = f.top; y < f.top + f.height; y++) canvas.fill(0, (y * width + f.left) * 4, (y * width + f.left + f.width) * 4);
}

/** gifuct-js decode + our compositor. */
export function compositeGifuct(gif: Uint8Array): RgbaFrame[] {
  return composite(decodeGifuct(gif));
}

/** omggif's decoder and its own blitter (which honours transparency); disposal applied here. */
export function decodeOmggif(gif: Uint8Array): RgbaGif {
  const r = new GifReader(gif);
  const canvas = new Uint8Array(r.width * r.height * 4);
  const frames: RgbaFrame[] = [];
  for (let k = 0; k < r.numFrames(); k++) {
    const i = r.frameInfo(k);
    const info: FrameInfo = {
      left: i.x, top: i.y, width: i.width, height: i.height,
      delayCs: i.delay, disposal: i.disposal, transparentIndex: i.transparent_index,
    };
    const saved = info.disposal === 3 ? canvas.slice() : null;
    r.decodeAndBlitFrameRGBA(k, canvas);
    frames.push({ ...info, rgba: canvas.slice() });
    if (info.disposal === 2) clearRect(canvas, r.width, info);
    else if (saved) canvas.set(saved);
  }
  return { width: r.width, height: r.height, loopCount: r.loopCount(), frames };
}

/** pngjs's decoder (it checks every chunk's CRC and the zlib stream): the picture as RGBA, and the PNG's bit depth. */
export function decodePngjs(png: Uint8Array): { width: number; height: number; bitDepth: number; rgba: Uint8Array } {
  const img = PngJs.sync.read(Buffer.from(png.buffer, png.byteOffset, png.byteLength), { checkCRC: true });
  const bitDepth = png[24]!; // IHDR's bit depth: signature 8 + length 4 + type 4 + width 4 + height 4
  return { width: img.width, height: img.height, bitDepth, rgba: new Uint8Array(img.data) };
}

/** Palette indices to opaque RGBA (what a decoder should show for a frame drawn without transparency). */
export function indicesToRgba(indices: Uint8Array, palette: Uint8Array): Uint8Array {
  const out = new Uint8Array(indices.length * 4);
  for (let i = 0; i < indices.length; i++) {
    const c = indices[i]! * 3;
    out[i * 4] = palette[c]!; out[i * 4 + 1] = palette[c + 1]!; out[i * 4 + 2] = palette[c + 2]!; out[i * 4 + 3] = 255;
  }
  return out;
}

/** Drop alpha: RGBA to RGB. */
export function rgbaToRgb(rgba: Uint8Array): Uint8Array {
  const out = new Uint8Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) {
    out[j] = rgba[i]!; out[j + 1] = rgba[i + 1]!; out[j + 2] = rgba[i + 2]!;
  }
  return out;
}

/** Index of the first difference between two byte arrays, -1 if equal (length mismatch counts). */
export function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : n;
}

// --- command-line decoders ---------------------------------------------------------------------------

export interface CliDecoder {
  name: string;
  /** why it is unavailable, or null when it can run */
  missing: string | null;
  /**
   * RGB of the whole canvas after each frame. `finalOnly` decoders return just the last canvas.
   * Uncovered or transparent areas are decoder-specific: compare only pixels that are drawn opaquely. giflib's
   * gif2rgb copies each frame's raster over the canvas ignoring the transparent index, so its last canvas is the
   * clock only while no frame since the last keyframe used transparency (the delta encoder uses it when it helps).
   */
  finalOnly: boolean;
  /** The formats it reads. */
  reads: readonly ('gif' | 'png')[];
  decodeRgb(gif: Uint8Array, width: number, height: number): Uint8Array[];
}

const PYTHON = '/usr/bin/python3';
const CONVERT = '/usr/bin/convert';
const GIF2RGB = '/usr/bin/gif2rgb';
const MAX_BUFFER = 1 << 30;

/** The picture in a temporary file named for its format (ImageMagick goes by the name; GIF and PNG both work). */
function withTempGif<T>(gif: Uint8Array, fn: (dir: string, path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'timegif-spec-'));
  try {
    const path = join(dir, gif[0] === 0x89 && gif[1] === 0x50 ? 'in.png' : 'in.gif');
    writeFileSync(path, gif);
    return fn(dir, path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function split(all: Uint8Array, frameBytes: number): Uint8Array[] {
  if (frameBytes === 0 || all.length % frameBytes !== 0) {
    throw new Error(`decoder returned ${all.length} bytes, not a multiple of one ${frameBytes}-byte frame`);
  }
  const out: Uint8Array[] = [];
  for (let o = 0; o < all.length; o += frameBytes) out.push(all.subarray(o, o + frameBytes));
  return out;
}

let pillowMissing: string | null | undefined;
function pillowCheck(): string | null {
  if (pillowMissing !== undefined) return pillowMissing;
  if (!existsSync(PYTHON)) return (pillowMissing = `${PYTHON} not installed`);
  try {
    execFileSync(PYTHON, ['-c', 'import PIL.Image'], { stdio: 'ignore' });
    pillowMissing = null;
  } catch {
    pillowMissing = 'python3 Pillow (python3-pil) not installed';
  }
  return pillowMissing;
}

const PILLOW_SCRIPT = `
import sys
from PIL import Image
im = Image.open(sys.argv[1])
out = sys.stdout.buffer
for k in range(getattr(im, 'n_frames', 1)):
    im.seek(k)
    out.write(im.convert('RGB').tobytes())
`;

export function cliDecoders(): CliDecoder[] {
  return [
    {
      name: 'giflib gif2rgb',
      missing: existsSync(GIF2RGB) ? null : `${GIF2RGB} not installed (giflib-tools)`,
      finalOnly: true,
      reads: ['gif'],
      decodeRgb: (gif) => withTempGif(gif, (dir, path) => {
        const out = join(dir, 'out.rgb');
        execFileSync(GIF2RGB, ['-1', '-o', out, path], { stdio: ['ignore', 'ignore', 'pipe'] });
        return [new Uint8Array(readFileSync(out))];
      }),
    },
    {
      name: 'ImageMagick convert',
      missing: existsSync(CONVERT) ? null : `${CONVERT} not installed (imagemagick)`,
      finalOnly: false,
      reads: ['gif', 'png'],
      decodeRgb: (gif, width, height) => withTempGif(gif, (_dir, path) => {
        const all = execFileSync(CONVERT, [path, '-coalesce', '-depth', '8', 'rgb:-'], { maxBuffer: MAX_BUFFER });
        return split(new Uint8Array(all), width * height * 3);
      }),
    },
    {
      name: 'Pillow',
      missing: pillowCheck(),
      finalOnly: false,
      reads: ['gif', 'png'],
      decodeRgb: (gif, width, height) => withTempGif(gif, (_dir, path) => {
        const all = execFileSync(PYTHON, ['-c', PILLOW_SCRIPT, path], { maxBuffer: MAX_BUFFER });
        return split(new Uint8Array(all), width * height * 3);
      }),
    },
  ];
}
