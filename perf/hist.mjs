// Fixed-bucket latency histogram for the load tool: 0.1 ms buckets from `minMs`, one overflow bucket.
// Client processes fill one per second and ship it sparse over IPC; the parent merges them.

const BUCKET_MS = 0.1;

export class Hist {
  constructor(minMs = 0, maxMs = 5000) {
    this.minMs = minMs;
    this.n = Math.ceil((maxMs - minMs) / BUCKET_MS) + 1; // last bucket: overflow
    this.counts = new Uint32Array(this.n);
    this.total = 0;
    this.max = -Infinity;
    this.sum = 0;
  }

  add(ms) {
    let b = Math.floor((ms - this.minMs) / BUCKET_MS);
    if (b < 0) b = 0;
    else if (b >= this.n) b = this.n - 1;
    this.counts[b]++;
    this.total++;
    this.sum += ms;
    if (ms > this.max) this.max = ms;
  }

  clear() {
    if (this.total === 0) return;
    this.counts.fill(0);
    this.total = 0;
    this.max = -Infinity;
    this.sum = 0;
  }

  // [bucket, count, bucket, count, ...] plus max and sum: small enough to send every second.
  toSparse() {
    const pairs = [];
    if (this.total > 0) {
      const c = this.counts;
      for (let i = 0; i < c.length; i++) if (c[i] !== 0) pairs.push(i, c[i]);
    }
    return { pairs, total: this.total, max: this.max === -Infinity ? null : this.max, sum: this.sum };
  }

  addSparse(s) {
    const p = s.pairs;
    for (let i = 0; i < p.length; i += 2) this.counts[p[i]] += p[i + 1];
    this.total += s.total;
    this.sum += s.sum;
    if (s.max !== null && s.max > this.max) this.max = s.max;
  }

  merge(h) {
    for (let i = 0; i < this.n; i++) this.counts[i] += h.counts[i];
    this.total += h.total;
    this.sum += h.sum;
    if (h.max > this.max) this.max = h.max;
  }

  // Upper edge of the bucket holding the p-th fraction (0..1); the exact max for p = 1. null when empty.
  percentile(p) {
    if (this.total === 0) return null;
    if (p >= 1) return this.max;
    const rank = Math.max(1, Math.ceil(p * this.total));
    let acc = 0;
    for (let i = 0; i < this.n; i++) {
      acc += this.counts[i];
      if (acc >= rank) return Math.min(this.minMs + (i + 1) * BUCKET_MS, this.max);
    }
    return this.max;
  }

  mean() { return this.total === 0 ? null : this.sum / this.total; }
}
