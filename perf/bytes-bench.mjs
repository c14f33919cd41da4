// Bytes per viewer: a whole hour of the clock (minute and hour roll-overs included) sent three ways,
//   ours       prologue + keyframe of the first second + one delta per second (what a viewer receives)
//   full       the same pictures, every second a full-canvas LZW frame (what the original time.gif sent)
//   gifsicle   `gifsicle -O3` run on the full-frame GIF
// Checks first (every second of ours composited with omggif and gifuct-js equals renderFace; a sample of
// seconds of the full-frame and gifsicle GIFs too), then counts and times, then appends to RESULTS.md.
// Targets: ours <= 1/5 of full, and ours <= gifsicle -O3.
//
//   node perf/bytes-bench.mjs            FROM=2026-11-21T09:30:00Z SECONDS=3600 FACE_TZ=UTC SCALE=3 HOUR12=0
//   RECORD=0 to skip writing RESULTS.md

import { execFileSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { encodeDelta, encodeKeyframe } from '../dist/encoder/delta.js';
import { encodePrologue, GIF, minCodeSizeFor } from '../dist/encoder/gif.js';
import { canonicalTimeZone, faceKey, faceSize, PALETTE, renderFace, TRANSPARENT_INDEX } from '../dist/lib/face/face.js';
import { STREAM_DELAY_CS } from '../dist/lib/core/limits.js';
import { parseInstant } from '../dist/lib/face/render.js';
import { compositeGifuct, decodeOmggif, firstDifference, indicesToRgba } from '../dist/spec/decoders.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const OUT = join(HERE, 'out');
const GIFSICLE = '/usr/bin/gifsicle';
const ORIGINAL_BPS = 300; // reported for the original time.gif (full 132x28 frames), not measured here

const FROM_ISO = process.env.FROM ?? '2026-11-21T09:30:00Z';
const SECONDS = Number(process.env.SECONDS ?? 3600);
const face = {
  tz: canonicalTimeZone(process.env.FACE_TZ ?? 'UTC'),
  hour12: process.env.HOUR12 === '1',
  scale: Number(process.env.SCALE ?? 3),
};
const RECORD = process.env.RECORD !== '0';
if (face.tz === null) throw new Error(`FACE_TZ: unknown zone ${process.env.FACE_TZ}`);
if (!Number.isInteger(SECONDS) || SECONDS < 2) throw new Error(`SECONDS must be an integer >= 2`);
const from = parseInstant(FROM_ISO); // ISO-8601 with a zone, like the render command
if (from === null) throw new Error(`FROM=${FROM_ISO}: not an ISO-8601 instant with a zone`);
if (!Number.isFinite(from)) throw new Error(`FROM: not an instant: ${FROM_ISO}`);

const { width, height } = faceSize(face);
const minCodeSize = minCodeSizeFor(PALETTE.length / 3);
const opts = (delayCs) => ({ width, height, minCodeSize, transparentIndex: TRANSPARENT_INDEX, delayCs });

// ---- build the three GIFs ---------------------------------------------------------------------------------

const pictures = [];
for (let k = 0; k < SECONDS; k++) pictures.push(renderFace(from + k, face));

const prologue = encodePrologue({ width, height, palette: PALETTE });
const streamOpts = opts(STREAM_DELAY_CS);
const ours = [encodeKeyframe(pictures[0], streamOpts)];
for (let k = 1; k < SECONDS; k++) ours.push(encodeDelta(pictures[k - 1], pictures[k], streamOpts));
const full = pictures.map((p) => encodeKeyframe(p, streamOpts));

const gifOf = (frames) => {
  const n = prologue.length + frames.reduce((s, f) => s + f.length, 0) + 1;
  const out = new Uint8Array(n);
  out.set(prologue);
  let at = prologue.length;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  out[at] = GIF.TRAILER;
  return out;
};
const oursGif = gifOf(ours);
const fullGif = gifOf(full);

mkdirSync(OUT, { recursive: true });
const fullPath = join(OUT, 'bytes-full.gif');
const o3Path = join(OUT, 'bytes-full-O3.gif');
const oursPath = join(OUT, 'bytes-ours.gif');
writeFileSync(fullPath, fullGif);
writeFileSync(oursPath, oursGif);
let o3Gif = null;
if (existsSync(GIFSICLE)) {
  execFileSync(GIFSICLE, ['-O3', fullPath, '-o', o3Path]);
  o3Gif = new Uint8Array(readFileSync(o3Path));
} else console.log(`gifsicle not installed (${GIFSICLE}): that comparison is skipped`);

// ---- check ------------------------------------------------------------------------------------------------

const expected = (k) => indicesToRgba(pictures[k], PALETTE);
function check(name, frames, seconds) {
  if (frames.length !== SECONDS) throw new Error(`${name}: ${frames.length} frames, want ${SECONDS}`);
  for (const k of seconds) {
    const d = firstDifference(frames[k].rgba, expected(k));
    if (d !== -1) throw new Error(`${name}: second ${k} differs from renderFace at byte ${d}`);
  }
}
const every = Array.from({ length: SECONDS }, (_, k) => k);
const sample = every.filter((k) => k % 97 === 0 || (from + k) % 60 <= 1 || k === SECONDS - 1);
check('ours (omggif)', decodeOmggif(oursGif).frames, every);
check('ours (gifuct-js)', compositeGifuct(oursGif), every);
check('full (omggif)', decodeOmggif(fullGif).frames, sample);
if (o3Gif) {
  check('gifsicle -O3 (omggif)', decodeOmggif(o3Gif).frames, sample);
  check('gifsicle -O3 (gifuct-js)', compositeGifuct(o3Gif), sample);
}
console.log(`checked: ours at all ${SECONDS} seconds (omggif, gifuct-js); full and gifsicle -O3 at ${sample.length} sampled seconds`);

// ---- per-frame sizes of a GIF (for gifsicle's output): GCE + descriptor + image data, by block walking ----

function frameSizes(gif) {
  const sizes = [];
  let p = 13;
  if (gif[10] & 0x80) p += 3 * (1 << ((gif[10] & 7) + 1));
  let start = -1;
  const skipSubBlocks = () => {
    while (gif[p] !== 0) p += gif[p] + 1;
    p++;
  };
  while (p < gif.length && gif[p] !== GIF.TRAILER) {
    if (start < 0) start = p;
    if (gif[p] === GIF.EXTENSION_INTRODUCER) {
      p += 2;
      skipSubBlocks();
    } else if (gif[p] === GIF.IMAGE_SEPARATOR) {
      const packed = gif[p + 9];
      p += 10;
      if (packed & 0x80) p += 3 * (1 << ((packed & 7) + 1));
      p++; // LZW minimum code size
      skipSubBlocks();
      sizes.push(p - start);
      start = -1;
    } else throw new Error(`unexpected byte ${gif[p]} at ${p}`);
  }
  return sizes;
}

// ---- count and time ---------------------------------------------------------------------------------------

const sum = (a) => a.reduce((s, x) => s + x, 0);
const oursBytes = prologue.length + sum(ours.map((f) => f.length));
const fullBytes = prologue.length + sum(full.map((f) => f.length));
const o3Bytes = o3Gif ? o3Gif.length - 1 : NaN; // without the trailer, like the others
const perSec = (b) => b / SECONDS;
const deltaSizes = ours.slice(1).map((f) => f.length);
const o3Frames = o3Gif ? frameSizes(o3Gif) : [];
let oursSmaller = 0;
let o3Smaller = 0;
for (let k = 1; k < o3Frames.length; k++) {
  if (ours[k].length < o3Frames[k]) oursSmaller++;
  else if (o3Frames[k] < ours[k].length) o3Smaller++;
}

// time: render + encode one second (the per-channel work of a tick), best of 3 runs over the hour
let bestUs = Infinity;
const a = new Uint8Array(width * height);
const b = new Uint8Array(width * height);
for (let run = 0; run < 3; run++) {
  const t0 = performance.now();
  let prev = renderFace(from, face, a);
  let cur = b;
  for (let k = 1; k < SECONDS; k++) {
    renderFace(from + k, face, cur);
    encodeKeyframe(cur, streamOpts);
    encodeDelta(prev, cur, streamOpts);
    const t = prev;
    prev = cur;
    cur = t;
  }
  bestUs = Math.min(bestUs, ((performance.now() - t0) * 1000) / (SECONDS - 1));
}

const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const sorted = [...deltaSizes].sort((x, y) => x - y);
const rows = [
  ['ours: keyframe + deltas', oursBytes, perSec(oursBytes)],
  ['full LZW frames', fullBytes, perSec(fullBytes)],
  ['gifsicle -O3 on full', o3Bytes, perSec(o3Bytes)],
];
const table = [
  '| stream | bytes | B/s per viewer |',
  '|---|---:|---:|',
  ...rows.map(([n, by, bps]) => `| ${n} | ${Number.isFinite(by) ? by : 'n/a'} | ${fmt(bps)} |`),
].join('\n');
const ratioFull = oursBytes / fullBytes;
const ratioO3 = oursBytes / o3Bytes;
const verdict = [
  `ours / full = ${fmt(ratioFull, 3)} (target <= 0.200: ${ratioFull <= 0.2 ? 'met' : 'MISSED'})`,
  `ours / gifsicle -O3 = ${fmt(ratioO3, 3)} (target <= 1: ${ratioO3 <= 1 ? 'met' : Number.isFinite(ratioO3) ? 'MISSED' : 'not measured'})`,
  `ours vs the ~${ORIGINAL_BPS} B/s reported for the original time.gif: ${fmt(perSec(oursBytes) / ORIGINAL_BPS, 3)}x`,
].join('; ');
const detail = [
  `canvas ${width}x${height}, face ${faceKey(face)}, ${SECONDS} s from ${FROM_ISO}`,
  `prologue ${prologue.length} B, keyframe ${ours[0].length} B; deltas min/median/p99/max ${sorted[0]}/${sorted[sorted.length >> 1]}/${sorted[Math.floor(sorted.length * 0.99)]}/${sorted[sorted.length - 1]} B`,
  o3Gif ? `per frame vs gifsicle -O3: ours smaller in ${oursSmaller}, gifsicle smaller in ${o3Smaller}, equal in ${o3Frames.length - 1 - oursSmaller - o3Smaller} of ${o3Frames.length - 1} deltas` : 'gifsicle: not run',
  `render + keyframe + delta per second per channel: ${fmt(bestUs)} µs (best of 3 passes over the hour)`,
];

console.log(table);
console.log(verdict);
for (const d of detail) console.log(d);

if (RECORD) {
  const env = `FROM=${FROM_ISO} SECONDS=${SECONDS} FACE_TZ=${face.tz} SCALE=${face.scale} HOUR12=${face.hour12 ? 1 : 0}`;
  const section = [
    '',
    `## Bytes per viewer — ${new Date().toISOString().slice(0, 10)}`,
    '',
    `Command: \`make build && ${env} node perf/bytes-bench.mjs\` (perf/bytes-bench.mjs)`,
    `Machine: ${cpus().length}-core VPS (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, gifsicle ${o3Gif ? execFileSync(GIFSICLE, ['--version']).toString().split('\n')[0].replace(/^LCDF Gifsicle /, '') : 'absent'}.`,
    'Checked before counting: every second of ours (omggif, gifuct-js) composited equals renderFace; full and gifsicle -O3 sampled.',
    '',
    table,
    '',
    `${verdict}.`,
    '',
    ...detail.map((d) => `- ${d}`),
    '',
  ].join('\n');
  appendFileSync(join(HERE, 'RESULTS.md'), section);
  console.log(`appended to ${join(HERE, 'RESULTS.md')}`);
}
