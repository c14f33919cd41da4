// Every browser shows a live clock: Chromium, Firefox and WebKit each load a plain page from another origin with
// `<img src=…/time.gif>`; screenshots of the image must equal renderFace of the current second (at most one second
// behind) and advance. WebKit must have been given the multipart stream, the others the endless GIF. A deliberate
// end (shutdown) must leave the last picture on screen, not a broken image. The page `/` must show a live clock
// without reconnecting. Set E2E_SHOTS=DIR to keep the screenshots.

import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ENGINES, type Browser, type Tab } from './engines.js';
import { specIf } from '../tools.js';
import { encodePng, nowSecond, secondInScreenshot, sleep, startServer, waitFor } from '../helpers.js';

const SHOTS = process.env.E2E_SHOTS ?? null;

/** A page on its own origin whose markup holds the endless image (so the window `load` never fires). */
function pageServer(imgSrc: string): Promise<{ url: string; server: Server }> {
  const html = `<!doctype html><meta charset=utf-8><body style="margin:0;background:#fff">` +
    `<img id=clock src="${imgSrc}" alt="clock" style="display:block;margin:10px"></body>`;
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    res.end(html);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const a = server.address();
      resolve({ url: `http://localhost:${typeof a === 'object' && a !== null ? a.port : 0}/`, server });
    }),
  );
}

/** Which second a screenshot of `selector` shows (-1: none of the last few); `before` taken just before it. */
async function shown(tab: Tab, selector: string, label: string): Promise<{ second: number; before: number; after: number }> {
  const before = nowSecond();
  const shot = await tab.screenshot(selector);
  const after = nowSecond();
  if (SHOTS !== null) {
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(SHOTS, `${label}-${Date.now()}.png`), encodePng(shot));
  }
  return { second: secondInScreenshot(shot, before - 3, after), before, after };
}

/**
 * Screenshots for `ms` once the image first shows a picture (within 5 s): each must show a second at most one
 * behind the clock; returns the seconds seen.
 */
async function watch(tab: Tab, selector: string, label: string, ms: number): Promise<number[]> {
  const until = Date.now() + 5000;
  while ((await shown(tab, selector, label)).second < 0) {
    assert.ok(Date.now() < until, `${label}: no picture of a current second within 5 s`);
    await sleep(100);
  }
  const seen: number[] = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const { second, before, after } = await shown(tab, selector, label);
    assert.ok(second >= before - 1, `${label}: the picture is the keyframe of a second in ${before - 1}..${after} (got ${second === -1 ? 'none' : second})`);
    if (seen.length > 0) assert.ok(second >= seen[seen.length - 1]!, `${label}: never backwards: ${seen.join(',')},${second}`);
    seen.push(second);
    await sleep(200);
  }
  return seen;
}

for (const engine of ENGINES) {
  const s = suite(`e2e ${engine.name}`);
  let browser: Browser | null = null;
  const wantMode = engine.name === 'webkit' ? 'multipart' : 'gif';

  const registered = specIf(engine.missing, `${engine.name} :: <img src=/time.gif> on another origin: current second, advancing, ${wantMode}; a clean end keeps the picture`, async () => {
    const { inst, http } = await startServer();
    const page = await pageServer(`${http}/time.gif`);
    const tab = await browser!.newTab();
    try {
      await tab.goto(page.url);
      await waitFor(() => inst.app.viewers === 1, `${engine.name}'s stream`, 10_000);
      assert.is(inst.app.multipartViewers, wantMode === 'multipart' ? 1 : 0, `${engine.name} got the ${wantMode} stream`);
      const seen = await watch(tab, '#clock', `${engine.name}-img`, 6000);
      const distinct = new Set(seen).size;
      assert.ok(distinct >= 5, `${engine.name}: at least five seconds shown in ~6 s: ${[...new Set(seen)].join(',')}`);
      assert.is(inst.app.metrics.viewersStarted, 1, 'one request, no reconnect');
      // A deliberate end: the trailer (GIF) or a last part and the close delimiter (multipart).
      const last = nowSecond();
      await inst.drain();
      await sleep(700);
      const after = await shown(tab, '#clock', `${engine.name}-ended`);
      assert.ok(after.second >= last - 1 && after.second <= last + 1, `${engine.name}: after the end the image still shows the last second (${last}), got ${after.second}`);
    } finally {
      await tab.close().catch(() => undefined);
      page.server.close();
      await inst.drain();
    }
  }, s);

  specIf(engine.missing, `${engine.name} :: the page / shows a live clock and does not reconnect`, async () => {
    const { inst, http } = await startServer();
    const tab = await browser!.newTab();
    try {
      await tab.goto(`${http}/`);
      await waitFor(() => inst.app.viewers === 1, `${engine.name}'s page stream`, 10_000);
      const seen = await watch(tab, '#clock', `${engine.name}-page`, 4500);
      assert.ok(new Set(seen).size >= 4, `${engine.name}: the page's clock advances: ${seen.join(',')}`);
      assert.is(inst.app.metrics.viewersStarted, 1, `${engine.name}: the page kept its one stream`);
    } finally {
      await tab.close().catch(() => undefined);
      await inst.drain();
    }
  }, s);

  if (registered) {
    s.before(async () => {
      browser = await engine.launch();
    });
    s.after(async () => {
      await browser?.close();
    });
  }
  s.run();
}
