// A channel is one distinct rendering (time zone, 12/24 h, scale, theme) and the viewers watching it.
//
// Each second a channel holds two shared encodings of that second: delta(t), only the rectangle that
// changed since t-1 with unchanged pixels transparent, built before the second starts (prepare) and taken from the
// face's ring (face/ring.ts), where finite GIFs of the same face find it too, and
// keyframe(t), the whole canvas, built on first use (only new viewers and viewers catching up need it, most
// seconds nobody). Each is written as the same Buffer to every viewer: nothing is encoded or copied per
// viewer. The prologue (GIF header, screen, palette) never changes for a channel.
// Multipart viewers (WebKit, multipart.ts) get a third shared Buffer, part(t): the picture of t as a PNG (0.40x
// the one-frame GIF at the default scale, encoder/png.ts) and the next part's head; built ahead in prepare()
// while the channel has multipart viewers, and kept in their own list, so the fan-out loop stays one loop.

import { encodePrologue, GIF, minCodeSizeFor } from '../../encoder/gif.js';
import { encodeKeyframe, type DeltaOptions } from '../../encoder/delta.js';
import { FaceRing, type FaceRings } from '../face/ring.js';
import { encodePng } from '../../encoder/png.js';
import { faceKey, faceSize, paletteFor, renderFace, TRANSPARENT_INDEX, type FaceOptions } from '../face/face.js';
import { STREAM_DELAY_CS } from '../core/limits.js';
import type { Viewer } from './viewer.js';
import type { StreamMode } from './multipart.js';
import { CLOSE_DELIMITER, FIRST_PART_HEAD, NEXT_PART_HEAD } from './multipart.js';

const GIF_TRAILER = Buffer.from([GIF.TRAILER]);

const asBuffer = (u8: Uint8Array): Buffer => Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);

/** What the fan-out writes for one second: `delta` to a viewer that holds t-1, `keyframe` to any other. */
export interface FrameSource {
  readonly second: number;
  readonly delta: Buffer;
  readonly keyframe: Buffer;
}

export class Frames implements FrameSource {
  readonly second: number;
  readonly pixels: Uint8Array;
  readonly delta: Buffer;
  /** The same second for multipart viewers: every part is whole, so delta and keyframe are both part(t). */
  readonly parts: FrameSource;
  private key: Buffer | null = null;
  private partBuf: Buffer | null = null;
  private lastPartBuf: Buffer | null = null;
  private pngBuf: Buffer | null = null;
  private readonly opts: DeltaOptions;
  /** The colours a picture is drawn with (the palette without the transparent index), for the PNG. */
  private readonly colours: Uint8Array;

  constructor(second: number, pixels: Uint8Array, delta: Buffer, opts: DeltaOptions, colours: Uint8Array) {
    this.second = second;
    this.pixels = pixels;
    this.delta = delta;
    this.opts = opts;
    this.colours = colours;
    const self = this;
    this.parts = {
      second,
      get delta() {
        return self.part;
      },
      get keyframe() {
        return self.part;
      },
    };
  }

  /** The whole canvas, encoded on first use and then shared. */
  get keyframe(): Buffer {
    return (this.key ??= asBuffer(encodeKeyframe(this.pixels, this.opts)));
  }

  /** This second's picture as a whole PNG file. */
  private get png(): Buffer {
    const { width, height } = this.opts;
    return (this.pngBuf ??= asBuffer(encodePng({ width, height, indices: this.pixels, palette: this.colours })));
  }

  /** One multipart part: this second's picture as a PNG, then the next part's head. Built ahead or on first use. */
  get part(): Buffer {
    return (this.partBuf ??= Buffer.concat([this.png, NEXT_PART_HEAD]));
  }

  /** The last bytes of a deliberately ended stream: the trailer, or for multipart this second again and the close delimiter. */
  ending(mode: StreamMode): Buffer {
    if (mode === 'gif') return GIF_TRAILER;
    // Shared like every other byte: a shutdown ends thousands of multipart viewers in the same second.
    return (this.lastPartBuf ??= Buffer.concat([this.png, CLOSE_DELIMITER]));
  }
}

export class Channel {
  readonly key: string;
  readonly face: FaceOptions;
  readonly prologue: Buffer;
  /** Endless-GIF viewers and multipart viewers: each list is fanned out on its own. */
  readonly viewers: Viewer[] = [];
  readonly partViewers: Viewer[] = [];
  /** The frames of the second being shown. */
  current: Frames;
  private next: Frames | null = null;
  private readonly delta: DeltaOptions;
  private readonly colours: Uint8Array;
  /** The face's encoded seconds: this channel's deltas, shared with finite GIFs when the ring is the registry's. */
  private readonly ring: FaceRing;
  /** Per-second cache of transport-specific intros (head + prologue + keyframe), built on first use. */
  private introSecond = -1;
  private readonly intros = new Map<string, Buffer>();

  constructor(face: FaceOptions, second: number, key = faceKey(face), ring: FaceRing = new FaceRing(face)) {
    this.face = face;
    this.key = key;
    this.ring = ring;
    const { width, height } = faceSize(face);
    const palette = paletteFor(face);
    this.prologue = asBuffer(encodePrologue({ width, height, palette }));
    this.colours = palette.subarray(0, TRANSPARENT_INDEX * 3); // the transparent index is last and never drawn
    this.delta = {
      width,
      height,
      minCodeSize: minCodeSizeFor(palette.length / 3),
      transparentIndex: TRANSPARENT_INDEX,
      delayCs: STREAM_DELAY_CS,
    };
    this.current = this.render(second);
  }

  /** Render and encode `second` ahead of time (its part too, while multipart viewers watch). Once per second per channel, off the tick. */
  prepare(second: number): void {
    if (this.next?.second !== second) this.next = this.render(second);
    if (this.partViewers.length > 0) void this.next.part;
  }

  /** Make `second` current: the prepared frames if they are for it, else render now (late or first tick). */
  advance(second: number): Frames {
    if (second <= this.current.second) return this.current;
    const ready = this.next?.second === second ? this.next : null;
    this.current = ready ?? this.render(second);
    this.next = null;
    return this.current;
  }

  get size(): number {
    return this.viewers.length + this.partViewers.length;
  }

  /**
   * The bytes a new viewer gets in one write: `head` + prologue + the current keyframe, or for multipart
   * `head` + the first part (a one-frame GIF of t: multipart.ts FIRST_PART_HEAD) + the next part's head.
   * Shared by every viewer that joins during the same second with the same `name` (transport and mode; the head
   * carries the Date).
   */
  intro(name: string, head: Buffer | null, mode: StreamMode): Buffer {
    if (this.introSecond !== this.current.second) {
      this.intros.clear();
      this.introSecond = this.current.second;
    }
    let buf = this.intros.get(name);
    if (buf === undefined) {
      const body = mode === 'gif'
        ? [this.prologue, this.current.keyframe]
        : [FIRST_PART_HEAD, this.prologue, this.current.keyframe, GIF_TRAILER, NEXT_PART_HEAD];
      buf = Buffer.concat(head === null ? body : [head, ...body]);
      this.intros.set(name, buf);
    }
    return buf;
  }

  add(v: Viewer): void {
    const list = v.mode === 'gif' ? this.viewers : this.partViewers;
    v.channel = this;
    v.index = list.length;
    v.lastSecond = this.current.second;
    list.push(v);
  }

  /** O(1) swap-remove; idempotent. */
  remove(v: Viewer): void {
    const list = v.mode === 'gif' ? this.viewers : this.partViewers;
    const i = v.index;
    if (i < 0 || list[i] !== v) return;
    const last = list.pop()!;
    if (last !== v) {
      list[i] = last;
      last.index = i;
    }
    v.index = -1;
    v.channel = null;
  }

  private render(second: number): Frames {
    this.ring.forget(second);
    const delta = this.ring.streamDelta(second);
    return new Frames(second, this.ring.picture(second) ?? renderFace(second, this.face), delta, this.delta, this.colours);
  }
}

/**
 * Live channels by key, bounded: a flood of distinct `?tz=` values cannot create unbounded work.
 * A channel with no viewers is dropped on the next tick.
 */
export class ChannelRegistry {
  readonly channels = new Map<string, Channel>();
  private readonly maxChannels: number;
  /** The faces' rings, shared with finite GIFs; none: each channel encodes its own. */
  private readonly rings: FaceRings | null;

  constructor(maxChannels: number, rings: FaceRings | null = null) {
    this.maxChannels = maxChannels;
    this.rings = rings;
  }

  /** The channel for `face` showing `second`, created if there is room; null when the bound is reached. */
  acquire(face: FaceOptions, second: number): Channel | null {
    const key = faceKey(face);
    let ch = this.channels.get(key);
    if (ch === undefined) {
      if (this.channels.size >= this.maxChannels) return null;
      ch = new Channel(face, second, key, this.rings?.get(face, key));
      this.channels.set(key, ch);
    } else ch.advance(second); // an idle channel is not prepared every second: catch up now
    return ch;
  }

  /**
   * Keep a channel even while nobody watches (the default face): the first viewer after a quiet spell
   * does not pay for creating it, and start-up warms the encoder on it.
   */
  pin(face: FaceOptions, second: number): void {
    this.acquire(face, second);
    this.pinned = faceKey(face);
  }

  private pinned = '';

  /** Drop channels nobody watches. */
  sweep(): void {
    for (const [key, ch] of this.channels) if (ch.size === 0 && key !== this.pinned) this.channels.delete(key);
  }
}
