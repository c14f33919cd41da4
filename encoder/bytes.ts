// A growable byte buffer that is reused across frames: `reset()` keeps the capacity, so after the first
// few frames encoding allocates nothing but the copy handed back by `toUint8Array()`.
// Hot writers (lzw.ts) call `ensure()` once and then write into `buf` directly.

const DEFAULT_CAPACITY = 4096;

export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialCapacity: number = DEFAULT_CAPACITY) {
    if (!Number.isInteger(initialCapacity) || initialCapacity < 1) {
      throw new RangeError(`ByteWriter: initialCapacity must be a positive integer, got ${initialCapacity}`);
    }
    this.buf = new Uint8Array(initialCapacity);
  }

  /** Make room for `n` more bytes at `pos` (may replace `buf`; re-read it after calling). */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    if (this.pos >= this.buf.length) this.ensure(1);
    this.buf[this.pos++] = b;
  }

  u16le(n: number): void {
    this.ensure(2);
    this.buf[this.pos++] = n & 0xff;
    this.buf[this.pos++] = (n >>> 8) & 0xff;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  reset(): void {
    this.pos = 0;
  }

  /** A copy of the bytes written so far; the writer stays reusable. */
  toUint8Array(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}
