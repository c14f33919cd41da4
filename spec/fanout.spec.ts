// fanOut() as a table over fake sinks: who gets delta(t), who gets keyframe(t), who is skipped (and stays behind
// until half the bound has drained), who is evicted after stallMs, who already has t; TLS sockets get large buffers
// in pieces; the shared Buffers are written as they are, never copied.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { fanOut, newFanoutStats } from '../lib/stream/fanout.js';
import { TLS_WRITE_PIECE_BYTES, TRANSPORT, Viewer, type Sink, type Transport } from '../lib/stream/viewer.js';
import type { FrameSource } from '../lib/stream/channel.js';

class FakeSink implements Sink {
  writableLength = 0;
  writes: Buffer[] = [];
  write(chunk: Buffer): boolean {
    this.writes.push(chunk);
    return true;
  }
}

const T = 1_796_160_000;
const LIMITS = { maxBacklogBytes: 16 * 1024, stallMs: 30_000 };
const frames: FrameSource = { second: T, delta: Buffer.alloc(60, 1), keyframe: Buffer.alloc(1000, 2) };

function viewer(lastSecond: number, backlog = 0, transport: Transport = TRANSPORT.H1, stalledSinceMs = 0): { v: Viewer; sink: FakeSink; evicted: string[] } {
  const sink = new FakeSink();
  sink.writableLength = backlog;
  const v = new Viewer(sink, transport);
  v.lastSecond = lastSecond;
  v.stalledSinceMs = stalledSinceMs;
  const evicted: string[] = [];
  v.evict = (r) => evicted.push(r);
  return { v, sink, evicted };
}

test('fanout :: the table', () => {
  const now = 5_000_000;
  const rows = {
    holdsPrev: viewer(T - 1),
    behind: viewer(T - 5),
    joinedNow: viewer(T),
    overBound: viewer(T - 1, LIMITS.maxBacklogBytes + 1),
    recovering: viewer(T - 3, LIMITS.maxBacklogBytes / 2 + 1, TRANSPORT.H1, now - 1000),
    drained: viewer(T - 3, LIMITS.maxBacklogBytes / 2, TRANSPORT.H1, now - 1000),
    stalled: viewer(T - 9, LIMITS.maxBacklogBytes + 1, TRANSPORT.H1, now - LIMITS.stallMs),
    tlsBehind: viewer(T - 2, 0, TRANSPORT.H1_TLS),
    h2Behind: viewer(T - 2, 0, TRANSPORT.H2),
  };
  const stats = newFanoutStats();
  fanOut(Object.values(rows).map((r) => r.v), frames, now, LIMITS, stats);

  assert.equal(rows.holdsPrev.sink.writes, [frames.delta], 'holds t-1: the delta');
  assert.is(rows.holdsPrev.sink.writes[0], frames.delta, 'the shared Buffer itself, not a copy');
  assert.is(rows.behind.sink.writes[0], frames.keyframe, 'behind: the keyframe');
  assert.is(rows.joinedNow.sink.writes.length, 0, 'joined this second: its intro carried t');
  assert.is(rows.overBound.sink.writes.length, 0, 'over the backlog bound: skipped');
  assert.is(rows.overBound.v.lastSecond, T - 1, 'and stays behind (it resyncs with a keyframe)');
  assert.ok(rows.overBound.v.stalledSinceMs === now, 'its stall starts now');
  assert.is(rows.recovering.sink.writes.length, 0, 'once behind, skipped until half the bound drained');
  assert.is(rows.drained.sink.writes[0], frames.keyframe, 'drained to half: written again, a keyframe');
  assert.is(rows.drained.v.stalledSinceMs, 0, 'and no longer stalled');
  assert.equal(rows.stalled.evicted, ['stalled'], 'skipped for stallMs: evicted');
  assert.is(rows.tlsBehind.sink.writes.length, Math.ceil(frames.keyframe.length / TLS_WRITE_PIECE_BYTES), 'TLS: the keyframe in pieces');
  assert.ok(Buffer.concat(rows.tlsBehind.sink.writes).equals(frames.keyframe), 'the pieces are the keyframe');
  assert.equal(rows.h2Behind.sink.writes, [frames.keyframe], 'h2: one write, node:http2 frames it');
  for (const r of [rows.holdsPrev, rows.behind, rows.drained, rows.tlsBehind, rows.h2Behind]) assert.is(r.v.lastSecond, T, 'written viewers hold t');
  assert.equal(stats, {
    framesDelta: 1, framesKey: 4, skipped: 3, evicted: 1,
    bytes: frames.delta.length + 4 * frames.keyframe.length,
  });
  assert.is(rows.holdsPrev.v.bytes, frames.delta.length, 'bytes counted per viewer');
});

test('fanout :: a second fan-out of the same second writes nothing more', () => {
  const a = viewer(T - 1);
  const stats = newFanoutStats();
  fanOut([a.v], frames, 0, LIMITS, stats);
  fanOut([a.v], frames, 0, LIMITS, stats);
  assert.is(a.sink.writes.length, 1);
  assert.is(stats.framesDelta, 1);
});

test.run();
