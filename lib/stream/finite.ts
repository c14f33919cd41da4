// Finite GIFs (`?seconds=N`): one encoding per (face, second, N), shared by every request for it in that second,
// and at most a budget of frames encoded per second, so a flood of distinct requests costs a bounded share of a
// core (limits.ts FINITE_FRAMES_PER_SECOND). The cache holds only the current second's GIFs.

import { faceKey, type FaceOptions } from '../face/face.js';
import { renderFiniteGif } from '../face/render.js';

/** One finite GIF of a (face, second, N), shared by every request for it in that second. */
export interface FiniteGif {
  body: Buffer;
  /** HTTP/1 heads, built on first use: [close, keep-alive]. */
  heads: (Buffer | null)[];
}

export class FiniteGifs {
  private second = -1;
  private frames = 0;
  private readonly ofSecond = new Map<string, FiniteGif>();
  private readonly budgetFrames: number;

  constructor(budgetFrames: number) {
    this.budgetFrames = budgetFrames;
  }

  /** The GIF of `seconds` frames from the second of `nowMs`, or null when this second's budget is spent. */
  get(face: FaceOptions, seconds: number, nowMs: number): FiniteGif | null {
    const second = Math.floor(nowMs / 1000);
    if (second !== this.second) {
      this.second = second;
      this.frames = 0;
      this.ofSecond.clear();
    }
    const key = `${faceKey(face)}/${seconds}`;
    let f = this.ofSecond.get(key);
    if (f !== undefined) return f;
    if (this.frames + seconds > this.budgetFrames) return null;
    this.frames += seconds;
    const gif = renderFiniteGif(second, seconds, face);
    f = { body: Buffer.from(gif.buffer, gif.byteOffset, gif.byteLength), heads: [null, null] };
    this.ofSecond.set(key, f);
    return f;
  }
}
