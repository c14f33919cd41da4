// Path → what to answer. Pure and transport-agnostic: HTTP/1 (conn.ts) and HTTP/2 (http2.ts) both ask
// `route()` and carry out the answer their own way. Junk ends here cheaply: a name from the canned set.

import { canonicalTimeZone, DEFAULT_FACE, type FaceOptions } from './face.js';

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
}

/** Names of canned answers (see responses.ts). */
export type CannedName =
  | 'page' | 'robots' | 'healthz' | 'not-found' | 'misdirected' | 'method-not-allowed' | 'bad-tz'
  | 'redirect-https' | 'busy' | 'favicon';

export type Route =
  | { kind: 'stream'; face: FaceOptions }
  | { kind: 'canned'; name: CannedName; status: number; junk: string | null }
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
const BAD_TZ = canned('bad-tz', 400, 'bad-tz');
const PAGE = canned('page', 200);
const ROBOTS = canned('robots', 200);
const HEALTHZ = canned('healthz', 200);
const REDIRECT = canned('redirect-https', 308);
const FAVICON = canned('favicon', 200);
const METRICS: Route = { kind: 'metrics' };
const UTC_STREAM: Route = { kind: 'stream', face: DEFAULT_FACE };

export function route(req: RequestInfo, ctx: RouteContext): Route {
  if (ctx.hosts.size > 0 && (req.host === null || !ctx.hosts.has(req.host))) return UNKNOWN_HOST;
  if (req.method !== 'GET' && req.method !== 'HEAD') return METHOD;
  switch (req.path) {
    case '/time.gif': {
      if (req.query === '') return UTC_STREAM;
      const face = faceFromQuery(req.query);
      return face === null ? BAD_TZ : face === DEFAULT_FACE ? UTC_STREAM : { kind: 'stream', face };
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

/**
 * `tz=Europe/Berlin` (also `%2F`), `h12=1`. Unknown parameters are ignored (the page adds `r=` to defeat
 * caches). Returns null for a zone Intl does not know.
 */
export function faceFromQuery(query: string): FaceOptions | null {
  let tz: string | null = null;
  let hour12 = false;
  for (const part of query.split('&', 8)) {
    const eq = part.indexOf('=');
    const k = eq < 0 ? part : part.slice(0, eq);
    const v = eq < 0 ? '' : part.slice(eq + 1);
    if (k === 'tz') {
      let name: string;
      try {
        name = decodeURIComponent(v.replace(/\+/g, ' '));
      } catch {
        return null;
      }
      tz = canonicalTimeZone(name);
      if (tz === null) return null;
    } else if (k === 'h12') hour12 = v === '1' || v === 'true' || v === '';
  }
  if ((tz === null || tz === DEFAULT_FACE.tz) && hour12 === DEFAULT_FACE.hour12) return DEFAULT_FACE;
  return { ...DEFAULT_FACE, tz: tz ?? DEFAULT_FACE.tz, hour12 };
}
