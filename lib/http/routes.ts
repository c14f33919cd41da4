// Path → what to answer. Pure and transport-agnostic: answer.ts asks `route()` for HTTP/1 (http1-conn.ts) and HTTP/2
// (http2.ts) alike, counts, and hands each the decision to write in its own framing. Junk ends here cheaply: a name from the canned set.

import { DEFAULT_FACE, type FaceOptions } from '../face/face.js';
import { defaultFace, faceOption, isDefaultFace } from '../face/options.js';
import { isWebKitEngine, type StreamMode } from '../stream/multipart.js';
import { MAX_FINITE_SECONDS } from '../core/limits.js';

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

export type { StreamMode };

/** Names of canned answers (see responses.ts). */
export type CannedName =
  | 'page' | 'robots' | 'healthz' | 'not-found' | 'misdirected' | 'method-not-allowed' | 'bad-tz' | 'bad-h12' | 'bad-stream' | 'bad-seconds' | 'bad-loop' | 'bad-scale' | 'bad-theme'
  | 'redirect-https' | 'busy' | 'favicon';

export type Route =
  | { kind: 'stream'; face: FaceOptions; mode: StreamMode }
  | { kind: 'canned'; name: CannedName; status: number; junk: string | null }
  | { kind: 'finite'; face: FaceOptions; seconds: number; loop: number | null }
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
  loop: canned('bad-loop', 400, 'bad-loop'),
  scale: canned('bad-scale', 400, 'bad-scale'),
  theme: canned('bad-theme', 400, 'bad-theme'),
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
      if (q.seconds !== null) return { kind: 'finite', face: q.face, seconds: q.seconds, loop: q.loop };
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
export type BadParam = 'tz' | 'h12' | 'stream' | 'seconds' | 'loop' | 'scale' | 'theme';

export interface StreamQuery {
  face: FaceOptions;
  /** Forced by `stream=`; null: chosen by User-Agent. */
  mode: StreamMode | null;
  /** `seconds=N`: a finite GIF of N seconds instead of a stream. */
  seconds: number | null;
  /** `loop=0|K` with seconds: the finite GIF repeats forever, or K more times (absent: it plays once). */
  loop: number | null;
}

const NO_QUERY: StreamQuery = { face: DEFAULT_FACE, mode: null, seconds: null, loop: null };
/** Most repeats `loop=` may ask for (the NETSCAPE2.0 count is 16 bits). */
const MAX_LOOP = 65535;
/** Parameters read from one query; the rest is ignored (a long query cannot cost more). */
const MAX_QUERY_PARAMS = 16;

/**
 * The picture's options (options.ts: `tz=Europe/Berlin` (also `%2F`), `h12`, `scale=1..8`, `theme=dark|light`),
 * then `stream=gif|multipart`, `seconds=1..3600` (a finite GIF) and `loop=0..65535` (how often it repeats; a stream
 * ignores it). Unknown parameters are ignored (the page adds
 * `r=` to defeat caches); a bad value of a known one is named. The default face is returned as DEFAULT_FACE itself.
 */
export function parseStreamQuery(query: string): StreamQuery | BadParam {
  let face: FaceOptions | null = null;
  let mode: StreamMode | null = null;
  let seconds: number | null = null;
  let loop: number | null = null;
  for (const part of query.split('&', MAX_QUERY_PARAMS)) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const raw = eq < 0 ? null : part.slice(eq + 1);
    if (k === 'stream') {
      if (raw === 'gif' || raw === 'multipart') mode = raw;
      else return 'stream';
    } else if (k === 'seconds') {
      const n = raw !== null && /^[1-9]\d{0,3}$/.test(raw) ? Number(raw) : 0;
      if (n < 1 || n > MAX_FINITE_SECONDS) return 'seconds';
      seconds = n;
    } else if (k === 'loop') {
      const n = raw !== null && /^(0|[1-9]\d{0,4})$/.test(raw) ? Number(raw) : -1;
      if (n < 0 || n > MAX_LOOP) return 'loop';
      loop = n;
    } else {
      const opt = faceOption(k);
      if (opt === undefined) continue;
      let v: string;
      if (raw === null || raw === '') {
        if (opt.bare === null) return opt.name;
        v = opt.bare;
      } else {
        try {
          v = decodeURIComponent(raw.replace(/\+/g, ' '));
        } catch {
          return opt.name;
        }
      }
      if (!opt.set((face ??= defaultFace()), v)) return opt.name;
    }
  }
  return { face: face === null || isDefaultFace(face) ? DEFAULT_FACE : face, mode, seconds, loop };
}
