// Three real browser engines behind one small interface, for the end-to-end specs:
// - Chromium (Debian's /usr/bin/chromium) through playwright-core;
// - Firefox ESR (/usr/bin/firefox-esr), headless, over WebDriver BiDi through puppeteer-core;
// - WebKitGTK's MiniBrowser through WebKitWebDriver (classic W3C WebDriver over HTTP, spoken here with undici),
//   on a private Xvfb display.
// A tab never waits for the window `load` event: a page with an endless <img> never fires it.

import { spawn, type ChildProcess } from 'node:child_process';
import { request } from 'undici';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { filesMissing } from '../tools.js';
import { crop, decodePng, freePort, sleep, type Rgba } from '../helpers.js';

export interface Tab {
  /** Navigate; resolves once the document is parsed (never waits for `load`). */
  goto(url: string): Promise<void>;
  /** What the first element matching `selector` shows, waiting up to 5 s for it to exist. */
  screenshot(selector: string): Promise<Rgba>;
  /** The value of a JavaScript expression in the page. */
  evaluate<T>(expression: string): Promise<T>;
  close(): Promise<void>;
}

export interface Browser {
  newTab(): Promise<Tab>;
  close(): Promise<void>;
}

export interface Engine {
  name: 'chromium' | 'firefox' | 'webkit';
  /** Null when installed, else what is missing and how to install it. */
  missing: string | null;
  launch(): Promise<Browser>;
}

const CHROMIUM = '/usr/bin/chromium';
const FIREFOX = '/usr/bin/firefox-esr';
const WEBKIT_DRIVER = '/usr/bin/WebKitWebDriver';
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';
const XVFB = '/usr/bin/Xvfb';
const VIEWPORT = { width: 900, height: 600 };

const CHROMIUM_ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--ignore-certificate-errors',
];

/** Up to three tries: the element may be replaced between finding it and taking its picture (the page swaps it). */
async function retrying<T>(f: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

async function launchChromium(): Promise<Browser> {
  const b = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30_000 });
  return {
    async newTab() {
      const ctx = await b.newContext({ viewport: VIEWPORT, ignoreHTTPSErrors: true });
      const page = await ctx.newPage();
      return {
        goto: async (url) => void (await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 10_000 })),
        screenshot: (sel) => retrying(async () => decodePng(await page.locator(sel).first().screenshot({ type: 'png', timeout: 5000 }))),
        evaluate: (expr) => page.evaluate(expr),
        close: () => ctx.close(),
      };
    },
    close: () => b.close(),
  };
}

async function launchFirefox(): Promise<Browser> {
  const b = await puppeteer.launch({
    browser: 'firefox', executablePath: FIREFOX, headless: true, acceptInsecureCerts: true, timeout: 60_000,
    extraPrefsFirefox: { 'network.captive-portal-service.enabled': false, 'app.update.enabled': false },
  });
  return {
    async newTab() {
      const page = await b.newPage();
      await page.setViewport(VIEWPORT);
      return {
        goto: async (url) => void (await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 10_000 })),
        screenshot: (sel) => retrying(async () => {
          const el = await page.waitForSelector(sel, { timeout: 5000 });
          return decodePng(Buffer.from(await el!.screenshot({ type: 'png' })));
        }),
        evaluate: (expr) => page.evaluate(expr) as Promise<never>,
        close: () => page.close(),
      };
    },
    close: () => b.close(),
  };
}

// ---- WebKitGTK over classic WebDriver ----------------------------------------------------------------------

/** An Xvfb server on a free display (it names the display on fd 3). */
function startXvfb(): Promise<{ display: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(XVFB, ['-displayfd', '3', '-screen', '0', '1280x800x24', '-nolisten', 'tcp'], { stdio: ['ignore', 'ignore', 'ignore', 'pipe'] });
    let out = '';
    proc.stdio[3]!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ display: `:${out.trim()}`, proc });
    });
    proc.once('exit', (code) => reject(new Error(`Xvfb exited (${code}) before naming a display`)));
  });
}

class WebDriverError extends Error {}

async function launchWebKit(): Promise<Browser> {
  const x = await startXvfb();
  const port = await freePort();
  const driver = spawn(WEBKIT_DRIVER, [`--port=${port}`, '--host=127.0.0.1'], { env: { ...process.env, DISPLAY: x.display }, stdio: 'ignore' });
  // Whatever happens to the spec, the display and the driver (which ends its browsers) go with it.
  const kill = (): void => {
    driver.kill();
    x.proc.kill();
  };
  process.once('exit', kill);
  const base = `http://127.0.0.1:${port}`;
  const call = async (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<any> => {
    const res = await request(base + path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      headersTimeout: 30_000,
      bodyTimeout: 30_000,
    });
    const json = (await res.body.json()) as { value: any };
    if (res.statusCode !== 200) throw new WebDriverError(`WebDriver ${method} ${path}: ${res.statusCode} ${JSON.stringify(json.value).slice(0, 300)}`);
    return json.value;
  };
  // The driver listens a moment after it starts.
  for (let i = 0; ; i++) {
    try {
      await call('GET', '/status');
      break;
    } catch (err) {
      if (i > 100) throw err;
      await sleep(50);
    }
  }
  return {
    async newTab() {
      const caps = {
        capabilities: {
          alwaysMatch: {
            'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
            pageLoadStrategy: 'none',
            acceptInsecureCerts: true,
          },
        },
      };
      const { sessionId } = await call('POST', '/session', caps);
      const s = `/session/${sessionId}`;
      await call('POST', `${s}/window/rect`, { width: VIEWPORT.width, height: VIEWPORT.height });
      const find = async (sel: string): Promise<string> => {
        const until = Date.now() + 5000;
        for (;;) {
          try {
            const el = await call('POST', `${s}/element`, { using: 'css selector', value: sel });
            const id = el?.['element-6066-11e4-a52e-4f735466cecf'];
            if (typeof id !== 'string') throw new WebDriverError(`webkit: no element id in ${JSON.stringify(el)}`);
            return id;
          } catch (err) {
            if (Date.now() > until) throw err;
            await sleep(50);
          }
        }
      };
      return {
        async goto(url) {
          await call('POST', `${s}/url`, { url });
          const until = Date.now() + 10_000;
          // With pageLoadStrategy none the old document may still be unloading: a script there fails with
          // "no such frame"; ask again until the new one answers.
          const state = (): Promise<string> =>
            call('POST', `${s}/execute/sync`, { script: 'return document.readyState', args: [] }).catch((err: Error) => {
              if (err instanceof WebDriverError && err.message.includes('no such frame')) return 'loading';
              throw err;
            });
          while ((await state()) === 'loading') {
            if (Date.now() > until) throw new Error(`webkit: ${url} still loading after 10 s`);
            await sleep(50);
          }
        },
        // WebKitGTK's element screenshot comes back black under Xvfb, its window screenshot does not: crop that.
        screenshot: (sel) => retrying(async () => {
          const r = await call('GET', `${s}/element/${await find(sel)}/rect`);
          const shot = decodePng(Buffer.from(await call('GET', `${s}/screenshot`), 'base64'));
          return crop(shot, r.x, r.y, r.width, r.height);
        }),
        evaluate: (expr) => call('POST', `${s}/execute/sync`, { script: `return (${expr})`, args: [] }),
        close: async () => void (await call('DELETE', s)),
      };
    },
    async close() {
      kill();
      process.off('exit', kill);
    },
  };
}

/** Every engine, or those named in E2E_ENGINES (comma-separated, e.g. `E2E_ENGINES=webkit`) for a quicker run by hand. */
const ONLY = process.env.E2E_ENGINES?.split(',') ?? null;
export const ENGINES: Engine[] = ([
  { name: 'chromium', missing: filesMissing([CHROMIUM], 'apt-get install chromium'), launch: launchChromium },
  { name: 'firefox', missing: filesMissing([FIREFOX], 'apt-get install firefox-esr'), launch: launchFirefox },
  {
    name: 'webkit',
    missing: filesMissing([WEBKIT_DRIVER, MINIBROWSER, XVFB], 'apt-get install webkit2gtk-driver xvfb'),
    launch: launchWebKit,
  },
] satisfies Engine[]).filter((e) => ONLY === null || ONLY.includes(e.name));
