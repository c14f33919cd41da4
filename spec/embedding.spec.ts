// Embedding: one option table (lib/face/options.ts) drives the URL, the render command, --help and README; every option
// gives the same pixels on the URL and in `render`; a bad value of each is a 400 naming it; the theme reaches the
// live stream's palette; the number of distinct faces is bounded with a clear answer; `render --loop`.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { RawClient, drainAll, startTest } from './wire.js';
import { cliDecoders, decodeGifuct, decodeOmggif, firstDifference, rgbaToRgb } from './decoders.js';
import { faceRgba, secondsShown } from './helpers.js';
import { SERVER_JS } from './procs.js';
import { toolPresent } from './tools.js';
import { DEFAULT_FACE, faceSize, MAX_SCALE, MIN_SCALE, paletteFor, type FaceOptions } from '../lib/face/face.js';
import { MAX_CHANNELS, MAX_CHANNELS_PER_IP } from '../lib/core/limits.js';
import { FACE_OPTIONS, faceOptionsMarkdown } from '../lib/face/options.js';
import { renderFiniteGif } from '../lib/face/render.js';
import { PAGE_HTML } from '../lib/http/page.js';

let now = 1_796_160_000_250;
const clock = { now: () => now, manualClock: true };
const second = (): number => Math.floor(now / 1000);
const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

async function get(port: number, target: string, localAddress?: string): Promise<{ status: number; head: string; body: Buffer; c: RawClient }> {
  const c = await RawClient.open(port, localAddress);
  c.send(`GET ${target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
  await c.untilClosed();
  return { status: c.status, head: c.data.toString('latin1', 0, c.headEnd), body: c.data.subarray(c.headEnd), c };
}

function renderCli(args: string[]): { status: number | null; stdout: Buffer; stderr: string } {
  const r = spawnSync(process.execPath, [SERVER_JS, 'render', ...args], { maxBuffer: 1 << 26 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Faces that between them give every option a non-default value, as [URL query, render flags, face]. */
const CASES: [string, string[], FaceOptions][] = [
  ['tz=Asia/Kolkata', ['--tz', 'Asia/Kolkata'], { ...DEFAULT_FACE, tz: 'Asia/Kolkata' }],
  ['h12=1&tz=America/New_York', ['--h12', '--tz=America/New_York'], { ...DEFAULT_FACE, hour12: true, tz: 'America/New_York' }],
  ['h12=true&scale=1', ['--h12=true', '--scale', '1'], { ...DEFAULT_FACE, hour12: true, scale: 1 }],
  ['theme=light', ['--theme', 'light'], { ...DEFAULT_FACE, theme: 'light' }],
  ['theme=light&scale=6&tz=Europe%2FBerlin&h12', ['--theme=light', '--scale=6', '--tz', 'Europe/Berlin', '--hour12'], { tz: 'Europe/Berlin', hour12: true, scale: 6, theme: 'light' }],
  ['theme=dark&h12=0&scale=3&tz=UTC', ['--theme', 'dark', '--h12=0', '--scale', '3', '--tz', 'UTC'], DEFAULT_FACE],
];

test('embedding :: the table names every option the URL and render take', () => {
  assert.equal(FACE_OPTIONS.map((o) => o.name), ['tz', 'h12', 'scale', 'theme']);
  const named = new Set(CASES.flatMap(([q]) => q.split('&').map((p) => p.split('=')[0])));
  for (const o of FACE_OPTIONS) assert.ok(named.has(o.name), `a case sets ${o.name}`);
});

test('embedding :: every option gives the same bytes on the URL (?seconds=3) and from `render`', async () => {
  const { port } = await startTest([], clock);
  const iso = new Date(second() * 1000).toISOString();
  for (const [query, flags, face] of CASES) {
    const r = await get(port, `/time.gif?seconds=3&${query}`);
    assert.is(r.status, 200, query);
    const want = Buffer.from(renderFiniteGif(second(), 3, face));
    assert.ok(r.body.equals(want), `${query}: the URL's GIF is renderFiniteGif of the face`);
    const cli = renderCli(['--from', iso, '--seconds', '3', ...flags, '--out', '-']);
    assert.is(cli.status, 0, cli.stderr);
    assert.ok(cli.stdout.equals(want), `${query}: render ${flags.join(' ')} writes the same bytes`);
    assert.equal(secondsShown(r.body, second() - 1, second() + 4, face), [second(), second() + 1, second() + 2], `${query}: the face's pixels`);
    const g = decodeGifuct(r.body);
    assert.equal([g.width, g.height], [faceSize(face).width, faceSize(face).height]);
  }
  await drainAll();
});

test('embedding :: a bad value of each option is a 400 naming it and its values', async () => {
  const { inst, port } = await startTest([], clock);
  const bad: Record<string, string[]> = { tz: ['Mars/Base', '', 'a%ZZ', '..%2F..%2Fetc'], h12: ['yes', '2', 'on'], scale: ['0', '9', '10', '', '3.0'], theme: ['blue', '', 'DARK'] };
  for (const o of FACE_OPTIONS) {
    for (const v of bad[o.name]!) {
      for (const target of [`/time.gif?${o.name}=${v}`, `/time.gif?seconds=5&${o.name}=${v}`]) {
        const r = await get(port, target);
        assert.is(r.status, 400, target);
        assert.is(r.body.toString(), `${o.name}: use ${o.values}\n`, target);
      }
    }
  }
  assert.is(inst.app.viewers, 0);
  await drainAll();
});

test('embedding :: theme=light reaches the live stream: its palette, the same layout', async () => {
  const { port } = await startTest([], clock);
  const c = await RawClient.open(port);
  c.send('GET /time.gif?theme=light&tz=Asia/Tokyo HTTP/1.1\r\nHost: localhost\r\n\r\n');
  await c.until(() => c.headEnd > 0 && c.data.length > c.headEnd + 100, 3000, 'the intro');
  const light = { ...DEFAULT_FACE, tz: 'Asia/Tokyo', theme: 'light' as const };
  const body = Buffer.concat([c.data.subarray(c.headEnd), Buffer.from([0x3b])]);
  const g = decodeOmggif(body);
  assert.equal([g.width, g.height], [faceSize(light).width, faceSize(light).height], 'the size of every face at scale 3, 24 h');
  assert.is(firstDifference(g.frames[0]!.rgba, faceRgba(second(), light)), -1, 'the keyframe in the light palette');
  assert.ok(body.subarray(13, 13 + 12).equals(Buffer.from(paletteFor(light))), 'the global colour table is the light palette');
  c.close();
  await drainAll();
});

test('embedding :: faces are bounded: MAX_CHANNELS distinct faces stream, the next is a 503 with Retry-After', async () => {
  const { inst, port } = await startTest([], clock);
  // MAX_CHANNELS_PER_IP faces per address, from as many loopback addresses as it takes.
  const faces: string[] = [];
  for (const theme of ['dark', 'light']) for (let scale = MIN_SCALE; scale <= MAX_SCALE; scale++) for (const h12 of ['0', '1']) for (const tz of ['Asia/Tokyo', 'Europe/Berlin', 'Asia/Kolkata']) faces.push(`tz=${tz}&h12=${h12}&scale=${scale}&theme=${theme}`);
  assert.ok(faces.length >= MAX_CHANNELS);
  const held: RawClient[] = [];
  for (let i = 0; i < MAX_CHANNELS - 1; i++) {
    const c = await RawClient.open(port, `127.0.${10 + Math.floor(i / MAX_CHANNELS_PER_IP)}.1`);
    c.send(`GET /time.gif?${faces[i]} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
    held.push(c);
  }
  await Promise.all(held.map((c) => c.until(() => c.status === 200, 5000, 'a stream')));
  assert.is(inst.app.channels.channels.size, MAX_CHANNELS, 'the pinned default face and MAX_CHANNELS - 1 others');
  const over = await get(port, `/time.gif?${faces[MAX_CHANNELS]}`, '127.0.99.1');
  assert.is(over.status, 503);
  assert.match(over.head, 'Retry-After: ');
  assert.match(over.head, 'Content-Type: image/gif');
  assert.is(inst.app.metrics.rejects.get('max-channels'), 1);
  const same = await RawClient.open(port, '127.0.99.2');
  same.send(`GET /time.gif?${faces[0]} HTTP/1.1\r\nHost: localhost\r\n\r\n`);
  await same.until(() => same.status === 200, 3000, 'a face already live');
  assert.is(same.status, 200, 'a face already live still streams');
  for (const c of [...held, same]) c.close();
  await drainAll();
});

test('embedding :: render --loop writes the NETSCAPE2.0 extension (forever, or N more times); decoders read it', () => {
  const from = '2026-12-31T12:00:00Z'; // deltas without transparency here, so gif2rgb's canvas is the clock too
  const once = renderCli(['--from', from, '--seconds', '3', '--out', '-']);
  const forever = renderCli(['--from', from, '--seconds', '3', '--loop', '--out', '-']);
  const thrice = renderCli(['--from', from, '--seconds', '3', '--loop=3', '--out', '-']);
  for (const r of [once, forever, thrice]) assert.is(r.status, 0, r.stderr);
  const ext = (n: number): Buffer => Buffer.from([0x21, 0xff, 0x0b, ...Buffer.from('NETSCAPE2.0'), 3, 1, n & 255, n >> 8, 0]);
  assert.not.ok(once.stdout.includes(Buffer.from('NETSCAPE2.0')), 'no --loop: plays once');
  assert.is(forever.stdout.indexOf(ext(0)), 13 + 12, 'right after the global colour table, count 0');
  assert.is(thrice.stdout.indexOf(ext(3)), 13 + 12, 'count 3');
  assert.ok(Buffer.concat([once.stdout.subarray(0, 25), ext(0), once.stdout.subarray(25)]).equals(forever.stdout), 'nothing else changes');
  assert.is(decodeOmggif(forever.stdout).loopCount, 0, 'omggif: forever');
  assert.is(decodeOmggif(thrice.stdout).loopCount, 3, 'omggif: 3');
  assert.is(decodeOmggif(once.stdout).loopCount, null, 'omggif: no loop');
  const { width, height } = faceSize(DEFAULT_FACE);
  for (const d of cliDecoders()) {
    if (!toolPresent(d.missing, d.name)) continue;
    const last = d.decodeRgb(forever.stdout, width, height).at(-1)!;
    assert.is(firstDifference(last, rgbaToRgb(faceRgba(Date.parse(from) / 1000 + 2))), -1, `${d.name} decodes the looping file`);
  }
});

test('embedding :: README has the option table and the size table as the code builds them', () => {
  assert.ok(README.includes(faceOptionsMarkdown() + '\n'), `README lacks the option table:\n${faceOptionsMarkdown()}`);
  const rows = ['| scale | 24 h | 12 h |', '|---|---|---|'];
  for (let scale = MIN_SCALE; scale <= MAX_SCALE; scale++) {
    const a = faceSize({ ...DEFAULT_FACE, scale }), b = faceSize({ ...DEFAULT_FACE, scale, hour12: true });
    rows.push(`| ${scale} | ${a.width} × ${a.height} | ${b.width} × ${b.height} |`);
  }
  assert.ok(README.includes(rows.join('\n') + '\n'), `README lacks the size table:\n${rows.join('\n')}`);
  const help = renderCli(['--help']);
  assert.is(help.status, 0);
  for (const o of FACE_OPTIONS) assert.match(help.stdout.toString(), `--${o.name}`, `render --help lists --${o.name}`);
  assert.match(help.stdout.toString(), '--loop');
});

test('embedding :: the page\'s one inline script parses (a snippet string must not end it early)', () => {
  const closes = PAGE_HTML.match(/<\/script>/gi) ?? [];
  assert.is(closes.length, 1, 'one </script>: the snippets write theirs as <\\/script>');
  const js = PAGE_HTML.slice(PAGE_HTML.indexOf('<script>') + 8, PAGE_HTML.lastIndexOf('</script>'));
  assert.not.throws(() => new Function(js), 'the script is valid JavaScript');
  for (const o of FACE_OPTIONS) assert.match(PAGE_HTML, `id="${o.name}"`, `the picker has ${o.name}`);
});

test.after.each(drainAll);
test.run();
