// Bytes per viewer, both paths, every option set: a whole hour of pictures (minute and hour roll-overs included)
// per set, sent as
//   GIF stream   prologue + keyframe of the first second + one delta per second (what a GIF viewer receives),
//                beside the same stream as built before (every frame with a graphic control extension, delay 1),
//                and beside `gifsicle -O3` run on the same pictures as full frames (with the stream's delay, 0,
//                and with the earlier reference's delay, 1);
//   multipart    one part per second: the PNG of that second + the next part's head (what a WebKit viewer
//                receives), beside the one-frame GIF parts of before (prologue + keyframe + trailer + head).
// Checks first: every second of the GIF stream composited by omggif and gifuct-js equals renderFace; every PNG
// part decoded by pngjs equals renderFace; gifsicle's output at sampled seconds. Then counts and times (render
// + delta + keyframe per channel-second, and the PNG part per channel-second), then appends one table to
// RESULTS.md. Targets: GIF stream <= 0.8x gifsicle -O3 of the same frames; multipart <= 315 B/s at the default.
//
//   make -C perf bytes        SETS=default,h12,s1,...,light (all by default) FROM=2026-11-21T09:30:00Z SECONDS=3600
//   NO_RESULTS=1 to skip writing RESULTS.md

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encodeDelta, encodeKeyframe } from '../dist/encoder/delta.js';
import { encodePrologue, GIF, minCodeSizeFor } from '../dist/encoder/gif.js';
import { encodePng } from '../dist/encoder/png.js';
import { faceKey, faceSize, paletteFor, renderFace, TRANSPARENT_INDEX } from '../dist/lib/face/face.js';
import { STREAM_DELAY_CS } from '../dist/lib/core/limits.js';
import { BOUNDARY, NEXT_PART_HEAD } from '../dist/lib/stream/multipart.js';
import { parseInstant } from '../dist/lib/face/render.js';
import { compositeGifuct, decodeOmggif, decodePngjs, firstDifference, indicesToRgba } from '../dist/spec/decoders.js';
import { fmt, machine, median, record } from './common.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const GIFSICLE = '/usr/bin/gifsicle';

const ALL_SETS = {
  default: { tz: 'UTC', hour12: false, scale: 3, theme: 'dark' },
  h12: { tz: 'UTC', hour12: true, scale: 3, theme: 'dark' },
  s1: { tz: 'UTC', hour12: false, scale: 1, theme: 'dark' },
  s2: { tz: 'UTC', hour12: false, scale: 2, theme: 'dark' },
  s4: { tz: 'UTC', hour12: false, scale: 4, theme: 'dark' },
  s5: { tz: 'UTC', hour12: false, scale: 5, theme: 'dark' },
  s6: { tz: 'UTC', hour12: false, scale: 6, theme: 'dark' },
  s7: { tz: 'UTC', hour12: false, scale: 7, theme: 'dark' },
  s8: { tz: 'UTC', hour12: false, scale: 8, theme: 'dark' },
  light: { tz: 'UTC', hour12: false, scale: 3, theme: 'light' },
};
const FROM_ISO = process.env.FROM ?? '2026-11-21T09:30:00Z';
const SECONDS = Number(process.env.SECONDS ?? 3600);
const SETS = (process.env.SETS ?? Object.keys(ALL_SETS).join(',')).split(',');
for (const s of SETS) if (!(s in ALL_SETS)) throw new Error(`SETS: unknown set ${s} (known: ${Object.keys(ALL_SETS).join(', ')})`);
if (!Number.isInteger(SECONDS) || SECONDS < 2) throw new Error('SECONDS must be an integer >= 2');
const from = parseInstant(FROM_ISO);
if (from === null) throw new Error(`FROM=${FROM_ISO}: not an ISO-8601 instant with a zone`);
if (!existsSync(GIFSICLE)) throw new Error(`${GIFSICLE} not installed (apt-get install gifsicle): the reference is missing`);

/** The multipart part head of before: every part a one-frame GIF. */
const GIF_PART_HEAD = Buffer.from(`\r\n--${BOUNDARY}\r\nContent-Type: image/gif\r\n\r\n`, 'latin1');
const TRAILER = Uint8Array.of(GIF.TRAILER);
const sum = (a) => a.reduce((s, x) => s + x, 0);
const concat = (parts) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));

function gifsicleO3(name, prologue, frames) {
  const src = join(OUT, `bytes-${name}.gif`);
  const dst = join(OUT, `bytes-${name}-O3.gif`);
  writeFileSync(src, concat([prologue, ...frames, TRAILER]));
  execFileSync(GIFSICLE, ['-O3', src, '-o', dst]);
  return new Uint8Array(readFileSync(dst));
}

function check(name, frames, seconds, expected) {
  for (const k of seconds) {
    const d = firstDifference(frames[k].rgba, expected(k));
    if (d !== -1) throw new Error(`${name}: second ${k} differs from renderFace at byte ${d}`);
  }
}

/** Best-of-3 µs per second of `fn(k)` over the hour. */
function timePerSecond(fn) {
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    const t0 = performance.now();
    for (let k = 1; k < SECONDS; k++) fn(k);
    best = Math.min(best, ((performance.now() - t0) * 1000) / (SECONDS - 1));
  }
  return best;
}

function measure(setName) {
  const face = ALL_SETS[setName];
  const { width, height } = faceSize(face);
  const palette = paletteFor(face);
  const minCodeSize = minCodeSizeFor(palette.length / 3);
  const opts = (delayCs) => ({ width, height, minCodeSize, transparentIndex: TRANSPARENT_INDEX, delayCs });
  const now = opts(STREAM_DELAY_CS);
  const before = opts(1);
  const pictures = [];
  for (let k = 0; k < SECONDS; k++) pictures.push(renderFace(from + k, face));
  const prologue = encodePrologue({ width, height, palette });
  const colours = palette.subarray(0, TRANSPARENT_INDEX * 3);

  // the GIF stream, now and before; full frames for gifsicle
  const stream = (o) => [encodeKeyframe(pictures[0], o), ...pictures.slice(1).map((p, k) => encodeDelta(pictures[k], p, o))];
  const ours = stream(now);
  const old = stream(before);
  const o3 = gifsicleO3(setName, prologue, pictures.map((p) => encodeKeyframe(p, now)));
  const o3Before = gifsicleO3(`${setName}-d1`, prologue, pictures.map((p) => encodeKeyframe(p, before)));

  // multipart parts, now and before
  const pngs = pictures.map((indices) => encodePng({ width, height, indices, palette: colours }));
  const oldParts = pictures.map((p) => prologue.length + encodeKeyframe(p, before).length + 1 + GIF_PART_HEAD.length);

  // check
  const expected = (k) => indicesToRgba(pictures[k], palette);
  const every = Array.from({ length: SECONDS }, (_, k) => k);
  const sample = every.filter((k) => k % 97 === 0 || (from + k) % 60 <= 1 || k === SECONDS - 1);
  const oursGif = concat([prologue, ...ours, TRAILER]);
  check(`${setName} stream (omggif)`, decodeOmggif(oursGif).frames, every, expected);
  check(`${setName} stream (gifuct-js)`, compositeGifuct(oursGif), every, expected);
  check(`${setName} gifsicle -O3 (omggif)`, decodeOmggif(o3).frames, sample, expected);
  for (const k of every) {
    const d = firstDifference(decodePngjs(pngs[k]).rgba, expected(k));
    if (d !== -1) throw new Error(`${setName}: PNG part of second ${k} differs from renderFace at byte ${d}`);
  }

  // count (without the trailer: a stream that never ends has none)
  const gifBytes = prologue.length + sum(ours.map((f) => f.length));
  const oldBytes = prologue.length + sum(old.map((f) => f.length));
  const partBytes = sum(pngs.map((p) => p.length + NEXT_PART_HEAD.length));
  const deltas = ours.slice(1).map((f) => f.length);

  // time, per channel-second
  const a = new Uint8Array(width * height);
  const b = new Uint8Array(width * height);
  renderFace(from, face, a);
  let prev = a, cur = b;
  const encodeUs = timePerSecond((k) => {
    renderFace(from + k, face, cur);
    encodeKeyframe(cur, now);
    encodeDelta(prev, cur, now);
    [prev, cur] = [cur, prev];
  });
  const pngUs = timePerSecond((k) => encodePng({ width, height, indices: pictures[k], palette: colours }));
  const gifPartUs = timePerSecond((k) => encodeKeyframe(pictures[k], before));

  return {
    setName, key: faceKey(face), width, height,
    gifBps: gifBytes / SECONDS, oldBps: oldBytes / SECONDS, o3Bps: (o3.length - 1) / SECONDS, o3BeforeBps: (o3Before.length - 1) / SECONDS,
    partBps: partBytes / SECONDS, oldPartBps: sum(oldParts) / SECONDS,
    deltaMedian: median(deltas), deltaMax: Math.max(...deltas),
    encodeUs, pngUs, gifPartUs,
  };
}

mkdirSync(OUT, { recursive: true });
const rows = [];
for (const s of SETS) {
  const r = measure(s);
  rows.push(r);
  console.log(`${s}: GIF ${fmt(r.gifBps)} B/s (${fmt(r.gifBps / r.o3Bps, 3)}x -O3), multipart ${fmt(r.partBps)} B/s (${fmt(r.partBps / r.oldPartBps, 3)}x before)`);
}

const gifMet = rows.every((r) => r.gifBps / r.o3Bps <= 0.8);
const def = rows.find((r) => r.setName === 'default');
const env = `SETS=${SETS.join(',')} FROM=${FROM_ISO} SECONDS=${SECONDS}`;
record([
  '',
  `## Bytes per viewer, every option set — ${new Date().toISOString().slice(0, 16).replace('T', ' ')}`,
  '',
  `Command: \`make build && ${env} node perf/bytes-bench.mjs\` (make -C perf bytes). ${machine()}; ${execFileSync(GIFSICLE, ['--version']).toString().split('\n')[0]}.`,
  `Checked before counting: every second of the GIF stream (omggif, gifuct-js) and every PNG part (pngjs) equals renderFace; gifsicle's output at ${Math.ceil(SECONDS / 97)}+ sampled seconds.`,
  'B/s is bytes per viewer-second over the hour (a never-ending stream: no trailer). "before": every frame with a graphic control extension at delay 1; multipart parts one-frame GIFs. -O3: `gifsicle -O3` of the same pictures as full frames, at the stream\'s delay 0 and at delay 1.',
  '',
  '| set | face | canvas | GIF B/s | before | -O3 (delay 0) | -O3 (delay 1) | GIF / -O3 (delay 0) | delta median / max B | multipart B/s | before | multipart / before | encode µs/s | PNG part µs/s | GIF part µs/s |',
  '|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.setName} | ${r.key} | ${r.width}x${r.height} | ${fmt(r.gifBps)} | ${fmt(r.oldBps)} | ${fmt(r.o3Bps)} | ${fmt(r.o3BeforeBps)} | ${fmt(r.gifBps / r.o3Bps, 3)} | ${r.deltaMedian} / ${r.deltaMax} | ${fmt(r.partBps)} | ${fmt(r.oldPartBps)} | ${fmt(r.partBps / r.oldPartBps, 3)} | ${fmt(r.encodeUs)} | ${fmt(r.pngUs)} | ${fmt(r.gifPartUs)} |`),
  '',
  `GIF stream <= 0.8x gifsicle -O3 for every set: ${gifMet ? 'met' : 'MISSED'} (${rows.map((r) => `${r.setName} ${fmt(r.gifBps / r.o3Bps, 3)}`).join(', ')}).` +
    (def ? ` Multipart at the default <= 315 B/s: ${def.partBps <= 315 ? 'met' : 'MISSED'} (${fmt(def.partBps)} B/s, ${fmt(def.partBps / def.oldPartBps, 3)}x before).` : ''),
  '',
]);
