// A golden clock stream across a year's (and day's) roll-over: the bytes a viewer of the default face receives from
// 2026-12-31T23:59:58Z to 2027-01-01T00:00:02Z (prologue, keyframe, four deltas) plus the trailer. The file was
// written by this code once; omggif and gifuct-js must read it as renderFace of those five seconds (so the golden is
// right), and the channel must still produce it byte for byte (so an encoder change is seen, and must be chosen:
// UPDATE_GOLDEN=1 rewrites the file).

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Channel } from '../lib/stream/channel.js';
import { DEFAULT_FACE } from '../lib/face/face.js';
import { GIF } from '../encoder/gif.js';
import { compositeGifuct, firstDifference } from './decoders.js';
import { faceRgba, secondsShown } from './helpers.js';

const FILE = fileURLToPath(new URL('../../spec/golden/rollover-stream.gif', import.meta.url));
const T0 = Date.UTC(2026, 11, 31, 23, 59, 58) / 1000;

function stream(): Buffer {
  const ch = new Channel(DEFAULT_FACE, T0);
  const parts = [ch.prologue, ch.current.keyframe];
  for (let t = T0 + 1; t <= T0 + 4; t++) parts.push(ch.advance(t).delta);
  return Buffer.concat([...parts, Buffer.from([GIF.TRAILER])]);
}

test('golden :: the roll-over stream decodes to the five seconds and is what the channel sends, byte for byte', () => {
  if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, stream());
  assert.ok(existsSync(FILE), `${FILE} is part of the tree (UPDATE_GOLDEN=1 writes it)`);
  const golden = readFileSync(FILE);
  const want = [0, 1, 2, 3, 4].map((k) => T0 + k);
  assert.equal(secondsShown(golden, T0 - 1, T0 + 5), want, 'omggif: 23:59:58, 23:59:59, 00:00:00, 00:00:01, 00:00:02');
  compositeGifuct(golden).forEach((f, k) => assert.is(firstDifference(f.rgba, faceRgba(T0 + k)), -1, `gifuct-js frame ${k}`));
  const ours = stream();
  assert.is(firstDifference(ours, golden), -1, `the channel's bytes are the golden file's (${ours.length} vs ${golden.length} B)`);
});

test.run();
