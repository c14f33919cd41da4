// Fan-out: the one place where frames meet sockets. Hot path: runs once per second per channel over
// every viewer, allocates nothing per viewer, and is guarded by perf/fanout-bench.mjs.
//
// Backpressure, in full:
// - A viewer whose sink still holds more than `maxBacklogBytes` unsent bytes in user space (the kernel
//   buffer is already full) is SKIPPED this second: nothing is queued for it, so memory stays bounded.
//   Its lastSecond stays behind, so the next frame it gets is a keyframe: it resyncs in one frame.
// - Once behind, a viewer stays behind until its backlog has drained to half the bound (hysteresis): a peer
//   whose kernel buffer takes a few bytes now and then does not flap between written and skipped.
// - A viewer that keeps being skipped for `stallMs` has made no progress: it is EVICTED (socket destroyed,
//   counted) by its owner's evict hook.
// - Every other viewer gets delta(t) if it holds frame t-1, keyframe(t) otherwise. Both are shared Buffers.
//   Multipart viewers are a list of their own, fanned out with frames.parts (both are part(t), every part whole).

import type { FrameSource } from './channel.js';
import { TLS_WRITE_PIECE_BYTES, writeToSink, type Viewer } from './viewer.js';

export interface FanoutLimits {
  maxBacklogBytes: number;
  stallMs: number;
}

export interface FanoutStats {
  framesDelta: number;
  framesKey: number;
  bytes: number;
  skipped: number;
  evicted: number;
}

export function newFanoutStats(): FanoutStats {
  return { framesDelta: 0, framesKey: 0, bytes: 0, skipped: 0, evicted: 0 };
}

// Reused across ticks: viewers to evict once the loop is done (eviction must not reorder the array mid-loop).
const toEvict: Viewer[] = [];

export function fanOut(viewers: Viewer[], frames: FrameSource, nowMs: number, limits: FanoutLimits, stats: FanoutStats): void {
  const t = frames.second;
  const prev = t - 1;
  const delta = frames.delta;
  const maxBacklog = limits.maxBacklogBytes;
  let nDelta = 0;
  let nKey = 0;
  let bytes = 0;
  let skipped = 0;
  for (let i = 0; i < viewers.length; i++) {
    const v = viewers[i]!;
    if (v.lastSecond >= t) continue; // joined this second: its intro already carried keyframe(t)
    const sink = v.sink;
    const backlog = sink.writableLength;
    if (backlog > maxBacklog || (v.stalledSinceMs !== 0 && backlog > maxBacklog >> 1)) {
      skipped++;
      if (v.stalledSinceMs === 0) v.stalledSinceMs = nowMs;
      else if (nowMs - v.stalledSinceMs >= limits.stallMs) toEvict.push(v);
      continue;
    }
    v.stalledSinceMs = 0;
    const buf = v.lastSecond === prev ? delta : frames.keyframe; // encoded once, on the first resync
    if (buf === delta) nDelta++;
    else nKey++;
    if (buf.length <= TLS_WRITE_PIECE_BYTES) sink.write(buf);
    else writeToSink(sink, v.transport, buf); // a keyframe or a part: split on TLS sockets
    v.lastSecond = t;
    v.bytes += buf.length;
    bytes += buf.length;
  }
  stats.framesDelta += nDelta;
  stats.framesKey += nKey;
  stats.bytes += bytes;
  stats.skipped += skipped;
  if (toEvict.length > 0) {
    stats.evicted += toEvict.length;
    for (let i = 0; i < toEvict.length; i++) toEvict[i]!.evict('stalled');
    toEvict.length = 0;
  }
}
