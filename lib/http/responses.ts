// Canned answers, rebuilt once per second (they carry the Date) so that answering anything but the stream
// is one write of a shared Buffer. Indexed by (name, keep-alive, HEAD).

import { buildHead, buildResponse, httpDate } from './canned.js';
import { encodeGif } from '../../encoder/gif.js';
import { PAGE_HTML, ROBOTS_TXT } from './page.js';
import { MAX_FINITE_SECONDS, RETRY_AFTER_S } from '../core/limits.js';
import { faceOption, type FaceOption } from '../face/options.js';
import type { CannedName, StreamMode } from './routes.js';
import { MULTIPART_CONTENT_TYPE } from '../stream/multipart.js';

interface Body {
  status: number;
  contentType?: string;
  body: Uint8Array | string;
  headers?: [string, string][];
}

/** 16x16 clock icon: a ring and two hands, drawn once. */
function faviconGif(): Uint8Array {
  const n = 16;
  const px = new Uint8Array(n * n);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const d = Math.hypot(x - 7.5, y - 7.5);
      px[y * n + x] = d > 7.9 ? 0 : d > 6.3 ? 2 : 1;
    }
  for (let i = 2; i <= 7; i++) px[(8 - i) * n + 8] = 2; // minute hand up
  for (let i = 0; i <= 4; i++) px[8 * n + 8 + i] = 2; // hour hand right
  const palette = new Uint8Array([0x10, 0x14, 0x18, 0xf0, 0xf4, 0xf8, 0x3c, 0x9c, 0xff, 0, 0, 0]);
  return encodeGif({ width: n, height: n, palette }, [
    { left: 0, top: 0, width: n, height: n, indices: px, delayCs: 0, disposal: 0, transparentIndex: 0 },
  ]);
}

/** A 1x1 grey GIF: what an <img> shows when the server is full (503). */
function busyGif(): Uint8Array {
  return encodeGif({ width: 1, height: 1, palette: new Uint8Array([0x80, 0x80, 0x80, 0, 0, 0]) }, [
    { left: 0, top: 0, width: 1, height: 1, indices: new Uint8Array(1), delayCs: 0, disposal: 0 },
  ]);
}

const TEXT = 'text/plain; charset=utf-8';
const NO_STORE: [string, string] = ['Cache-Control', 'no-store'];

/** 400 for a bad value of a picture option: names it and its values, from the option table. */
function badOption(name: FaceOption['name']): Body {
  const o = faceOption(name)!;
  return { status: 400, contentType: TEXT, body: `${o.name}: use ${o.values}\n` };
}

function bodies(): Record<CannedName, Body> {
  return {
    'page': { status: 200, contentType: 'text/html; charset=utf-8', body: PAGE_HTML, headers: [['Cache-Control', 'no-cache']] },
    'robots': { status: 200, contentType: TEXT, body: ROBOTS_TXT, headers: [['Cache-Control', 'max-age=86400']] },
    'favicon': { status: 200, contentType: 'image/gif', body: faviconGif(), headers: [['Cache-Control', 'max-age=604800']] },
    'healthz': { status: 200, contentType: TEXT, body: 'ok\n', headers: [NO_STORE] },
    'not-found': { status: 404, contentType: TEXT, body: 'not found\n' },
    'misdirected': { status: 421, contentType: TEXT, body: 'misdirected request\n' },
    'method-not-allowed': { status: 405, contentType: TEXT, body: 'method not allowed\n', headers: [['Allow', 'GET, HEAD']] },
    'bad-tz': badOption('tz'),
    'bad-h12': badOption('h12'),
    'bad-scale': badOption('scale'),
    'bad-theme': badOption('theme'),
    'bad-stream': { status: 400, contentType: TEXT, body: 'stream: use gif or multipart\n' },
    'bad-seconds': { status: 400, contentType: TEXT, body: `seconds: use a whole number from 1 to ${MAX_FINITE_SECONDS}\n` },
    'bad-loop': { status: 400, contentType: TEXT, body: 'loop: use 0 (repeat forever) or a number of repeats from 1 to 65535\n' },
    'redirect-https': { status: 308, contentType: TEXT, body: 'use https\n' },
    'busy': {
      status: 503,
      contentType: 'image/gif',
      body: busyGif(),
      headers: [['Retry-After', String(RETRY_AFTER_S)], ['Cache-Control', 'no-cache, no-store, no-transform']],
    },
  };
}

/** Errors of the request itself: always `Connection: close`. */
export type FaultName = 'bad-request' | 'too-large' | 'uri-too-long' | 'bad-version' | 'timeout';
const FAULTS: Record<FaultName, number> = { 'bad-request': 400, 'too-large': 431, 'uri-too-long': 414, 'bad-version': 505, 'timeout': 408 };

/**
 * Extra headers of a finite GIF (`?seconds=N`): cached by nobody, since it starts at "now": no-store for caches and
 * mail proxies that honour it, an Expires in the past and Pragma for the HTTP/1.0 ones that only read those.
 */
export const FINITE_HEADERS: [string, string][] = [
  ['Cache-Control', 'no-cache, no-store, no-transform'],
  ['Expires', 'Thu, 01 Jan 1970 00:00:00 GMT'],
  ['Pragma', 'no-cache'],
];

/** Headers of a stream answer by mode; both vary with the User-Agent (it picks the mode). */
const STREAM_HEADERS: Record<StreamMode, [string, string][]> = {
  gif: [
    ['Content-Type', 'image/gif'],
    ['Cache-Control', 'no-cache, no-store, no-transform'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Vary', 'User-Agent'],
  ],
  multipart: [
    ['Content-Type', MULTIPART_CONTENT_TYPE],
    ['Cache-Control', 'no-cache, no-store, no-transform'],
    ['X-Content-Type-Options', 'nosniff'],
    ['Vary', 'User-Agent'],
  ],
};

export class Responses {
  /** The second the tick says it is, and the second the table was built for (built on first use). */
  private second = -1;
  private builtFor = -1;
  private readonly bodies = bodies();
  private readonly names = Object.keys(this.bodies) as CannedName[];
  /** name → [close, close+HEAD, keep-alive, keep-alive+HEAD]: looked up per request without allocating. */
  private readonly table = new Map<string, Buffer[]>();
  private date = '';
  private heads: Record<StreamMode, Buffer> = { gif: Buffer.alloc(0), multipart: Buffer.alloc(0) };

  constructor(unixSeconds: number) {
    this.refresh(unixSeconds);
  }

  get dateString(): string {
    this.build();
    return this.date;
  }

  /** `HTTP/1.1 200` head of a stream: no Content-Length, no chunking, Connection: close. */
  streamHead(mode: StreamMode = 'gif'): Buffer {
    this.build();
    return this.heads[mode];
  }

  /** A new second (from the clock's tick). The table is rebuilt lazily, so an idle server builds nothing. */
  refresh(unixSeconds: number): void {
    this.second = unixSeconds;
  }

  /** A few dozen small buffers, once per second at most, and only in seconds that answer something. */
  private build(): void {
    if (this.builtFor === this.second) return;
    this.builtFor = this.second;
    const date = (this.date = httpDate(this.second));
    this.table.clear();
    for (const name of this.names) {
      const b = this.bodies[name];
      const variants: Buffer[] = [];
      for (const keepAlive of [false, true]) {
        const o = { keepAlive, contentType: b.contentType, body: b.body, headers: b.headers };
        variants.push(buildResponse(b.status, date, o), buildHead(b.status, date, o));
      }
      this.table.set(name, variants);
    }
    for (const [name, status] of Object.entries(FAULTS)) {
      const r = buildResponse(status, date, { keepAlive: false, contentType: TEXT, body: `${name}\n` });
      this.table.set(name, [r, r, r, r]);
    }
    this.heads = { gif: streamHead(date, 'gif'), multipart: streamHead(date, 'multipart') };
  }

  get(name: CannedName, keepAlive: boolean, head: boolean): Buffer {
    if (this.builtFor !== this.second) this.build();
    return this.table.get(name)![(keepAlive ? 2 : 0) + (head ? 1 : 0)]!;
  }

  fault(name: FaultName): Buffer {
    this.build();
    return this.table.get(name)![0]!;
  }

  /** A redirect carries the request's own host and path: built per request (rare, and bounded by the parser). */
  redirect(host: string, target: string, keepAlive: boolean, head: boolean): Buffer {
    this.build();
    const b = this.bodies['redirect-https'];
    const o = { keepAlive, contentType: b.contentType, body: b.body, headers: [['Location', `https://${host}${target}`]] as [string, string][] };
    return head ? buildHead(b.status, this.date, o) : buildResponse(b.status, this.date, o);
  }

  body(name: CannedName): Body {
    return this.bodies[name];
  }
}

function streamHead(date: string, mode: StreamMode): Buffer {
  let s = 'HTTP/1.1 200 OK\r\n';
  s += `Date: ${date}\r\nServer: timegif\r\n`;
  for (const [k, v] of STREAM_HEADERS[mode]) s += `${k}: ${v}\r\n`;
  s += 'Connection: close\r\n\r\n';
  return Buffer.from(s, 'latin1');
}

export { STREAM_HEADERS };
