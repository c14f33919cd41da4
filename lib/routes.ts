// Path → what to answer. Pure and transport-agnostic: HTTP/1 (conn.ts) and HTTP/2 (http2.ts) both ask
// `route()` and carry out the answer their own way. Junk ends here cheaply: a name from the canned set.

import { canonicalTimeZone, DEFAULT_FACE, MAX_SCALE, MIN_SCALE, type FaceOptions } from './face.js';
import { isWebKitEngine } from './multipart.js';
import { MAX_FINITE_SECONDS } from './limits.js';

export interface RequestInfo {
  method: string;
  path: string;
  query: string;
  /** Host / :authority, lower-case, port stripped; null when absent (HTTP/1.0). */
  host: string | null;
  /** Came over TLS. */
  secure: boolean;
  /** The peer may see /metrics and /healthz (loopback, or a matching bearer token). */
  trusted: boolean;
  /** User-Agent ('' when absent): picks the stream's mode (multipart for WebKit engines). */
  userAgent: string;
}

/** How a stream is carried: one endless GIF, or multipart/x-mixed-replace of one-frame GIFs (multipart.ts). */
export type StreamMode = 'gif' | 'multipart';

/** Names of canned answers (see responses.ts). */
export type CannedName =
  | 'page' | 'robots' | 'healthz' | 'not-found' | 'misdirected' | 'method-not-allowed' | 'bad-tz' | 'bad-h12' | 'bad-stream' | 'bad-seconds' | 'bad-scale'
  | 'redirect-https' | 'busy' | 'favicon';

export type Route =
  | { kind: 'stream'; face: FaceOptions; mode: StreamMode }
  | { kind: 'canned'; name: CannedName; status: number; junk: string | null }
  | { kind: 'finite'; face: FaceOptions; seconds: number }
  | { kind: 'metrics' };

export interface RouteContext {
  /** Accepted Host names; empty = any. */
  hosts: ReadonlySet<string>;
  redirectHttps: boolean;
}

const canned = (name: CannedName, status: number, junk: string | null = null): Route => ({ kind: 'canned', name, status, junk });
// Answers without per-request state are shared objects: routing junk allocates nothing.
const NOT_FOUND = canned('not-found', 404);
const JUNK_PATH = canned('not-found', 404, 'junk-path');
const ANNOUNCE = canned('not-found', 404, 'announce');
const UNKNOWN_HOST = canned('misdirected', 421, 'unknown-host');
const METHOD = canned('method-not-allowed', 405, 'method');
const BAD_PARAM: Record<BadParam, Route> = {
  tz: canned('bad-tz', 400, 'bad-tz'),
  h12: canned('bad-h12', 400, 'bad-h12'),
  stream: canned('bad-stream', 400, 'bad-stream'),
  seconds: canned('bad-seconds', 400, 'bad-seconds'),
  scale: canned('bad-scale', 400, 'bad-scale'),
};
const PAGE = canned('page', 200);
const ROBOTS = canned('robots', 200);
const HEALTHZ = canned('healthz', 200);
const REDIRECT = canned('redirect-https', 308);
const FAVICON = canned('favicon', 200);
const METRICS: Route = { kind: 'metrics' };
const UTC_GIF: Route = { kind: 'stream', face: DEFAULT_FACE, mode: 'gif' };
const UTC_MULTIPART: Route = { kind: 'stream', face: DEFAULT_FACE, mode: 'multipart' };

export function route(req: RequestInfo, ctx: RouteContext): Route {
  // Health checks and scrapes from trusted callers (loopback, the bearer token) work whatever Host they send.
  if (req.trusted && (req.method === 'GET' || req.method === 'HEAD')) {
    if (req.path === '/healthz') return HEALTHZ;
    if (req.path === '/metrics') return METRICS;
  }
  if (ctx.hosts.size > 0 && (req.host === null || !ctx.hosts.has(req.host))) return UNKNOWN_HOST;
  if (req.method !== 'GET' && req.method !== 'HEAD') return METHOD;
  switch (req.path) {
    case '/time.gif': {
      const q = req.query === '' ? NO_QUERY : parseStreamQuery(req.query);
      if (typeof q === 'string') return BAD_PARAM[q];
      if (q.seconds !== null) return { kind: 'finite', face: q.face, seconds: q.seconds };
      const mode = q.mode ?? (isWebKitEngine(req.userAgent) ? 'multipart' : 'gif');
      if (q.face === DEFAULT_FACE) return mode === 'gif' ? UTC_GIF : UTC_MULTIPART;
      return { kind: 'stream', face: q.face, mode };
    }
    case '/':
    case '/index.html':
      return ctx.redirectHttps && !req.secure ? REDIRECT : PAGE;
    case '/robots.txt':
      return ROBOTS;
    case '/favicon.ico':
      return FAVICON;
    case '/healthz':
      return req.trusted ? HEALTHZ : NOT_FOUND;
    case '/metrics':
      return req.trusted ? METRICS : NOT_FOUND;
    case '/announce':
    case '/scrape':
      return ANNOUNCE;
    default:
      return JUNK_PATH;
  }
}

/** A query parameter with a value we do not accept: answered 400 naming it. */
export type BadParam = 'tz' | 'h12' | 'stream' | 'seconds' | 'scale';

export interface StreamQuery {
  face: FaceOptions;
  /** Forced by `stream=`; null: chosen by User-Agent. */
  mode: StreamMode | null;
  /** `seconds=N`: a finite GIF of N seconds instead of a stream. */
  seconds: number | null;
}

const NO_QUERY: StreamQuery = { face: DEFAULT_FACE, mode: null, seconds: null };

/**
 * `tz=Europe/Berlin` (also `%2F`), `h12=1|true|0|false` (bare `h12` = on), `stream=gif|multipart`,
 * `seconds=1..3600` (a finite GIF), `scale=1..8` (pixel size of the digits). Unknown
 * parameters are ignored (the page adds `r=` to defeat caches); a bad value of a known one is named.
 * The default face is returned as DEFAULT_FACE itself.
 */
export function parseStreamQuery(query: string): StreamQuery | BadParam {
  let tz: string | null = null;
  let hour12 = false;
  let mode: StreamMode | null = null;
  let seconds: number | null = null;
  let scale = DEFAULT_FACE.scale;
  for (const part of query.split('&', 8)) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (k === 'tz') {
      let name: string;
      try {
        name = decodeURIComponent(v.replace(/\+/g, ' '));
      } catch {
        return 'tz';
      }
      tz = canonicalTimeZone(name);
      if (tz === null) return 'tz';
    } else if (k === 'h12') {
      if (v === '1' || v === 'true' || v === '') hour12 = true;
      else if (v === '0' || v === 'false') hour12 = false;
      else return 'h12';
    } else if (k === 'stream') {
      if (v === 'gif' || v === 'multipart') mode = v;
      else return 'stream';
    } else if (k === 'scale') {
      const n = v.length === 1 ? v.charCodeAt(0) - 0x30 : 0;
      if (n < MIN_SCALE || n > MAX_SCALE) return 'scale';
      scale = n;
    } else if (k === 'seconds') {
      const n = /^[1-9]\d{0,3}$/.test(v) ? Number(v) : 0;
      if (n < 1 || n > MAX_FINITE_SECONDS) return 'seconds';
      seconds = n;
    }
  }
  const face =
    (tz === null || tz === DEFAULT_FACE.tz) && hour12 === DEFAULT_FACE.hour12 && scale === DEFAULT_FACE.scale
      ? DEFAULT_FACE
      : { ...DEFAULT_FACE, tz: tz ?? DEFAULT_FACE.tz, hour12, scale };
  return { face, mode, seconds };
}
