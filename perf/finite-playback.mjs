// How each browser engine plays a finite GIF (`?seconds=N`): which frame it shows over time, per variant. Not a
// speed bench but a measurement README relies on: WebKit decodes small animated images synchronously at paint and
// reads each frame's duration before that frame is decoded (zero), so it runs through the first pass at paint rate;
// an image above 25,600 pixels (100 KiB of RGBA), or an <img decoding="async">, is decoded ahead and plays at 1 s
// a frame. Uses the e2e harness (spec/e2e/engines.ts, built into dist/). NO_RESULTS=1 prints only.
//   make -C perf finite-playback [FRAMES=10]
import { createServer } from 'node:http';
import { ENGINES } from '../dist/spec/e2e/engines.js';
import { secondInScreenshot, sleep } from '../dist/spec/helpers.js';
import { machine, record } from './common.mjs';
import { renderFiniteGif } from '../dist/lib/face/render.js';
import { DEFAULT_FACE, faceSize } from '../dist/lib/face/face.js';

const N = Number(process.env.FRAMES ?? 10);
const FROM = 1_800_000_000;
const VARIANTS = [
  { name: 'scale 3 (8,415 px)', face: DEFAULT_FACE, attr: '' },
  { name: 'scale 3, decoding="async"', face: DEFAULT_FACE, attr: 'decoding="async"' },
  { name: 'scale 5, 24 h (25,245 px)', face: { ...DEFAULT_FACE, scale: 5 }, attr: '' },
  { name: 'scale 5, 12 h (28,215 px)', face: { ...DEFAULT_FACE, scale: 5, hour12: true }, attr: '' },
  { name: 'scale 6 (37,026 px)', face: { ...DEFAULT_FACE, scale: 6 }, attr: '' },
];

/** Screenshots until the last frame has shown a while: [ms since the first picture, frame index] at each change. */
async function play(tab, face) {
  const samples = [];
  const t0 = Date.now();
  let first = -1;
  while (Date.now() - t0 < (N + 4) * 1000) {
    const k = secondInScreenshot(await tab.screenshot('#c'), FROM, FROM + N - 1, face) - FROM;
    const t = Date.now();
    if (k >= 0 && first < 0) first = t;
    if (k >= 0 && (samples.length === 0 || samples.at(-1)[1] !== k)) samples.push([t - first, k]);
    if (k === N - 1 && t - first > 1500 + (samples.at(-1)?.[0] ?? 0)) break;
    await sleep(60);
  }
  return samples;
}

const rows = [];
for (const engine of ENGINES) {
  if (engine.missing) {
    console.log(`${engine.name}: skipped (${engine.missing})`);
    continue;
  }
  const browser = await engine.launch();
  try {
    for (const v of engine.name === 'webkit' ? VARIANTS : VARIANTS.slice(0, 1)) {
      const gif = Buffer.from(renderFiniteGif(FROM, N, v.face));
      const server = createServer((req, res) => {
        if (req.url.startsWith('/c.gif')) {
          res.writeHead(200, { 'content-type': 'image/gif', 'content-length': gif.length, 'cache-control': 'no-store' });
          res.end(gif);
        } else {
          res.writeHead(200, { 'content-type': 'text/html' });
          res.end(`<!doctype html><body style="margin:0"><img id=c ${v.attr} src="/c.gif?${Date.now()}" style="display:block;margin:10px"></body>`);
        }
      });
      await new Promise((r) => server.listen(0, '127.0.0.1', r));
      const tab = await browser.newTab();
      await tab.goto(`http://127.0.0.1:${server.address().port}/`);
      const samples = await play(tab, v.face);
      await tab.close();
      server.close();
      const last = samples.find((s) => s[1] === N - 1);
      const { width, height } = faceSize(v.face);
      rows.push(`| ${engine.name} | ${v.name}, ${width} × ${height} | ${last ? (last[0] / 1000).toFixed(2) : 'never'} s | ${samples.map(([t, k]) => `${k}@${(t / 1000).toFixed(1)}`).join(' ')} |`);
      console.log(rows.at(-1));
    }
  } finally {
    await browser.close();
  }
}
record([
  '',
  `## Finite GIF playback by engine (${new Date().toISOString()})`,
  '',
  `\`make -C perf finite-playback FRAMES=${N}\` · ${machine()}`,
  '',
  `A ${N}-frame GIF with 1 s delays: in real time its last frame shows ${N - 1} s after the first.`,
  '',
  '| engine | picture | last frame after the first | frame@seconds at each change |',
  '| --- | --- | --- | --- |',
  ...rows,
  '',
]);
process.exit(0);
