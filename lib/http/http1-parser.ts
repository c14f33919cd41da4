// Resumable HTTP/1.x request-head parser (RFC 9112), strict like nginx in its strict modes.
//
// HOT PATH — every junk request on the internet goes through here; guarded by perf/parser-bench.mjs.
// Bytes are classified with lookup tables, never regexes. The only strings made are the results the server
// needs: the method (interned for the usual ones), the target, and the values of seven known fields
// (Host, Connection, Content-Length, Transfer-Encoding, User-Agent, Referer, Authorization). Field names
// are matched case-insensitively byte by byte, without a string per header.
//
// `execute(chunk)` may be called with any split of the input (even one byte at a time) and gives the same
// result: the position in the grammar lives in `state`; a value cut by a chunk boundary is carried over as a
// partial string (rare: only when a packet boundary falls inside a captured value).
// The head is bounded as it arrives: TOO_LARGE fires at the first byte past MAX_HEADER_BYTES, URI_TOO_LONG
// at the first target byte past MAX_TARGET_BYTES, not when the head ends.
// Bodies are not read: a request with one (Content-Length > 0 or Transfer-Encoding) is answered and closed.
// Pipelining: after DONE, the bytes from `consumed` on belong to the next request: reset(), then
// execute(chunk.subarray(consumed)).

import { MAX_HEADER_BYTES, MAX_HEADER_COUNT, MAX_TARGET_BYTES } from '../core/limits.js';
import { hasToken, normalizeHost, trimEnd } from './http1-fields.js';

/** Longest method token accepted; registered methods are at most 17 bytes (UPDATEREDIRECTREF). */
const MAX_METHOD_BYTES = 32;
/** Empty lines tolerated before the request line (RFC 9112 §2.2: at least one, after a previous body). */
const MAX_LEADING_EMPTY_LINES = 4;
/** User-Agent, Referer and Authorization are kept for logs and auth only: cut to this many bytes. */
const MAX_KEPT_VALUE_BYTES = 256;
/** Content-Length digits; 15 keeps the number exact in a double and is far past anything we accept. */
const MAX_CONTENT_LENGTH_DIGITS = 15;

export const PARSE = { NEED_MORE: 0, DONE: 1, BAD_REQUEST: 2, TOO_LARGE: 3, URI_TOO_LONG: 4, BAD_VERSION: 5, H2_PREFACE: 6 } as const;
export type ParseStatus = (typeof PARSE)[keyof typeof PARSE];

/** Why the parser stopped with an error status: stable codes for counters and logs ('' while fine). */
export type ParseReason =
  | ''
  | 'bad-request-line' // method, spaces or version syntax; too many leading empty lines
  | 'bad-target' // control or non-ASCII byte in the target, bad absolute-form, '*' without OPTIONS
  | 'uri-too-long'
  | 'bad-version' // HTTP/2.0, HTTP/3, HTTP/0.9 ... on an HTTP/1 connection
  | 'h2-preface'
  | 'bare-lf' // LF without CR (RFC 9112 §2.2 allows tolerating it; we do not)
  | 'bare-cr' // CR not followed by LF
  | 'nul-byte'
  | 'header-syntax' // field name not a token, whitespace before ':', no ':'
  | 'header-value' // control character in a field value
  | 'obs-fold' // line starting with SP/HTAB (RFC 9112 §5.2)
  | 'too-many-headers'
  | 'header-too-large'
  | 'missing-host'
  | 'duplicate-host'
  | 'bad-host'
  | 'bad-content-length'
  | 'te-and-cl'; // Transfer-Encoding together with Content-Length (RFC 9112 §6.1: smuggling)

// ---- byte classes ----------------------------------------------------------------------------------------
const C_TCHAR = 1; // token character, RFC 9110 §5.6.2
const C_VCHAR = 2; // visible ASCII 0x21-0x7E: request-target bytes
const C_FIELD = 4; // field-value byte: VCHAR, obs-text, SP, HTAB (RFC 9110 §5.5)
const CLASS = new Uint8Array(256);
const LOWER = new Uint8Array(256);
for (let b = 0; b < 256; b++) {
  LOWER[b] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  let c = 0;
  if (b >= 0x21 && b <= 0x7e) c |= C_VCHAR | C_FIELD;
  if (b >= 0x80 || b === 0x20 || b === 0x09) c |= C_FIELD;
  const alnum = (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a);
  if (alnum || "!#$%&'*+-.^_`|~".includes(String.fromCharCode(b))) c |= C_TCHAR;
  CLASS[b] = c;
}

const SP = 0x20, HTAB = 0x09, CR = 0x0d, LF = 0x0a, COLON = 0x3a, QMARK = 0x3f, SLASH = 0x2f, STAR = 0x2a;

// ---- states ----------------------------------------------------------------------------------------------
const S = {
  START: 0, // before the request line: method byte or an empty line
  START_LF: 1, // CR of an empty leading line seen
  METHOD: 2,
  TARGET_START: 3,
  TARGET: 4,
  VERSION: 5, // `vIdx` counts bytes of "HTTP/x.y"
  LINE_LF: 6, // CR ending the request line seen
  FIELD_START: 7, // start of a field line, or the CR of the empty line ending the head
  NAME: 8,
  OWS: 9, // after ':'
  VALUE: 10,
  VALUE_LF: 11,
  END_LF: 12,
  STOPPED: 13, // DONE or an error: execute() returns `status` until reset()
} as const;

// ---- fields we keep -------------------------------------------------------------------------------------
const F = { NONE: 0, HOST: 1, CONNECTION: 2, CONTENT_LENGTH: 3, TRANSFER_ENCODING: 4, USER_AGENT: 5, REFERER: 6, AUTHORIZATION: 7 } as const;
const MAX_KNOWN_NAME = 17; // 'transfer-encoding'
const ascii = (s: string): Uint8Array => Uint8Array.from(s, (ch) => ch.charCodeAt(0));
const N_HOST = ascii('host');
const N_REFERER = ascii('referer');
const N_CONNECTION = ascii('connection');
const N_USER_AGENT = ascii('user-agent');
const N_AUTHORIZATION = ascii('authorization');
const N_CONTENT_LENGTH = ascii('content-length');
const N_TRANSFER_ENCODING = ascii('transfer-encoding');

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let k = b.length - 1; k >= 0; k--) if (a[k] !== b[k]) return false;
  return true;
}

/** Field id from a lower-cased name of `len` bytes (only its first MAX_KNOWN_NAME bytes are stored). */
function fieldId(name: Uint8Array, len: number): number {
  switch (len) {
    case 4: return sameBytes(name, N_HOST) ? F.HOST : F.NONE;
    case 7: return sameBytes(name, N_REFERER) ? F.REFERER : F.NONE;
    case 10:
      if (name[0] === 0x63) return sameBytes(name, N_CONNECTION) ? F.CONNECTION : F.NONE;
      return sameBytes(name, N_USER_AGENT) ? F.USER_AGENT : F.NONE;
    case 13: return sameBytes(name, N_AUTHORIZATION) ? F.AUTHORIZATION : F.NONE;
    case 14: return sameBytes(name, N_CONTENT_LENGTH) ? F.CONTENT_LENGTH : F.NONE;
    case 17: return sameBytes(name, N_TRANSFER_ENCODING) ? F.TRANSFER_ENCODING : F.NONE;
    default: return F.NONE;
  }
}

// Methods as interned strings: the usual ones cost no allocation.
const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PRI'];
const METHOD_BYTES = METHODS.map(ascii);

function internMethod(buf: Buffer, len: number): string {
  for (let m = 0; m < METHODS.length; m++) {
    const bytes = METHOD_BYTES[m]!;
    if (bytes.length === len && sameBytes(buf, bytes)) return METHODS[m]!;
  }
  return buf.toString('latin1', 0, len);
}

const cut = (s: string): string => (s.length > MAX_KEPT_VALUE_BYTES ? s.slice(0, MAX_KEPT_VALUE_BYTES) : s);

const HTTP_SLASH = ascii('HTTP/');

export class RequestParser {
  // ---- results, valid after DONE ----
  /** Method token as sent; the server answers 405 to anything but GET and HEAD. */
  method = '';
  /** Origin-form target ('/time.gif?tz=UTC'); an absolute-form target is reduced to its path and query; '*' for OPTIONS. */
  target = '';
  /** Target before '?', not percent-decoded. */
  path = '';
  /** Target after the first '?', '' if none. */
  query = '';
  /** 0 or 1 (HTTP/1.2 and later minor versions are treated as 1.1, RFC 9112 §2.3). */
  versionMinor = 0;
  /** Host, lower-cased, port stripped, IPv6 brackets kept; from an absolute-form target if there is one; null if absent. */
  host: string | null = null;
  /** From the version and Connection; always false when the request has a body (we do not read it). */
  keepAlive = false;
  /** Content-Length > 0 or Transfer-Encoding present: the server answers and closes. */
  hasBody = false;
  userAgent = '';
  referer = '';
  authorization = '';
  /** Bytes of the head consumed so far (leading empty lines included). */
  headerBytes = 0;
  headerCount = 0;
  /** After DONE: offset in the last chunk just past the head; pipelined bytes start here. */
  consumed = 0;
  /** After an error status: why. */
  reason: ParseReason = '';

  // ---- parse state ----
  private state: number = S.START;
  private status: ParseStatus = PARSE.NEED_MORE;
  private emptyLines = 0;
  private readonly methodBuf = Buffer.alloc(MAX_METHOD_BYTES);
  private methodLen = 0;
  private targetLen = 0;
  private queryAt = -1; // index of the first '?' in the target
  private vIdx = 0; // bytes of "HTTP/x.y" seen
  private major = 0;
  private readonly nameBuf = new Uint8Array(MAX_KNOWN_NAME);
  private nameLen = 0;
  private field: number = F.NONE; // field whose value is being read
  private partial = ''; // captured bytes of the current span from earlier chunks
  private spanStart = -1; // start of the captured span in the current chunk, -1 when not capturing
  private hostSeen = false;
  private hostHeader: string | null = null;
  private absoluteHost: string | null = null;
  private contentLength = -1;
  private chunked = false; // Transfer-Encoding seen (any coding)
  private connClose = false;
  private connKeepAlive = false;

  /** Ready for the next request on the same connection. Allocates nothing. */
  reset(): void {
    this.method = this.target = this.path = this.query = '';
    this.versionMinor = 0;
    this.host = null;
    this.keepAlive = this.hasBody = false;
    this.userAgent = this.referer = this.authorization = '';
    this.headerBytes = this.headerCount = this.consumed = 0;
    this.reason = '';
    this.state = S.START;
    this.status = PARSE.NEED_MORE;
    this.emptyLines = this.methodLen = this.targetLen = this.vIdx = this.major = this.nameLen = 0;
    this.queryAt = this.spanStart = -1;
    this.field = F.NONE;
    this.partial = '';
    this.hostSeen = false;
    this.hostHeader = this.absoluteHost = null;
    this.contentLength = -1;
    this.chunked = this.connClose = this.connKeepAlive = false;
  }

  /**
   * Feed the next bytes of the connection. Returns NEED_MORE until the head is complete (DONE) or wrong
   * (an error status, with `reason`); after that, returns the same status until reset().
   */
  execute(chunk: Buffer): ParseStatus {
    if (this.state === S.STOPPED) return this.status;
    const len = chunk.length;
    const room = MAX_HEADER_BYTES - this.headerBytes;
    const stop = len < room ? len : room; // bytes we may read before the head is too large
    let state = this.state;
    let i = 0;
    let b = 0;
    while (i < stop) {
      switch (state) {
        case S.FIELD_START: {
          b = chunk[i]!;
          if (CLASS[b]! & C_TCHAR) {
            if (++this.headerCount > MAX_HEADER_COUNT) return this.halt(PARSE.TOO_LARGE, 'too-many-headers', i);
            this.nameBuf[0] = LOWER[b]!;
            this.nameLen = 1;
            state = S.NAME;
            i++;
            break;
          }
          if (b === CR) {
            state = S.END_LF;
            i++;
            break;
          }
          return this.halt(PARSE.BAD_REQUEST, b === SP || b === HTAB ? 'obs-fold' : lineFault(b, 'header-syntax'), i);
        }
        case S.NAME: {
          // hot: name bytes, lower-cased into nameBuf while they could still be a known name
          let n = this.nameLen;
          const nameBuf = this.nameBuf;
          for (; i < stop; i++) {
            b = chunk[i]!;
            if ((CLASS[b]! & C_TCHAR) === 0) break;
            if (n < MAX_KNOWN_NAME) nameBuf[n] = LOWER[b]!;
            n++;
          }
          this.nameLen = n;
          if (i === stop) break;
          // RFC 9112 §5.1: no whitespace between the name and ':' (a 400, never trimmed)
          if (b !== COLON) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'header-syntax'), i);
          this.field = n <= MAX_KNOWN_NAME ? fieldId(this.nameBuf, n) : F.NONE;
          state = S.OWS;
          i++;
          break;
        }
        case S.OWS: {
          b = chunk[i]!;
          while ((b === SP || b === HTAB) && ++i < stop) b = chunk[i]!;
          if (i === stop) break;
          if (b === CR) {
            if (this.field !== F.NONE && !this.commitField('')) return this.halt(PARSE.BAD_REQUEST, this.reason, i);
            state = S.VALUE_LF;
            i++;
            break;
          }
          if ((CLASS[b]! & C_FIELD) === 0) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'header-value'), i);
          if (this.field !== F.NONE) this.spanStart = i;
          state = S.VALUE;
          break; // the byte is read again as the first value byte
        }
        case S.VALUE: {
          // hot: value bytes
          for (; i < stop; i++) {
            b = chunk[i]!;
            if ((CLASS[b]! & C_FIELD) === 0) break;
          }
          if (i === stop) break;
          if (b !== CR) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'header-value'), i);
          if (this.field !== F.NONE && !this.commitField(trimEnd(this.takeSpan(chunk, i)))) {
            return this.halt(PARSE.BAD_REQUEST, this.reason, i);
          }
          state = S.VALUE_LF;
          i++;
          break;
        }
        case S.VALUE_LF:
        case S.LINE_LF: {
          if (chunk[i] !== LF) return this.halt(PARSE.BAD_REQUEST, chunk[i] === 0 ? 'nul-byte' : 'bare-cr', i);
          i++;
          if (state === S.LINE_LF && this.major === 2) return this.halt(PARSE.H2_PREFACE, 'h2-preface', i);
          state = S.FIELD_START;
          break;
        }
        case S.END_LF: {
          if (chunk[i] !== LF) return this.halt(PARSE.BAD_REQUEST, chunk[i] === 0 ? 'nul-byte' : 'bare-cr', i);
          return this.finish(i + 1);
        }
        case S.START: {
          b = chunk[i]!;
          if (CLASS[b]! & C_TCHAR) {
            state = S.METHOD;
            break; // read again as the first method byte
          }
          if (b === CR) {
            if (++this.emptyLines > MAX_LEADING_EMPTY_LINES) return this.halt(PARSE.BAD_REQUEST, 'bad-request-line', i);
            state = S.START_LF;
            i++;
            break;
          }
          return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
        }
        case S.START_LF: {
          if (chunk[i] !== LF) return this.halt(PARSE.BAD_REQUEST, chunk[i] === 0 ? 'nul-byte' : 'bare-cr', i);
          state = S.START;
          i++;
          break;
        }
        case S.METHOD: {
          let n = this.methodLen;
          for (; i < stop; i++) {
            b = chunk[i]!;
            if ((CLASS[b]! & C_TCHAR) === 0) break;
            if (n === MAX_METHOD_BYTES) return this.halt(PARSE.BAD_REQUEST, 'bad-request-line', i);
            this.methodBuf[n++] = b;
          }
          this.methodLen = n;
          if (i === stop) break;
          if (b !== SP) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
          this.method = internMethod(this.methodBuf, n);
          state = S.TARGET_START;
          i++;
          break;
        }
        case S.TARGET_START: {
          b = chunk[i]!;
          // origin-form '/', asterisk-form '*', absolute-form 'scheme:' (RFC 9112 §3.2)
          const alpha = (b | 0x20) >= 0x61 && (b | 0x20) <= 0x7a;
          if (b !== SLASH && b !== STAR && !alpha) {
            return this.halt(PARSE.BAD_REQUEST, b === SP ? 'bad-request-line' : lineFault(b, 'bad-target'), i);
          }
          this.spanStart = i;
          state = S.TARGET;
          break;
        }
        case S.TARGET: {
          // hot: visible ASCII up to the SP before the version
          const from = i;
          const room = MAX_TARGET_BYTES - this.targetLen;
          const end = stop - i > room ? i + room : stop; // the byte at `end` would be one too many
          for (; i < end; i++) {
            b = chunk[i]!;
            if ((CLASS[b]! & C_VCHAR) === 0) break;
            if (b === QMARK && this.queryAt < 0) this.queryAt = this.targetLen + (i - from);
          }
          this.targetLen += i - from;
          if (i === end) {
            if (end === stop) break;
            if (CLASS[chunk[i]!]! & C_VCHAR) return this.halt(PARSE.URI_TOO_LONG, 'uri-too-long', i);
            b = chunk[i]!;
          }
          if (b !== SP) {
            // CR/LF here: no version (an HTTP/0.9 request line)
            return this.halt(PARSE.BAD_REQUEST, b === CR || b === LF ? 'bad-request-line' : lineFault(b, 'bad-target'), i);
          }
          if (!this.setTarget(this.takeSpan(chunk, i))) return this.halt(PARSE.BAD_REQUEST, 'bad-target', i);
          state = S.VERSION;
          i++;
          break;
        }
        case S.VERSION: {
          b = chunk[i]!;
          const v = this.vIdx;
          if (v < 5) {
            // HTTP-name is case-sensitive (§2.3): 'http/1.1' is a bad request line
            if (b !== HTTP_SLASH[v]) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
          } else if (v === 5 || v === 7) {
            if (b < 0x30 || b > 0x39) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
            if (v === 5) {
              // the preface 'PRI * HTTP/2.0' is the one request line with major 2 we recognise
              const preface = this.method === 'PRI' && this.target === '*';
              if (b === 0x32 && preface) this.major = 2;
              else if (b !== 0x31) return this.halt(PARSE.BAD_VERSION, 'bad-version', i);
              else if (preface) return this.halt(PARSE.BAD_REQUEST, 'bad-target', i);
              else this.major = 1;
            } else if (this.major === 2) {
              if (b !== 0x30) return this.halt(PARSE.BAD_VERSION, 'bad-version', i);
            } else {
              this.versionMinor = b === 0x30 ? 0 : 1;
            }
          } else if (v === 6) {
            if (b >= 0x30 && b <= 0x39) return this.halt(PARSE.BAD_VERSION, 'bad-version', i); // HTTP/10.x and up
            if (b !== 0x2e) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
          } else {
            if (b !== CR) return this.halt(PARSE.BAD_REQUEST, lineFault(b, 'bad-request-line'), i);
            state = S.LINE_LF;
          }
          this.vIdx = v + 1;
          i++;
          break;
        }
        default:
          throw new Error(`http1: unknown parser state ${state}`);
      }
    }
    // The chunk is used up (or the head reached its bound) without the head ending.
    this.state = state;
    this.headerBytes += i;
    if (this.spanStart >= 0) {
      this.partial += chunk.toString('latin1', this.spanStart, i);
      this.spanStart = 0;
    }
    if (i < len) return this.halt(PARSE.TOO_LARGE, 'header-too-large', -1);
    return PARSE.NEED_MORE;
  }

  /** The captured span ending at `end` of this chunk, joined with what earlier chunks held. */
  private takeSpan(chunk: Buffer, end: number): string {
    const tail = chunk.toString('latin1', this.spanStart, end);
    const s = this.partial === '' ? tail : this.partial + tail;
    this.partial = '';
    this.spanStart = -1;
    return s;
  }

  /** Splits the target into path and query; reduces an absolute-form target. False if it is not acceptable. */
  private setTarget(t: string): boolean {
    const first = t.charCodeAt(0);
    if (first === STAR) {
      // asterisk-form: OPTIONS only (§3.2.4); 'PRI *' is the HTTP/2 preface, decided by the version
      if (t.length !== 1 || (this.method !== 'OPTIONS' && this.method !== 'PRI')) return false;
      this.target = this.path = t;
      return true;
    }
    if (first !== SLASH) {
      // absolute-form (§3.2.2): http(s)://authority[/path][?query]; the authority's host wins over Host
      const lower = t.length > 8 ? t.slice(0, 8).toLowerCase() : t.toLowerCase();
      const from = lower.startsWith('http://') ? 7 : lower.startsWith('https://') ? 8 : -1;
      if (from < 0) return false;
      let end = from;
      while (end < t.length && t.charCodeAt(end) !== SLASH && t.charCodeAt(end) !== QMARK) end++;
      const authority = t.slice(from, end);
      if (authority.includes('@')) return false; // userinfo: deprecated, and a phishing trick (RFC 9110 §4.2.4)
      const host = normalizeHost(authority);
      if (host === null || host === '') return false;
      this.absoluteHost = host;
      t = end === t.length ? '/' : t.charCodeAt(end) === QMARK ? '/' + t.slice(end) : t.slice(end);
      this.queryAt = t.indexOf('?');
    }
    this.target = t;
    if (this.queryAt < 0) {
      this.path = t;
      this.query = '';
    } else {
      this.path = t.slice(0, this.queryAt);
      this.query = t.slice(this.queryAt + 1);
    }
    return true;
  }

  /** Applies a known field's value (OWS trimmed). False, with `reason` set, when it makes the request invalid. */
  private commitField(v: string): boolean {
    switch (this.field) {
      case F.HOST: {
        if (this.hostSeen) return this.refuse('duplicate-host');
        this.hostSeen = true;
        const host = normalizeHost(v);
        if (host === null) return this.refuse('bad-host');
        this.hostHeader = host;
        return true;
      }
      case F.CONNECTION:
        if (hasToken(v, 'close')) this.connClose = true;
        if (hasToken(v, 'keep-alive')) this.connKeepAlive = true;
        return true;
      case F.CONTENT_LENGTH: {
        // digits only (no list form), duplicates must agree (RFC 9112 §6.3 item 5)
        if (v.length === 0 || v.length > MAX_CONTENT_LENGTH_DIGITS) return this.refuse('bad-content-length');
        let n = 0;
        for (let k = 0; k < v.length; k++) {
          const c = v.charCodeAt(k);
          if (c < 0x30 || c > 0x39) return this.refuse('bad-content-length');
          n = n * 10 + (c - 0x30);
        }
        if (this.contentLength >= 0 && this.contentLength !== n) return this.refuse('bad-content-length');
        this.contentLength = n;
        return true;
      }
      case F.TRANSFER_ENCODING:
        this.chunked = true;
        return true;
      // the first of each is kept, cut short
      case F.USER_AGENT:
        if (this.userAgent === '') this.userAgent = cut(v);
        return true;
      case F.REFERER:
        if (this.referer === '') this.referer = cut(v);
        return true;
      case F.AUTHORIZATION:
        if (this.authorization === '') this.authorization = cut(v);
        return true;
      default:
        return true;
    }
  }

  private refuse(reason: ParseReason): boolean {
    this.reason = reason;
    return false;
  }

  /** The empty line after the fields was read; `end` is just past it in the current chunk. */
  private finish(end: number): ParseStatus {
    this.consumed = end;
    if (this.versionMinor === 1 && !this.hostSeen) return this.halt(PARSE.BAD_REQUEST, 'missing-host', end); // RFC 9112 §3.2
    if (this.chunked && this.contentLength >= 0) return this.halt(PARSE.BAD_REQUEST, 'te-and-cl', end);
    this.host = this.absoluteHost !== null ? this.absoluteHost : this.hostHeader;
    this.hasBody = this.chunked || this.contentLength > 0;
    this.keepAlive = !this.hasBody && !this.connClose && (this.versionMinor === 1 || this.connKeepAlive);
    return this.halt(PARSE.DONE, '', end);
  }

  /** Stops the parser with `status` (DONE included); `at` is the offset reached in the current chunk, -1 if already counted. */
  private halt(status: ParseStatus, reason: ParseReason, at: number): ParseStatus {
    if (at >= 0) this.headerBytes += at;
    this.state = S.STOPPED;
    this.status = status;
    this.reason = reason;
    this.spanStart = -1;
    this.partial = '';
    return status;
  }
}

/** The reason for an unexpected byte where a line was being read: NUL and bare LF get their own codes. */
function lineFault(b: number, otherwise: ParseReason): ParseReason {
  return b === 0 ? 'nul-byte' : b === LF ? 'bare-lf' : otherwise;
}
