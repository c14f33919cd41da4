import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeKeyframe } from '../encoder/delta.js';
import { encodePrologue, GIF, minCodeSizeFor } from '../encoder/gif.js';
import { DEFAULT_FACE, faceSize, PALETTE, renderFace, TRANSPARENT_INDEX, type FaceOptions } from '../lib/face/face.js';
import { parseInstant, renderCommand, renderFiniteGif } from '../lib/face/render.js';
import {
  cliDecoders,
  compositeGifuct,
  decodeGifuct,
  decodeOmggif,
  firstDifference,
  indicesToRgba,
  rgbaToRgb,
  type RgbaFrame,
} from './decoders.js';

const at = (iso: string): number => Date.parse(iso) / 1000;
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..');
const SERVER = join(DIST, 'server.js');

/** Every composited frame k must show exactly renderFace(from + k): opaque, pixel for pixel. */
function assertEverySecond(frames: RgbaFrame[], from: number, seconds: number, o: FaceOptions, decoder: string): void {
  assert.is(frames.length, seconds, `${decoder}: one frame per second`);
  for (let k = 0; k < seconds; k++) {
    const want = indicesToRgba(renderFace(from + k, o), PALETTE);
    const diff = firstDifference(frames[k]!.rgba, want);
    assert.is(diff, -1, `${decoder}: second ${k} (${new Date((from + k) * 1000).toISOString()}) differs at byte ${diff}`);
    assert.is(frames[k]!.delayCs, 100, `${decoder}: delay of frame ${k}`);
    assert.is(frames[k]!.disposal, 1, `${decoder}: disposal of frame ${k}`);
  }
}

/** A one-frame GIF of the stream's keyframe of `t`, decoded on its own. */
function keyframeRgba(t: number, o: FaceOptions): Uint8Array {
  const { width, height } = faceSize(o);
  const d = { width, height, minCodeSize: minCodeSizeFor(PALETTE.length / 3), transparentIndex: TRANSPARENT_INDEX, delayCs: 100 };
  const prologue = encodePrologue({ width, height, palette: PALETTE });
  const key = encodeKeyframe(renderFace(t, o), d);
  const gif = new Uint8Array(prologue.length + key.length + 1);
  gif.set(prologue);
  gif.set(key, prologue.length);
  gif[gif.length - 1] = GIF.TRAILER;
  return compositeGifuct(gif)[0]!.rgba;
}

const WINDOWS: { name: string; from: string; seconds: number; face: FaceOptions }[] = [
  { name: 'minute, hour, day and year roll-over (UTC)', from: '2026-12-31T23:58:55Z', seconds: 70, face: DEFAULT_FACE },
  { name: 'hour and AM -> PM (Asia/Kolkata, 12 h, scale 2)', from: '2026-11-21T06:29:30Z', seconds: 45, face: { tz: 'Asia/Kolkata', hour12: true, scale: 2 } },
  { name: 'DST end (America/New_York, scale 1)', from: '2026-11-01T05:59:20Z', seconds: 50, face: { tz: 'America/New_York', hour12: false, scale: 1 } },
];

for (const w of WINDOWS) {
  test(`render :: composites to renderFace at every second: ${w.name}`, () => {
    const from = at(w.from);
    const gif = renderFiniteGif(from, w.seconds, w.face);
    assertEverySecond(compositeGifuct(gif), from, w.seconds, w.face, 'gifuct-js');
    assertEverySecond(decodeOmggif(gif).frames, from, w.seconds, w.face, 'omggif');
  });
}

test('render :: each composited second equals that second\'s keyframe on its own', () => {
  const from = at('2026-12-31T23:59:50Z');
  const frames = compositeGifuct(renderFiniteGif(from, 20, DEFAULT_FACE));
  for (let k = 0; k < 20; k++) {
    assert.is(firstDifference(frames[k]!.rgba, keyframeRgba(from + k, DEFAULT_FACE)), -1, `second ${k}`);
  }
});

test('render :: the first frame is the whole canvas, the rest smaller deltas; no loop extension', () => {
  const o = DEFAULT_FACE;
  const { width, height } = faceSize(o);
  const g = decodeGifuct(renderFiniteGif(at('2026-11-21T09:30:00Z'), 30, o));
  assert.equal([g.width, g.height], [width, height]);
  assert.equal([g.frames[0]!.left, g.frames[0]!.top, g.frames[0]!.width, g.frames[0]!.height], [0, 0, width, height]);
  assert.is(g.frames[0]!.transparentIndex, null);
  for (const f of g.frames.slice(1)) assert.ok(f.width * f.height < (width * height) / 4, 'a delta covers far less than the canvas');
  const bytes = Buffer.from(renderFiniteGif(at('2026-11-21T09:30:00Z'), 30, o));
  assert.is(bytes.indexOf('NETSCAPE'), -1);
  assert.is(bytes[bytes.length - 1], GIF.TRAILER);
});

test('render :: --seconds 1 is one keyframe', () => {
  const t = at('2026-11-21T09:30:00Z');
  const gif = renderFiniteGif(t, 1, DEFAULT_FACE);
  const frames = compositeGifuct(gif);
  assert.is(frames.length, 1);
  assert.is(decodeOmggif(gif).frames.length, 1);
  assert.is(firstDifference(frames[0]!.rgba, indicesToRgba(renderFace(t, DEFAULT_FACE), PALETTE)), -1);
  assert.throws(() => renderFiniteGif(t, 0, DEFAULT_FACE), RangeError);
  assert.throws(() => renderFiniteGif(t, 86401, DEFAULT_FACE), RangeError);
  assert.throws(() => renderFiniteGif(t, 1.5, DEFAULT_FACE), RangeError);
});

test('render :: parseInstant takes ISO-8601 instants with a zone only', () => {
  assert.is(parseInstant('2026-12-31T23:58:55Z'), at('2026-12-31T23:58:55Z'));
  assert.is(parseInstant('2026-12-31T23:58:55.999Z'), at('2026-12-31T23:58:55Z'));
  assert.is(parseInstant('2027-01-01T05:28:55+05:30'), at('2026-12-31T23:58:55Z'));
  assert.is(parseInstant('2026-12-31T18:58:55-0500'), at('2026-12-31T23:58:55Z'));
  assert.is(parseInstant('2026-12-31T23:58Z'), at('2026-12-31T23:58:00Z'));
  assert.is(parseInstant('2024-02-29T00:00:00Z'), at('2024-02-29T00:00:00Z'));
  for (const bad of ['2026-12-31T23:58:55', '2026-12-31', '2026-02-30T00:00:00Z', '2026-13-01T00:00:00Z', '2026-12-31T24:00:00Z',
    '2026-12-31T23:60:00Z', '2026-12-31T23:59:60Z', 'yesterday', '1798761535', '', '2026-12-31T23:58:55+24:00', ' 2026-12-31T23:58:55Z']) {
    assert.is(parseInstant(bad), null, JSON.stringify(bad));
  }
});

// ---- the command ------------------------------------------------------------------------------------------

/** Run `render ...` the way a user does: `node dist/server.js render ...`. */
function runCli(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [SERVER, 'render', ...args], { maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

test('render :: the command writes the GIF to a file and to stdout', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'timegif-render-'));
  try {
    const want = renderFiniteGif(at('2026-12-31T23:59:58Z'), 5, { tz: 'Asia/Kolkata', hour12: true, scale: 2 });
    const args = ['--from', '2026-12-31T23:59:58Z', '--seconds', '5', '--tz', 'Asia/Kolkata', '--hour12', '--scale', '2'];
    const file = join(dir, 'a.gif');
    assert.is(await renderCommand([...args, '--out', file]), 0);
    assert.is(firstDifference(new Uint8Array(readFileSync(file)), want), -1, 'in-process, to a file');
    if (!existsSync(SERVER)) {
      console.log(`  (skipped: ${SERVER} not built)`);
      return;
    }
    const out = runCli([...args, '--out', '-']);
    assert.is(out.status, 0, out.stderr);
    assert.is(firstDifference(new Uint8Array(out.stdout), want), -1, 'node dist/server.js render --out -');
    const file2 = join(dir, 'b.gif');
    const r = runCli(['--out=' + file2, '--from=2026-12-31T23:59:58Z', '--seconds=5', '--tz=Asia/Kolkata', '--hour12', '--scale=2']);
    assert.is(r.status, 0, r.stderr);
    assert.is(firstDifference(new Uint8Array(readFileSync(file2)), want), -1, '--flag=value form');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const BAD_ARGS: [string[], string][] = [
  [['--seconds', '5', '--out', '-'], '--from'],
  [['--from', '2026-12-31T23:58:55Z', '--out', '-'], '--seconds'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5'], '--out'],
  [['--from', 'yesterday', '--seconds', '5', '--out', '-'], '--from'],
  [['--from', '2026-12-31T23:58:55', '--seconds', '5', '--out', '-'], '--from'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '0', '--out', '-'], '--seconds'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '86401', '--out', '-'], '--seconds'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '1.5', '--out', '-'], '--seconds'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', 'ten', '--out', '-'], '--seconds'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--tz', 'Mars/Base', '--out', '-'], '--tz'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--scale', '9', '--out', '-'], '--scale'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--bogus', '--out', '-'], '--bogus'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--out'], '--out'],
  [['--from', '2026-12-31T23:58:55Z', '--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--out', '-'], '--from'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--hour12=yes', '--out', '-'], '--h12: use 1, true'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--h12', '--hour12', '--out', '-'], '--h12: given more than once'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--theme', 'blue', '--out', '-'], '--theme: use dark, light'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--theme', '--out', '-'], '--theme: needs a value'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--scale=9', '--out', '-'], '--scale: use 1..8'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--tz', 'Mars/Base', '--out', '-'], '--tz: use an IANA'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--loop=0', '--out', '-'], '--loop: must be an integer in 1..65535'],
  [['--from', '2026-12-31T23:58:55Z', '--seconds', '5', '--loop', '--loop', '--out', '-'], '--loop: given more than once'],
];

test('render :: bad arguments exit 2 naming the argument (in process)', async () => {
  const write = process.stderr.write;
  for (const [args, name] of BAD_ARGS) {
    let err = '';
    process.stderr.write = ((chunk: string | Uint8Array) => {
      err += chunk.toString();
      return true;
    }) as typeof process.stderr.write;
    let code: number;
    try {
      code = await renderCommand(args);
    } finally {
      process.stderr.write = write;
    }
    assert.is(code, 2, args.join(' '));
    assert.ok(err.split('\n')[0]!.includes(name), `${args.join(' ')}: ${JSON.stringify(err)} names ${name}`);
  }
});

test('render :: bad arguments exit 2 naming the argument (node dist/server.js render)', () => {
  if (!existsSync(SERVER)) {
    console.log(`  (skipped: ${SERVER} not built)`);
    return;
  }
  for (const [args, name] of BAD_ARGS.slice(0, 6)) {
    const r = runCli(args);
    assert.is(r.status, 2, args.join(' '));
    assert.ok(r.stderr.includes(name), `${args.join(' ')}: ${JSON.stringify(r.stderr)} names ${name}`);
    assert.is(r.stdout.length, 0, 'nothing on stdout');
  }
});

test('render :: command-line decoders agree on frame count and pixels', () => {
  const o: FaceOptions = { tz: 'UTC', hour12: false, scale: 2 };
  const from = at('2026-11-21T09:59:50Z');
  const seconds = 15;
  const gif = renderFiniteGif(from, seconds, o);
  const { width, height } = faceSize(o);
  const want = Array.from({ length: seconds }, (_, k) => rgbaToRgb(indicesToRgba(renderFace(from + k, o), PALETTE)));
  let ran = 0;
  for (const d of cliDecoders()) {
    if (d.missing !== null) {
      console.log(`  (skipped ${d.name}: ${d.missing})`);
      continue;
    }
    // A final-screen-only decoder (giflib's gif2rgb) also paints transparent pixels, so it can only judge
    // a frame drawn opaquely: give it the last second's keyframe on its own.
    const frames = d.decodeRgb(d.finalOnly ? renderFiniteGif(from + seconds - 1, 1, o) : gif, width, height);
    if (!d.finalOnly) {
      assert.is(frames.length, seconds, `${d.name}: frame count`);
      for (let k = 0; k < seconds; k++) assert.is(firstDifference(frames[k]!, want[k]!), -1, `${d.name}: frame ${k}`);
    }
    assert.is(firstDifference(frames[frames.length - 1]!, want[seconds - 1]!), -1, `${d.name}: last frame`);
    ran++;
  }
  if (ran === 0) console.log('  (no command-line decoder installed)');
});

test.run();
