// GIF89a writer: one function per block of the spec (https://www.w3.org/Graphics/GIF/spec-gif89a.txt),
// in stream order: header, logical screen descriptor, global colour table, then per frame a graphic control
// extension (only where it says something: writeFrameControl), an image descriptor and LZW image data, and
// finally the trailer.
//
// Why it is shaped like this: an endless stream is a prologue (header + screen + palette) followed by frames
// that never end, so the prologue and each frame encode to separate byte arrays that a server writes as-is
// and shares between viewers. `encodeGif` glues them into a finite file with the trailer. Only a global
// colour table is ever written (one palette per stream); no interlacing. The NETSCAPE2.0 loop extension is
// written only when asked for (`Screen.loop`): a stream, or a finite clock, that ends should stay on its last
// frame rather than replay a past time.

import { ByteWriter } from './bytes.js';
import { writeLzwData } from './lzw.js';

export const GIF = {
  SIGNATURE: 'GIF',
  VERSION: '89a',
  EXTENSION_INTRODUCER: 0x21,
  GRAPHIC_CONTROL_LABEL: 0xf9,
  GRAPHIC_CONTROL_BLOCK_SIZE: 4,
  IMAGE_SEPARATOR: 0x2c,
  BLOCK_TERMINATOR: 0x00,
  TRAILER: 0x3b,
  /** logical screen descriptor packed field */
  GLOBAL_COLOR_TABLE_FLAG: 0x80,
  /** graphic control packed field: disposal method in bits 2..4, transparent colour flag in bit 0 */
  DISPOSAL_SHIFT: 2,
  TRANSPARENT_FLAG: 0x01,
  MAX_DIMENSION: 0xffff,
  MAX_COLORS: 256,
  MIN_COLORS: 2,
  APPLICATION_LABEL: 0xff,
  /** NETSCAPE2.0 looping application extension: identifier + authentication code, then one 3-byte sub-block. */
  NETSCAPE_ID: 'NETSCAPE2.0',
  NETSCAPE_LOOP_SUB_BLOCK: 1,
} as const;

export const DISPOSAL = { NONE: 0, KEEP: 1, BACKGROUND: 2, PREVIOUS: 3 } as const;

export interface Screen {
  width: number;
  height: number;
  /** RGB triplets, 2..256 colours */
  palette: Uint8Array;
  backgroundIndex?: number;
  /** Write the NETSCAPE2.0 loop extension: 0 = repeat forever, N = repeat N more times. Absent: play once. */
  loop?: number;
}

export interface FrameSpec {
  left: number;
  top: number;
  width: number;
  height: number;
  /** width*height palette indices */
  indices: Uint8Array;
  /** centiseconds */
  delayCs: number;
  /** DISPOSAL.* */
  disposal: number;
  /** omitted = no transparency */
  transparentIndex?: number;
}

function checkU16(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min || v > GIF.MAX_DIMENSION) {
    throw new RangeError(`gif: ${name} must be an integer ${min}..${GIF.MAX_DIMENSION}, got ${v}`);
  }
}

function colorCount(palette: Uint8Array): number {
  if (!(palette instanceof Uint8Array)) throw new TypeError('gif: palette must be a Uint8Array of RGB triplets');
  if (palette.length % 3 !== 0) {
    throw new RangeError(`gif: palette length ${palette.length} is not a multiple of 3 (RGB triplets)`);
  }
  const colors = palette.length / 3;
  if (colors < GIF.MIN_COLORS || colors > GIF.MAX_COLORS) {
    throw new RangeError(`gif: palette must hold 2..256 colours, got ${colors}`);
  }
  return colors;
}

/** Bits per index for a colour table of `colors` entries: ceil(log2), at least 1. */
function tableBits(colors: number): number {
  let bits = 1;
  while (1 << bits < colors) bits++;
  return bits;
}

/** LZW minimum code size for a palette of `paletteColours` entries: 2..8 (GIF never uses 1). */
export function minCodeSizeFor(paletteColours: number): number {
  if (!Number.isInteger(paletteColours) || paletteColours < GIF.MIN_COLORS || paletteColours > GIF.MAX_COLORS) {
    throw new RangeError(`gif: palette must hold 2..256 colours, got ${paletteColours}`);
  }
  return Math.max(2, tableBits(paletteColours));
}

export function writeHeader(w: ByteWriter): void {
  for (const ch of GIF.SIGNATURE + GIF.VERSION) w.byte(ch.charCodeAt(0)); // "GIF89a"
}

export function writeLogicalScreenDescriptor(w: ByteWriter, s: Screen): void {
  checkU16('screen width', s.width, 1);
  checkU16('screen height', s.height, 1);
  const colors = colorCount(s.palette);
  const bg = s.backgroundIndex ?? 0;
  if (!Number.isInteger(bg) || bg < 0 || bg >= colors) {
    throw new RangeError(`gif: background index ${bg} is outside the ${colors}-colour palette`);
  }
  const bits = tableBits(colors);
  w.u16le(s.width);
  w.u16le(s.height);
  // global table present | colour resolution (bits-1) | not sorted | table size (bits-1)
  w.byte(GIF.GLOBAL_COLOR_TABLE_FLAG | ((bits - 1) << 4) | (bits - 1));
  w.byte(bg);
  w.byte(0); // pixel aspect ratio: not given
}

/** The palette, padded with black to the power of two the descriptor announces. */
export function writeColorTable(w: ByteWriter, palette: Uint8Array): void {
  const colors = colorCount(palette);
  const padded = 1 << tableBits(colors);
  w.bytes(palette);
  w.ensure((padded - colors) * 3);
  for (let i = colors * 3; i < padded * 3; i++) w.byte(0);
}

/** NETSCAPE2.0 application extension: `loops` more plays after the first, 0 = forever. */
export function writeLoopExt(w: ByteWriter, loops: number): void {
  checkU16('loop count', loops, 0);
  w.byte(GIF.EXTENSION_INTRODUCER);
  w.byte(GIF.APPLICATION_LABEL);
  w.byte(GIF.NETSCAPE_ID.length);
  for (let i = 0; i < GIF.NETSCAPE_ID.length; i++) w.byte(GIF.NETSCAPE_ID.charCodeAt(i));
  w.byte(3);
  w.byte(GIF.NETSCAPE_LOOP_SUB_BLOCK);
  w.u16le(loops);
  w.byte(GIF.BLOCK_TERMINATOR);
}

export function writeGraphicControlExt(w: ByteWriter, delayCs: number, disposal: number, transparentIndex?: number): void {
  checkU16('delay (centiseconds)', delayCs, 0);
  if (!Number.isInteger(disposal) || disposal < DISPOSAL.NONE || disposal > DISPOSAL.PREVIOUS) {
    throw new RangeError(`gif: disposal must be one of DISPOSAL (0..3), got ${disposal}`);
  }
  const hasTransparency = transparentIndex !== undefined;
  if (hasTransparency && (!Number.isInteger(transparentIndex) || transparentIndex < 0 || transparentIndex > 255)) {
    throw new RangeError(`gif: transparent index must be an integer 0..255, got ${transparentIndex}`);
  }
  w.byte(GIF.EXTENSION_INTRODUCER);
  w.byte(GIF.GRAPHIC_CONTROL_LABEL);
  w.byte(GIF.GRAPHIC_CONTROL_BLOCK_SIZE);
  w.byte((disposal << GIF.DISPOSAL_SHIFT) | (hasTransparency ? GIF.TRANSPARENT_FLAG : 0));
  w.u16le(delayCs);
  w.byte(hasTransparency ? transparentIndex : 0);
  w.byte(GIF.BLOCK_TERMINATOR);
}

/**
 * The graphic control extension when it says something, nothing otherwise: a frame with no delay, no transparent
 * index and no disposal given ("not specified", which every decoder treats as leaving the frame in place, like
 * KEEP) reads the same without one, 8 bytes fewer (a stream's delta is ~50 B).
 */
export function writeFrameControl(w: ByteWriter, delayCs: number, disposal: number, transparentIndex?: number): void {
  if (delayCs === 0 && disposal === DISPOSAL.NONE && transparentIndex === undefined) return;
  writeGraphicControlExt(w, delayCs, disposal, transparentIndex);
}

export function writeImageDescriptor(w: ByteWriter, left: number, top: number, width: number, height: number): void {
  checkU16('frame left', left, 0);
  checkU16('frame top', top, 0);
  checkU16('frame width', width, 1);
  checkU16('frame height', height, 1);
  w.byte(GIF.IMAGE_SEPARATOR);
  w.u16le(left);
  w.u16le(top);
  w.u16le(width);
  w.u16le(height);
  w.byte(0); // no local colour table, not interlaced
}

export function writeImageData(w: ByteWriter, indices: Uint8Array, minCodeSize: number): void {
  if (!(indices instanceof Uint8Array)) throw new TypeError('gif: indices must be a Uint8Array');
  writeLzwData(w, indices, minCodeSize);
}

export function writeTrailer(w: ByteWriter): void {
  w.byte(GIF.TRAILER);
}

// One scratch writer for the encode* helpers: its capacity survives between frames.
const scratch = new ByteWriter(1 << 16);

function writePrologue(w: ByteWriter, s: Screen): void {
  writeHeader(w);
  writeLogicalScreenDescriptor(w, s);
  writeColorTable(w, s.palette);
  if (s.loop !== undefined) writeLoopExt(w, s.loop);
}

/** Header + logical screen descriptor + global colour table (+ the loop extension if asked): the bytes every stream starts with. */
export function encodePrologue(s: Screen): Uint8Array {
  scratch.reset();
  writePrologue(scratch, s);
  return scratch.toUint8Array();
}

function checkFrame(f: FrameSpec, minCodeSize: number): void {
  checkU16('frame width', f.width, 1);
  checkU16('frame height', f.height, 1);
  if (!(f.indices instanceof Uint8Array)) throw new TypeError('gif: frame indices must be a Uint8Array');
  if (f.indices.length !== f.width * f.height) {
    throw new RangeError(`gif: frame has ${f.indices.length} indices, expected ${f.width}x${f.height} = ${f.width * f.height}`);
  }
  if (f.transparentIndex !== undefined && f.transparentIndex >= 1 << minCodeSize) {
    throw new RangeError(`gif: transparent index ${f.transparentIndex} does not fit min code size ${minCodeSize}`);
  }
}

function writeFrame(w: ByteWriter, f: FrameSpec, minCodeSize: number): void {
  checkFrame(f, minCodeSize);
  writeFrameControl(w, f.delayCs, f.disposal, f.transparentIndex);
  writeImageDescriptor(w, f.left, f.top, f.width, f.height);
  writeImageData(w, f.indices, minCodeSize);
}

/** Graphic control extension (when it says something) + image descriptor + image data: one frame, ready to append to a stream. */
export function encodeFrame(f: FrameSpec, minCodeSize: number): Uint8Array {
  scratch.reset();
  writeFrame(scratch, f, minCodeSize);
  return scratch.toUint8Array();
}

/** A whole finite GIF: prologue, every frame, trailer. Checks frames against the screen and palette. */
export function encodeGif(s: Screen, frames: FrameSpec[]): Uint8Array {
  const colors = colorCount(s.palette);
  const minCodeSize = minCodeSizeFor(colors);
  const tableSize = 1 << tableBits(colors);
  scratch.reset();
  writePrologue(scratch, s);
  for (let k = 0; k < frames.length; k++) {
    const f = frames[k]!;
    checkFrame(f, minCodeSize);
    if (f.left + f.width > s.width || f.top + f.height > s.height) {
      throw new RangeError(
        `gif: frame ${k} (${f.width}x${f.height} at ${f.left},${f.top}) lies outside the ${s.width}x${s.height} screen`,
      );
    }
    // the transparent index may name a padding slot of the power-of-two table; other pixels must be colours
    const t = f.transparentIndex ?? -1;
    if (t >= tableSize) {
      throw new RangeError(`gif: frame ${k} transparent index ${t} is outside the ${tableSize}-entry colour table`);
    }
    const px = f.indices;
    for (let i = 0; i < px.length; i++) {
      if (px[i]! >= colors && px[i] !== t) {
        throw new RangeError(`gif: frame ${k} index ${px[i]} at pixel ${i} is outside the ${colors}-colour palette`);
      }
    }
    writeFrame(scratch, f, minCodeSize);
  }
  writeTrailer(scratch);
  return scratch.toUint8Array();
}
