// PNG writer for palette pictures (https://www.w3.org/TR/png-3/): signature, IHDR, PLTE, one IDAT, IEND.
//
// Why PNG at all: a multipart part (the WebKit stream) is a whole picture every second, and for the clock's
// pictures deflate beats LZW by more than half (deflate refers back a whole row, so a row that repeats the one
// above, as every row of a scaled glyph does, costs a few bits; LZW starts every row's strings anew).
//
// Shape: indices are packed at the smallest bit depth the palette allows (1, 2, 4 or 8 bits), every row has
// filter type None, and the rows are deflated by node:zlib at level 9 with the default and the "filtered"
// strategies, the smaller kept. Measured on the clock's pictures (scales 1-8): None beat Up, Up-on-repeated-rows
// and libpng's per-row minimum-sum heuristic at every scale (deflate's back-references already cover a repeated
// row; Up turns glyph edges into more distinct bytes), by 5-60%. A part is built once per channel-second and
// shared by every viewer, so a byte saved is saved for every viewer every second. Deterministic for a given
// zlib. Guarded by perf/bytes-bench.mjs (bytes and time per part).

import { constants, deflateSync } from 'node:zlib';
import { ByteWriter } from './bytes.js';

export const PNG = {
  SIGNATURE: Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
  COLOR_TYPE_PALETTE: 3,
  /** compression method 0 (deflate), filter method 0 (adaptive, five types), interlace method 0 (none) */
  METHOD_DEFLATE: 0,
  FILTER_ADAPTIVE: 0,
  INTERLACE_NONE: 0,
  MAX_DIMENSION: 0x7fffffff,
  MAX_COLORS: 256,
} as const;

/** Row filter types (PNG §7.3): the byte that starts every row of the filtered data. */
export const FILTER = { NONE: 0, SUB: 1, UP: 2, AVERAGE: 3, PAETH: 4 } as const;

export interface PngImage {
  width: number;
  height: number;
  /** width*height palette indices, row-major */
  indices: Uint8Array;
  /** RGB triplets, 1..256 colours; every index must name one of them */
  palette: Uint8Array;
}

// ---- CRC-32 (ISO 3309, the one PNG chunks carry) --------------------------------------------------------

const CRC_TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c >>> 0;
}

function crc32(buf: Uint8Array, from: number, to: number): number {
  let c = 0xffffffff;
  for (let i = from; i < to; i++) c = CRC_TABLE[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

// ---- chunks -------------------------------------------------------------------------------------------------

function u32be(w: ByteWriter, n: number): void {
  w.ensure(4);
  w.buf[w.pos++] = (n >>> 24) & 0xff;
  w.buf[w.pos++] = (n >>> 16) & 0xff;
  w.buf[w.pos++] = (n >>> 8) & 0xff;
  w.buf[w.pos++] = n & 0xff;
}

/** length, type, data, CRC over type + data */
function writeChunk(w: ByteWriter, type: string, data: Uint8Array): void {
  u32be(w, data.length);
  const typeAt = w.pos;
  for (let i = 0; i < 4; i++) w.byte(type.charCodeAt(i));
  w.bytes(data);
  u32be(w, crc32(w.buf, typeAt, w.pos));
}

function writeImageHeader(w: ByteWriter, width: number, height: number, bitDepth: number): void {
  const d = new Uint8Array(13);
  const v = new DataView(d.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  d[8] = bitDepth;
  d[9] = PNG.COLOR_TYPE_PALETTE;
  d[10] = PNG.METHOD_DEFLATE;
  d[11] = PNG.FILTER_ADAPTIVE;
  d[12] = PNG.INTERLACE_NONE;
  writeChunk(w, 'IHDR', d);
}

// ---- pixels -------------------------------------------------------------------------------------------------

/** Bits per index for `colors` palette entries: 1, 2, 4 or 8 (the depths PNG allows for palette pictures). */
export function bitDepthFor(colors: number): number {
  if (colors <= 2) return 1;
  if (colors <= 4) return 2;
  if (colors <= 16) return 4;
  return 8;
}

function check(img: PngImage): number {
  const { width, height, indices, palette } = img;
  for (const [name, v] of [['width', width], ['height', height]] as const) {
    if (!Number.isInteger(v) || v < 1 || v > PNG.MAX_DIMENSION) throw new RangeError(`png: ${name} must be a positive integer, got ${v}`);
  }
  if (!(indices instanceof Uint8Array)) throw new TypeError('png: indices must be a Uint8Array');
  if (indices.length !== width * height) {
    throw new RangeError(`png: ${indices.length} indices, expected ${width}x${height} = ${width * height}`);
  }
  if (!(palette instanceof Uint8Array) || palette.length % 3 !== 0) throw new RangeError('png: palette must be RGB triplets');
  const colors = palette.length / 3;
  if (colors < 1 || colors > PNG.MAX_COLORS) throw new RangeError(`png: palette must hold 1..256 colours, got ${colors}`);
  for (let i = 0; i < indices.length; i++) {
    if (indices[i]! >= colors) throw new RangeError(`png: index ${indices[i]} at pixel ${i} is outside the ${colors}-colour palette`);
  }
  return colors;
}

/** Rows packed at `bitDepth`, most significant bits first, each after its filter type byte (None). */
function packRows(img: PngImage, bitDepth: number, rowBytes: number): Uint8Array {
  const { width, height, indices } = img;
  const packed = new Uint8Array((rowBytes + 1) * height);
  const perByte = 8 / bitDepth;
  for (let y = 0; y < height; y++) {
    const src = y * width;
    const dst = y * (rowBytes + 1) + 1;
    packed[dst - 1] = FILTER.NONE;
    for (let x = 0; x < width; x++) {
      const shift = 8 - bitDepth * ((x % perByte) + 1);
      packed[dst + Math.floor(x / perByte)]! |= indices[src + x]! << shift;
    }
  }
  return packed;
}

const DEFLATE_STRATEGIES = [constants.Z_DEFAULT_STRATEGY, constants.Z_FILTERED];

/** The zlib stream (RFC 1950) of the rows, each with filter type None, by the smaller of two deflate strategies. */
function compress(img: PngImage, bitDepth: number): Uint8Array {
  const rowBytes = Math.ceil((img.width * bitDepth) / 8);
  const data = packRows(img, bitDepth, rowBytes);
  let best: Uint8Array | null = null;
  for (const strategy of DEFLATE_STRATEGIES) {
    const z = deflateSync(data, { level: constants.Z_BEST_COMPRESSION, memLevel: 9, strategy });
    if (best === null || z.length < best.length) best = z;
  }
  return best!;
}

const writer = new ByteWriter(1 << 12);

/** A whole PNG file of one palette picture. */
export function encodePng(img: PngImage): Uint8Array {
  const colors = check(img);
  const bitDepth = bitDepthFor(colors);
  writer.reset();
  writer.bytes(PNG.SIGNATURE);
  writeImageHeader(writer, img.width, img.height, bitDepth);
  writeChunk(writer, 'PLTE', img.palette);
  writeChunk(writer, 'IDAT', compress(img, bitDepth));
  writeChunk(writer, 'IEND', new Uint8Array(0));
  return writer.toUint8Array();
}
