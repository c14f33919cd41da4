// Finite GIFs (`?seconds=N`): assembled from each face's encoded seconds (face/ring.ts), shared by every request of that
// face whatever its length; the bytes of a (face, second, N) are kept for the rest of that second, so the same
// request again costs nothing but the write. What a flood of distinct requests can cost is bounded per second:
// pixels encoded (a new face, or seconds further ahead than anyone asked before) and bytes assembled (limits.ts
// FINITE_PIXELS_PER_SECOND, FINITE_BYTES_PER_SECOND); past either, null (the caller answers 503 + Retry-After).
// Faces are bounded too (the rings' bound, the least recently asked dropped first).

import { faceKey, type FaceOptions } from '../face/face.js';
import { FINITE_BYTES_PER_SECOND, FINITE_MAX_FACES, FINITE_PIXELS_PER_SECOND } from '../core/limits.js';
import { FaceRings } from '../face/ring.js';

/** One finite GIF of a (face, second, N), shared by every request for it in that second. */
export interface FiniteGif {
  body: Buffer;
  /** HTTP/1 heads, built on first use: [close, keep-alive]. */
  heads: (Buffer | null)[];
}

export interface FiniteBudget {
  pixelsPerSecond: number;
  bytesPerSecond: number;
  /** Faces kept when the rings are this object's own (none given to the constructor). */
  maxFaces: number;
}

const DEFAULT_BUDGET: FiniteBudget = { pixelsPerSecond: FINITE_PIXELS_PER_SECOND, bytesPerSecond: FINITE_BYTES_PER_SECOND, maxFaces: FINITE_MAX_FACES };

export class FiniteGifs {
  private second = -1;
  private pixels = 0;
  private bytes = 0;
  private readonly ofSecond = new Map<string, FiniteGif>();
  /** Each face's encoded seconds, shared with the live channels (face/ring.ts). */
  readonly rings: FaceRings;
  private readonly budget: FiniteBudget;

  constructor(budget: Partial<FiniteBudget> = {}, rings?: FaceRings) {
    this.budget = { ...DEFAULT_BUDGET, ...budget };
    this.rings = rings ?? new FaceRings(this.budget.maxFaces);
  }

  /** Faces held and the image bytes they hold (for the README's memory figures). */
  get held(): { faces: number; bytes: number } {
    return this.rings.held;
  }

  /**
   * The GIF of `seconds` frames from the second of `nowMs` (repeating `loop` more times, 0 forever, when given), or
   * null when this second's budget is spent.
   */
  get(face: FaceOptions, seconds: number, nowMs: number, loop?: number): FiniteGif | null {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.pixels = 0;
      this.bytes = 0;
      this.ofSecond.clear();
      this.rings.forget(second);
    }
    const fk = faceKey(face);
    const key = `${fk}/${seconds}/${loop ?? ''}`;
    const f = this.ofSecond.get(key);
    if (f !== undefined) return f;
    const ring = this.rings.get(face, fk);
    const pixels = ring.cost(second, seconds);
    if (pixels > 0 && this.pixels + pixels > this.budget.pixelsPerSecond) {
      // Not this second: spend what is left of its budget encoding ahead, so a face bigger than one second's budget
      // (an hour at scale 8 is 242 M pixels) is served after a few seconds of 503s instead of never.
      this.pixels += ring.prepare(second, seconds, this.budget.pixelsPerSecond - this.pixels);
      return null;
    }
    if (this.bytes >= this.budget.bytesPerSecond) return null;
    this.pixels += pixels;
    const body = ring.finite(second, seconds, loop);
    this.bytes += body.length;
    const gif = { body, heads: [null, null] };
    this.ofSecond.set(key, gif);
    return gif;
  }
}
