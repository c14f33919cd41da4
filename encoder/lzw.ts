// Variable-width LZW for GIF89a image data (spec appendix F), written straight into a ByteWriter:
//   min code size byte, data sub-blocks of at most 255 bytes, block terminator.
// Codes start at minCodeSize+1 bits and grow to 12; a clear code starts the stream and is sent again
// whenever the 4096-entry table is full (the classic policy every decoder handles); end-of-information
// closes it.
//
// The dictionary is a trie in one typed array: the child of (prefix code, next index) lives at
// (prefix << minCodeSize) | index, 0 meaning "no child" (real codes are always >= 6). A lookup is one load,
// with no hashing or probing. Only the slots a stream actually filled are zeroed afterwards (they are
// remembered per code), so clearing costs O(codes added), not O(table).

import type { ByteWriter } from './bytes.js';

const MAX_CODES = 4096;
const MAX_CODE_SIZE = 12;
const MIN_CODE_SIZE_MIN = 2;
const MIN_CODE_SIZE_MAX = 8;

/** child code of (prefix, index); shared by every call, all zero between calls. 2 MiB. */
const trie = new Uint16Array(MAX_CODES << MIN_CODE_SIZE_MAX);
/** trie slot each added code occupies, to undo exactly those slots. */
const slotOfCode = new Int32Array(MAX_CODES);

/** Upper bound on the bytes writeLzwData can produce for `pixels` indices (used to size the output once). */
export function maxLzwBytes(pixels: number): number {
  // codes: clear + one per pixel at most + a clear per ~3800 codes + end-of-information, each <= 12 bits
  const codes = pixels + Math.ceil(pixels / 1024) + 3;
  const dataBytes = Math.ceil((codes * MAX_CODE_SIZE) / 8);
  return 1 + dataBytes + Math.ceil(dataBytes / 255) + 2;
}

function untrie(from: number, to: number): void {
  for (let k = from; k < to; k++) trie[slotOfCode[k]!] = 0;
}

function indexError(at: number, value: number, minCodeSize: number): RangeError {
  return new RangeError(
    `lzw: index ${value} at pixel ${at} does not fit min code size ${minCodeSize} (max ${(1 << minCodeSize) - 1})`,
  );
}

/**
 * LZW-compress `indices` as GIF image data (min code size byte, sub-blocks, terminator) into `w`.
 *
 * HOT PATH: runs for every keyframe and delta of every channel each second; guarded by
 * perf/encoder-bench.mjs (must stay at least as fast as gifenc with output no larger).
 * All state lives in locals; the tables are module-level and reused; nothing is allocated per call
 * beyond growing `w` when it is too small.
 */
export function writeLzwData(w: ByteWriter, indices: Uint8Array, minCodeSize: number): void {
  if (!Number.isInteger(minCodeSize) || minCodeSize < MIN_CODE_SIZE_MIN || minCodeSize > MIN_CODE_SIZE_MAX) {
    throw new RangeError(`lzw: min code size must be an integer 2..8, got ${minCodeSize}`);
  }
  const n = indices.length;
  if (n === 0) throw new RangeError('lzw: no pixels to encode');

  w.ensure(maxLzwBytes(n));
  const out = w.buf;
  let p = w.pos;
  out[p++] = minCodeSize;
  let blockStart = p++; // length byte of the current sub-block, filled in when it closes

  const clearCode = 1 << minCodeSize;
  const eoiCode = clearCode + 1;
  const firstFree = clearCode + 2;
  const shift = minCodeSize;

  let codeSize = minCodeSize + 1;
  let codeLimit = 1 << codeSize; // grow codeSize once nextCode passes this
  let nextCode = firstFree;
  let acc = clearCode; // bit accumulator, LSB first; starts holding the clear code
  let accBits = codeSize;

  let ent = indices[0]!;
  if (ent >= clearCode) throw indexError(0, ent, minCodeSize);

  for (let i = 1; i < n; i++) {
    const c = indices[i]!;
    if (c >= clearCode) {
      untrie(firstFree, nextCode);
      throw indexError(i, c, minCodeSize);
    }
    const slot = (ent << shift) | c;
    const child = trie[slot]!;
    if (child !== 0) {
      ent = child;
      continue;
    }
    // emit the longest match
    acc |= ent << accBits;
    accBits += codeSize;
    while (accBits >= 8) {
      out[p++] = acc & 0xff;
      acc >>>= 8;
      accBits -= 8;
      if (p - blockStart === 256) {
        out[blockStart] = 255;
        blockStart = p++;
      }
    }
    if (nextCode < MAX_CODES) {
      trie[slot] = nextCode;
      slotOfCode[nextCode] = slot;
      nextCode++;
      // the decoder adds its entry one code later, so widen only once nextCode has passed the limit
      if (nextCode > codeLimit && codeSize < MAX_CODE_SIZE) {
        codeSize++;
        codeLimit <<= 1;
      }
    } else {
      // table full: clear at the current (12-bit) width and start over (the clear code is emitted like a
      // match above, written out again because p, acc and accBits are locals of this loop)
      acc |= clearCode << accBits;
      accBits += codeSize;
      while (accBits >= 8) {
        out[p++] = acc & 0xff;
        acc >>>= 8;
        accBits -= 8;
        if (p - blockStart === 256) {
          out[blockStart] = 255;
          blockStart = p++;
        }
      }
      untrie(firstFree, nextCode);
      nextCode = firstFree;
      codeSize = minCodeSize + 1;
      codeLimit = 1 << codeSize;
    }
    ent = c;
  }

  // last match, then end-of-information (at the width the decoder expects after its last add)
  acc |= ent << accBits;
  accBits += codeSize;
  if (nextCode < MAX_CODES && nextCode + 1 > codeLimit && codeSize < MAX_CODE_SIZE) codeSize++;
  acc |= eoiCode << accBits;
  accBits += codeSize;
  while (accBits > 0) {
    out[p++] = acc & 0xff;
    acc >>>= 8;
    accBits -= 8;
    if (p - blockStart === 256) {
      out[blockStart] = 255;
      blockStart = p++;
    }
  }
  untrie(firstFree, nextCode);

  const open = p - blockStart - 1;
  if (open > 0) {
    out[blockStart] = open;
    out[p++] = 0; // block terminator
  } else {
    out[blockStart] = 0; // the empty placeholder becomes the terminator
  }
  w.pos = p;
}
