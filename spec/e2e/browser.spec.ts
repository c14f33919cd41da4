// Many streams on one HTTP/2 connection in a real browser: headless Chromium (Debian's /usr/bin/chromium)
// driven by playwright-core. (The page and a plain <img> in all three engines: engines.spec.ts.)
// A streaming <img> cannot be read back through a canvas, so the specs take element screenshots and compare
// their pixels with renderFace of the second they show.
// Set E2E_SHOTS=DIR to keep the screenshots.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, writeFileSync } from 'node:fs';
import { filesMissing, specIf } from '../tools.js';
import { join } from 'node:path';
import { chromium, type Browser, type ElementHandle, type Page } from 'playwright-core';
import { TRANSPORT } from '../../lib/stream/viewer.js';
import { DEFAULT_FACE, faceSize } from '../../lib/face/face.js';
import { decodePng, makeCert, nowSecond, secondInScreenshot, sleep, startServer, waitFor, waitIdle, type CertFiles } from '../helpers.js';

const CHROMIUM = '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--ignore-certificate-errors',
];
const SHOTS = process.env.E2E_SHOTS ?? null;

let browser: Browser | null = null;
let cert: CertFiles | null = null;

/** Screenshot `img` and tell which second it shows (-1: none near now); saved under E2E_SHOTS if set. */
async function shownSecond(img: ElementHandle, label: string): Promise<{ second: number; before: number; after: number }> {
  const before = nowSecond();
  const png = await img.screenshot({ type: 'png' });
  const after = nowSecond();
  if (SHOTS !== null) {
    mkdirSync(SHOTS, { recursive: true });
    writeFileSync(join(SHOTS, `${label}-${Date.now()}.png`), png);
  }
  return { second: secondInScreenshot(decodePng(png), before - 2, after), before, after };
}

async function newPage(): Promise<Page> {
  const ctx = await browser!.newContext({ viewport: { width: 900, height: 600 }, ignoreHTTPSErrors: true });
  return ctx.newPage();
}

const missing = filesMissing([CHROMIUM], 'apt-get install chromium');
if (missing === null) {
  test.before(async () => {
    cert = makeCert(['localhost']);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
  });

  test.after(async () => {
    await browser?.close();
    cert?.remove();
  });
}

{
  specIf(missing, 'browser :: eight GIFs over h2 all advance on one TLS connection', async () => {
    const { inst, https } = await startServer([], cert);
    const page = await newPage();
    try {
      await page.goto(`${https}/`, { waitUntil: 'load', timeout: 10_000 });
      await page.waitForSelector('#clock', { timeout: 5000 });
      // Eight more images at twice the face's size (whole device pixels, so screenshots line up).
      const { width, height } = faceSize(DEFAULT_FACE);
      await page.evaluate(`for (let i = 0; i < 8; i++) {
        const img = document.createElement('img');
        img.className = 'extra';
        img.src = '/time.gif?r=' + i;
        img.style.cssText = 'display:block;image-rendering:pixelated;width:${width * 2}px;height:${height * 2}px';
        document.body.prepend(img);
      }`);
      await waitFor(() => inst.app.viewers === 9, 'the page’s stream and eight more', 8000);
      assert.is(inst.app.viewersByTransport[TRANSPORT.H2], 9, 'all nine streams over h2');
      const imgs = await page.$$('img.extra');
      assert.is(imgs.length, 8);
      const first: number[] = [];
      for (const [i, img] of imgs.entries()) {
        const { second } = await shownSecond(img, `h2-${i}`);
        assert.ok(second >= 0, `image ${i} shows a current second`);
        first.push(second);
      }
      await sleep(2100);
      for (const [i, img] of imgs.entries()) {
        const { second } = await shownSecond(img, `h2-${i}`);
        assert.ok(second >= first[i]! + 2, `image ${i} advanced: ${first[i]} → ${second}`);
      }
      assert.is(inst.app.metrics.connectionsAccepted, 1, 'one TLS connection');
      assert.is(inst.app.h2Sessions.size, 1);
      assert.is(inst.app.metrics.viewersStarted, 9, 'no image reconnected');
      // Leaving the page resets the nine streams; the connection stays in the browser's pool until it closes.
      await page.goto('about:blank');
      await waitFor(() => inst.app.viewers === 0, 'streams reset on navigation');
      assert.is(inst.app.connections, 1, 'the h2 connection is still pooled');
      await page.context().close();
      await waitIdle(inst);
    } finally {
      await page.context().close();
      await inst.drain();
    }
  });
}

test.run();
