// A face's encoded seconds, shared by every finite GIF of that face: a finite GIF (`?seconds=N`, the render
// command) is assembled from them, never encoded per request.
//
// A second's picture depends on (face, second) only, so its delta from the second before (the changed rectangle:
// image descriptor + LZW data) is encoded once and kept while it can still be asked for: from the current second
// up to MAX_FINITE_SECONDS ahead. The delay is not part of those bytes: a finite GIF's frame is a graphic control
// extension + the image, and the extension, the only place that names the delay and the transparent index, is one of
// two shared constants (1 s, with or without the transparent index). So a finite GIF of any length from any second is
// a concatenation: prologue, extension + keyframe(t0), extension + delta(t0+1) … delta(t0+N-1), trailer. The live
// stream (channel.ts) takes its frame of each second from the same ring: the stream frame as encoded (delay 0, an
// extension only where it names the transparent index), of which the image bytes are the tail.
//
// The seconds are encoded in order (each delta needs the picture before it) and only as far ahead as a request has
// asked; the ring forgets seconds that have passed. Memory per face: the deltas of at most an hour (≈ 55 B each at
// the default scale, ≈ 150 B at scale 8) and one record per second.

import { encodeDelta, encodeKeyframe, type DeltaOptions } from '../../encoder/delta.js';
import { DISPOSAL, encodePrologue, GIF, minCodeSizeFor, writeGraphicControlExt } from '../../encoder/gif.js';
import { ByteWriter } from '../../encoder/bytes.js';
import { faceSize, paletteFor, renderFace, TRANSPARENT_INDEX, type FaceOptions } from './face.js';
import { FINITE_DELAY_CS, STREAM_DELAY_CS } from '../core/limits.js';

/**
 * One second's shared bytes: the frame as the live stream sends it (delay 0; a graphic control extension only
 * where it names the transparent index), the image bytes within it (image descriptor + LZW data), and whether
 * they use the transparent index.
 */
interface SecondImage {
  readonly frame: Buffer;
  readonly image: Buffer;
  readonly transparent: boolean;
}

const asBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
const TRAILER = Buffer.of(GIF.TRAILER);
/** The graphic control extension's size: introducer, label, block size, packed, delay (2), index, terminator. */
const GCE_BYTES = 8;

function gce(delayCs: number, transparentIndex?: number): Buffer {
  const w = new ByteWriter(GCE_BYTES);
  writeGraphicControlExt(w, delayCs, DISPOSAL.KEEP, transparentIndex);
  return asBuffer(w.toUint8Array());
}
/** A finite GIF's frame heads: one second, kept (disposal 1), with or without the transparent index. */
const FINITE_OPAQUE = gce(FINITE_DELAY_CS);
const FINITE_TRANSPARENT = gce(FINITE_DELAY_CS, TRANSPARENT_INDEX);

/** Dropped records are compacted away once there are this many and they are at least half the array. */
const COMPACT_AFTER = 1024;
/** Image bytes are copied into slabs of this size: one allocation per ~1,000 seconds, not one per second. */
const SLAB_BYTES = 64 * 1024;

export class FaceRing {
  readonly face: FaceOptions;
  private readonly opts: DeltaOptions;
  private readonly palette: Uint8Array;
  private readonly prologues = new Map<number | undefined, Buffer>();
  /**
   * Deltas of seconds [first, first + count): images[head + i] is the delta from first + i - 1 to first + i. Past
   * seconds are dropped by moving `head`, and the array is compacted only now and then: forget() runs every second
   * for every live channel and must not copy an hour of records each time.
   */
  private first = 0;
  private images: SecondImage[] = [];
  private head = 0;
  /** Seconds held. */
  private get count(): number {
    return this.images.length - this.head;
  }
  /** The picture of the last second held (first + count - 1), to encode the next delta from. */
  private last: Uint8Array | null = null;
  private key: { second: number; image: Buffer } | null = null;
  /** Where new image bytes go (a slab is freed once the seconds in it are forgotten). */
  private slab = Buffer.alloc(0);
  private slabUsed = 0;
  /** Bytes of image data held (for the memory figures and the bound). */
  bytes = 0;

  constructor(face: FaceOptions) {
    this.face = face;
    const { width, height } = faceSize(face);
    this.palette = paletteFor(face);
    this.opts = { width, height, minCodeSize: minCodeSizeFor(this.palette.length / 3), transparentIndex: TRANSPARENT_INDEX, delayCs: STREAM_DELAY_CS };
  }

  /** Pixels the encoder must go through for finite(from, seconds): the deltas not held yet and the keyframe. */
  cost(from: number, seconds: number): number {
    const next = from + 1;
    const usable = this.last !== null && next >= this.first && next <= this.first + this.count;
    const held = usable ? this.first + this.count : next; // first second not held
    const frames = Math.max(0, from + seconds - held) + (this.key?.second === from ? 0 : 1);
    return frames * this.opts.width * this.opts.height;
  }

  /** Drop the seconds before `second` (they can no longer start or be part of a finite GIF). */
  forget(second: number): void {
    if (this.last === null || second <= this.first) return;
    const drop = Math.min(second - this.first, this.count);
    for (let i = 0; i < drop; i++) this.bytes -= this.images[this.head + i]!.image.length;
    this.head += drop;
    this.first += drop;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.images.length) {
      this.images = this.images.slice(this.head);
      this.head = 0;
    }
    // `last` stays: the picture the next delta is encoded from, when the next second asked is the one after it.
  }

  /** The picture of `second` if it is the last one encoded (not to be changed: it is the next delta's base). */
  picture(second: number): Uint8Array | null {
    return this.last !== null && second === this.first + this.count - 1 ? this.last : null;
  }

  /**
   * Encode ahead for finite(from, seconds), spending at most `pixels` of encoding (whole seconds): a big face's
   * first hour is spread over several seconds' budgets. Returns the pixels spent.
   */
  prepare(from: number, seconds: number, pixels: number): number {
    const frame = this.opts.width * this.opts.height;
    const frames = Math.floor(pixels / frame);
    if (frames < 1 || seconds < 2) return 0;
    const before = this.cost(from, seconds);
    const next = from + 1;
    const usable = this.last !== null && next >= this.first && next <= this.first + this.count;
    const start = usable ? this.first + this.count : next;
    this.fill(next, Math.min(from + seconds - 1, start + frames - 1));
    return before - this.cost(from, seconds);
  }

  /** Encode the deltas up to `second` (inclusive), from `from` on when nothing usable is held. */
  private fill(from: number, second: number): void {
    if (this.last === null || from < this.first || from > this.first + this.count) {
      // nothing held that leads up to `from`: start over there
      this.images = [];
      this.head = 0;
      this.bytes = 0;
      this.first = from;
      this.last = renderFace(from - 1, this.face);
    }
    let prev = this.last;
    for (let t = this.first + this.count; t <= second; t++) {
      const cur = renderFace(t, this.face);
      const s = this.keep(encodeDelta(prev, cur, this.opts));
      this.images.push(s);
      this.bytes += s.image.length;
      prev = cur;
    }
    this.last = prev;
  }

  /** An encoded stream frame, copied into the current slab, with its image bytes and transparency. */
  private keep(encoded: Uint8Array): SecondImage {
    if (this.slabUsed + encoded.length > this.slab.length) {
      this.slab = Buffer.allocUnsafeSlow(Math.max(SLAB_BYTES, encoded.length));
      this.slabUsed = 0;
    }
    this.slab.set(encoded, this.slabUsed);
    const frame = this.slab.subarray(this.slabUsed, this.slabUsed + encoded.length);
    this.slabUsed += encoded.length;
    const gce = frame[0] === GIF.EXTENSION_INTRODUCER;
    return { frame, image: gce ? frame.subarray(GCE_BYTES) : frame, transparent: gce && (frame[3]! & GIF.TRANSPARENT_FLAG) !== 0 };
  }

  /** The live stream's frame for `second`: the delta from the second before, encoded once (here) for every use. */
  streamDelta(second: number): Buffer {
    if (this.last === null || second < this.first || second >= this.first + this.count) this.fill(second, second);
    return this.images[this.head + second - this.first]!.frame;
  }

  private keyframe(second: number): Buffer {
    if (this.key?.second !== second) this.key = { second, image: asBuffer(encodeKeyframe(renderFace(second, this.face), this.opts)) };
    return this.key.image;
  }

  private prologue(loop: number | undefined): Buffer {
    let p = this.prologues.get(loop);
    if (p === undefined) {
      const { width, height } = this.opts;
      p = asBuffer(encodePrologue(loop === undefined ? { width, height, palette: this.palette } : { width, height, palette: this.palette, loop }));
      if (this.prologues.size < 4) this.prologues.set(loop, p);
    }
    return p;
  }

  /**
   * The finite GIF of `seconds` frames from `from`: each frame 1 s, disposal 1, the first a keyframe; no loop
   * extension unless `loop` is given. Encodes only the seconds not held yet.
   */
  finite(from: number, seconds: number, loop?: number): Buffer {
    if (seconds > 1) this.fill(from + 1, from + seconds - 1);
    const parts: Buffer[] = [this.prologue(loop), FINITE_OPAQUE, this.keyframe(from)];
    for (let t = from + 1; t < from + seconds; t++) {
      const s = this.images[this.head + t - this.first]!;
      parts.push(s.transparent ? FINITE_TRANSPARENT : FINITE_OPAQUE, s.image);
    }
    parts.push(TRAILER);
    return Buffer.concat(parts);
  }
}

/**
 * Rings by face, shared by the live channels and the finite GIFs: a face's seconds are encoded once for both. At
 * most `max` are kept (the least recently asked dropped first; a channel keeps using the ring it holds).
 */
export class FaceRings {
  private readonly rings = new Map<string, FaceRing>();
  private readonly max: number;

  constructor(max: number) {
    this.max = max;
  }

  /** The ring of `face` (key: faceKey), made if absent. */
  get(face: FaceOptions, key: string): FaceRing {
    let ring = this.rings.get(key);
    if (ring === undefined) {
      if (this.rings.size >= this.max) this.rings.delete(this.rings.keys().next().value!);
      ring = new FaceRing(face);
    } else this.rings.delete(key); // re-inserted: most recently asked last
    this.rings.set(key, ring);
    return ring;
  }

  /** Drop every ring's past seconds. */
  forget(second: number): void {
    for (const r of this.rings.values()) r.forget(second);
  }

  /** Faces held and the image bytes they hold. */
  get held(): { faces: number; bytes: number } {
    let bytes = 0;
    for (const r of this.rings.values()) bytes += r.bytes;
    return { faces: this.rings.size, bytes };
  }
}
