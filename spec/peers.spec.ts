import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_PEER_LIMITS, PeerTable } from '../lib/guard/peers.js';
import type { PeerLimits } from '../lib/guard/peers.js';
import { DEFAULT_MAX_VIEWERS } from '../lib/core/limits.js';

const SMALL: PeerLimits = { maxStreamsPerIp: 3, connRatePerSec: 10, connBurst: 5, maxEntries: 1000 };

function admits(table: PeerTable, key: string, nowMs: number, tries: number): number {
  let n = 0;
  for (let i = 0; i < tries; i++) if (table.admitConnection(key, nowMs)) n++;
  return n;
}

test('peers :: token bucket: burst, then the rate, refilled lazily from simulated time', () => {
  const table = new PeerTable(SMALL);
  assert.is(admits(table, 'a', 1_000, 20), 5, 'burst');
  assert.is(admits(table, 'a', 1_099, 5), 0, 'under one token after 99 ms');
  assert.is(admits(table, 'a', 1_100, 5), 1, 'one token per 100 ms');
  assert.is(admits(table, 'a', 1_400, 5), 3);
  assert.is(admits(table, 'b', 1_400, 20), 5, 'another key has its own bucket');
  assert.is(admits(table, 'a', 60_000, 50), 5, 'refill stops at the burst');
  assert.is(admits(table, 'a', 50_000, 5), 0, 'a clock stepping back gives no credit');
  assert.is(admits(table, 'a', 50_100, 5), 1, 'and counting resumes from there');
});

test('peers :: a steady flood gets burst + rate x time over a simulated minute', () => {
  const table = new PeerTable(SMALL);
  let admitted = 0;
  for (let t = 0; t <= 60_000; t += 7) admitted += admits(table, 'flood', t, 3);
  const expected = SMALL.connBurst + (SMALL.connRatePerSec * 60_000) / 1000;
  assert.ok(Math.abs(admitted - expected) <= 1, `admitted ${admitted}, expected ${expected}`);
});

test('peers :: stream cap per key, released by closeStream', () => {
  const table = new PeerTable(SMALL);
  assert.ok(table.openStream('a') && table.openStream('a') && table.openStream('a'));
  assert.not.ok(table.openStream('a'), 'fourth stream refused');
  assert.ok(table.openStream('b'), 'other keys unaffected');
  table.closeStream('a');
  assert.ok(table.openStream('a'));
  assert.not.ok(table.openStream('a'));
});

test('peers :: closeStream is paired and never goes negative', () => {
  const table = new PeerTable(SMALL);
  table.closeStream('nobody');
  assert.is(table.unpairedCloses, 1);
  assert.ok(table.openStream('a'));
  table.closeStream('a');
  table.closeStream('a');
  assert.is(table.unpairedCloses, 2);
  for (let i = 0; i < SMALL.maxStreamsPerIp; i++) assert.ok(table.openStream('a'), 'the extra close did not lend capacity');
  assert.not.ok(table.openStream('a'));

  // random opens and closes against a model
  const model = new Map<string, number>();
  const t2 = new PeerTable({ ...SMALL, maxStreamsPerIp: 4, maxEntries: 50 });
  let seed = 1;
  const rand = (n: number): number => ((seed = (Math.imul(seed, 48271) + 11) >>> 0) >>> 8) % n;
  for (let i = 0; i < 50_000; i++) {
    const key = `k${rand(40)}`;
    const open = model.get(key) ?? 0;
    if (rand(2) === 0) {
      assert.is(t2.openStream(key), open < 4);
      if (open < 4) model.set(key, open + 1);
    } else if (open > 0) {
      t2.closeStream(key);
      model.set(key, open - 1);
    }
    if (i % 1000 === 0) t2.sweep(i);
  }
  assert.is(t2.unpairedCloses, 0);
});

test('peers :: the table never exceeds maxEntries under 1M distinct churned keys', () => {
  const table = new PeerTable(SMALL);
  // 900 keys hold a stream each: they must survive the churn with their counts
  for (let i = 0; i < 900; i++) {
    assert.ok(table.admitConnection(`held${i}`, 0));
    assert.ok(table.openStream(`held${i}`));
  }
  let maxSeen = 0;
  for (let i = 0; i < 1_000_000; i++) {
    table.admitConnection(`churn${i}`, i >>> 4);
    if (table.size > maxSeen) maxSeen = table.size;
    if ((i & 0xffff) === 0) table.sweep(i >>> 4);
  }
  assert.ok(maxSeen <= SMALL.maxEntries, `size reached ${maxSeen}`);
  assert.is(table.size, SMALL.maxEntries);
  assert.ok(table.evictions > 990_000, `${table.evictions} evictions`);
  for (let i = 0; i < 900; i++) {
    assert.ok(table.openStream(`held${i}`) && table.openStream(`held${i}`), 'still has one stream of three');
    assert.not.ok(table.openStream(`held${i}`), `held${i} kept its count`);
  }
});

test('peers :: least recently admitted idle entries are evicted first', () => {
  const table = new PeerTable({ ...SMALL, maxEntries: 3 });
  table.admitConnection('a', 0);
  table.admitConnection('b', 0);
  table.admitConnection('c', 0);
  for (let i = 0; i < 5; i++) table.admitConnection('a', 1); // a drained and recent; b is now the oldest
  table.admitConnection('d', 2);
  assert.is(table.size, 3);
  assert.is(table.evictions, 1);
  assert.not.ok(table.admitConnection('a', 2), 'a kept its drained bucket (b was evicted instead)');
});

test('peers :: when every entry holds streams, new keys share one overflow entry', () => {
  const table = new PeerTable({ ...SMALL, maxEntries: 4 });
  for (const k of ['a', 'b', 'c', 'd']) assert.ok(table.openStream(k));
  assert.is(table.size, 4);
  // strangers share one bucket (burst 5) and one stream cap (3)
  assert.is(admits(table, 'x', 0, 3) + admits(table, 'y', 0, 3) + admits(table, 'z', 0, 3), 5);
  assert.ok(table.openStream('x') && table.openStream('y') && table.openStream('z'));
  assert.not.ok(table.openStream('w'), 'the overflow entry is capped like one IP');
  assert.is(table.size, 4, 'no growth');
  assert.ok(table.overflowed > 0);
  table.closeStream('x');
  assert.ok(table.openStream('w'), 'overflow capacity released by the close of x');
  assert.not.ok(table.openStream('v'));
  // closes still pair with the overflow entry once room appears in the table
  table.closeStream('a');
  table.closeStream('y');
  table.closeStream('z');
  table.closeStream('w');
  assert.is(table.unpairedCloses, 0);
  table.closeStream('w');
  assert.is(table.unpairedCloses, 1, 'w had one stream, on the overflow entry');
  assert.ok(table.openStream('v'), 'a new key takes the room a left');
  assert.is(table.size, 4);
});

test('peers :: sweep drops idle entries with full buckets only', () => {
  const table = new PeerTable(SMALL);
  table.admitConnection('full', 0);
  admits(table, 'drained', 0, 5);
  table.admitConnection('streaming', 0);
  table.openStream('streaming');
  table.openStream('opened-only');
  table.sweep(150); // 'full' regained its token; 'drained' has 1.5 of 5
  assert.is(table.size, 3);
  assert.not.ok(table.admitConnection('drained', 150) && table.admitConnection('drained', 150), 'drained entry kept its state');
  table.sweep(10_000);
  assert.is(table.size, 2, 'streaming entries stay');
  table.closeStream('streaming');
  table.closeStream('opened-only');
  table.sweep(10_001);
  assert.is(table.size, 0);
});

test('peers :: setLimits clamps buckets and shrinks the table', () => {
  const table = new PeerTable(SMALL);
  for (let i = 0; i < 10; i++) table.admitConnection(`k${i}`, 0);
  table.openStream('k0');
  table.openStream('k1');
  table.setLimits({ ...SMALL, connBurst: 2, maxEntries: 4 });
  assert.is(table.size, 4);
  assert.is(admits(table, 'k1', 0, 5), 2, 'bucket clamped to the new burst');
  table.setLimits({ ...SMALL, maxEntries: 1 });
  assert.is(table.size, 2, 'entries holding streams are kept');
  table.closeStream('k0');
  assert.is(table.size, 1, 'and leave when their streams end');
  assert.ok(table.openStream('k1') && table.openStream('k1'));
  assert.not.ok(table.openStream('k1'), 'k1 kept its count across reloads');
});

test('peers :: defaults are generous and the table outlasts the viewer cap', () => {
  assert.ok(DEFAULT_PEER_LIMITS.maxStreamsPerIp >= 100);
  assert.ok(DEFAULT_PEER_LIMITS.connBurst >= DEFAULT_PEER_LIMITS.connRatePerSec);
  assert.ok(DEFAULT_PEER_LIMITS.maxEntries > DEFAULT_MAX_VIEWERS, 'a full table means more peers than viewer slots');
});

test.run();
