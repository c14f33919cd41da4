// Prebuilt small responses: status line + headers + body in one Buffer, so answering junk is one
// socket.write of a shared Buffer. They carry the Date, so responses.ts rebuilds its set at most once per
// second and never per request.
//
// Every response has Date, Server, Content-Length (except 1xx/204, RFC 9110 §8.6), Connection and
// X-Content-Type-Options; Content-Type when there is a body. Names and values are checked when built:
// a CR, LF or other control character can never reach the wire through a header (no response splitting).

export const STATUS_TEXT: Record<number, string> = {
  100: 'Continue',
  200: 'OK',
  204: 'No Content',
  301: 'Moved Permanently',
  302: 'Found',
  304: 'Not Modified',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  421: 'Misdirected Request',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad2 = (n: number): string => (n < 10 ? '0' + n : String(n));

/** IMF-fixdate, RFC 9110 §5.6.7: `Sun, 06 Nov 1994 08:49:37 GMT`. Years 0-9999. */
export function httpDate(unixSeconds: number): string {
  const d = new Date(Math.floor(unixSeconds) * 1000);
  const year = d.getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) throw new RangeError(`httpDate: year out of range: ${unixSeconds}`);
  return (
    `${DAYS[d.getUTCDay()]}, ${pad2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${String(year).padStart(4, '0')} ` +
    `${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())} GMT`
  );
}

export interface CannedOptions {
  keepAlive: boolean;
  /** Extra fields after the standard ones, in order. Must not repeat a field this module sets. */
  headers?: [string, string][];
  body?: Uint8Array | string; // a string is sent as UTF-8
  /** Defaults to `text/plain; charset=utf-8` when there is a body. */
  contentType?: string;
}

const DEFAULT_CONTENT_TYPE = 'text/plain; charset=utf-8';
/** Fields this module writes itself (lower-case): callers may not pass them again. */
const MANAGED = new Set(['date', 'server', 'content-length', 'content-type', 'connection', 'x-content-type-options', 'transfer-encoding']);
const TCHARS = "!#$%&'*+-.^_`|~";

function checkName(name: string): void {
  if (name.length === 0) throw new TypeError('canned: empty header name');
  for (let k = 0; k < name.length; k++) {
    const c = name.charCodeAt(k);
    const alnum = (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (!alnum && !TCHARS.includes(name[k]!)) throw new TypeError(`canned: header name is not a token: ${JSON.stringify(name)}`);
  }
  if (MANAGED.has(name.toLowerCase())) throw new TypeError(`canned: header ${name} is set by canned itself`);
}

/** field-value (RFC 9110 §5.5): visible ASCII, SP, HTAB inside; no CR, LF, NUL or other controls; no outer whitespace. */
function checkValue(name: string, value: string): void {
  for (let k = 0; k < value.length; k++) {
    const c = value.charCodeAt(k);
    if (c < 0x20 ? c !== 0x09 : c > 0x7e) throw new TypeError(`canned: bad byte 0x${c.toString(16)} in the value of ${name}`);
  }
  const first = value.charCodeAt(0);
  const last = value.charCodeAt(value.length - 1);
  if (first === 0x20 || first === 0x09 || last === 0x20 || last === 0x09) throw new TypeError(`canned: whitespace around the value of ${name}`);
}

function bodyBytes(body: Uint8Array | string | undefined): Uint8Array {
  if (body === undefined) return new Uint8Array(0);
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
}

function headString(status: number, dateStr: string, o: CannedOptions, bodyLength: number): string {
  const text = STATUS_TEXT[status];
  if (text === undefined) throw new RangeError(`canned: no reason phrase for status ${status}`);
  checkValue('Date', dateStr);
  const noContent = status < 200 || status === 204;
  if (noContent && bodyLength > 0) throw new RangeError(`canned: status ${status} cannot have a body`);
  let s = `HTTP/1.1 ${status} ${text}\r\nDate: ${dateStr}\r\nServer: timegif\r\n`;
  if (bodyLength > 0) {
    const type = o.contentType ?? DEFAULT_CONTENT_TYPE;
    checkValue('Content-Type', type);
    s += `Content-Type: ${type}\r\n`;
  }
  if (!noContent) s += `Content-Length: ${bodyLength}\r\n`;
  s += o.keepAlive ? 'Connection: keep-alive\r\n' : 'Connection: close\r\n';
  s += 'X-Content-Type-Options: nosniff\r\n';
  for (const [name, value] of o.headers ?? []) {
    checkName(name);
    checkValue(name, value);
    s += `${name}: ${value}\r\n`;
  }
  return s + '\r\n';
}

/** A whole response: head + body, with the body's Content-Length. Throws on a bad status, name or value. */
export function buildResponse(status: number, dateStr: string, o: CannedOptions): Buffer {
  const body = bodyBytes(o.body);
  const head = headString(status, dateStr, o, body.length);
  const out = Buffer.allocUnsafeSlow(head.length + body.length); // long-lived: not from the shared pool
  out.write(head, 0, 'latin1');
  out.set(body, head.length);
  return out;
}

/** The same head as buildResponse (Content-Length of the body included, RFC 9110 §9.3.2), without the body: for HEAD. */
export function buildHead(status: number, dateStr: string, o: CannedOptions): Buffer {
  const head = headString(status, dateStr, o, bodyBytes(o.body).length);
  const out = Buffer.allocUnsafeSlow(head.length);
  out.write(head, 0, 'latin1');
  return out;
}
