// Shared helpers for wire and browser specs: throwaway certificates, in-process instances, a GIF stream
// splitter (prologue, then one entry per frame as it arrives), frame → pixel checks against renderFace, and
// polling waits. Nothing here knows timegif's encoder: frames are decoded by omggif.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32, deflateSync, inflateSync } from 'node:zlib';
import { createServer, type Socket } from 'node:net';
import { connect as tlsConnectRaw, type TLSSocket } from 'node:tls';
import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type Settings } from 'node:http2';
import { start, type Instance, type StartOptions } from '../lib/run/start.js';
import { parseArgs } from '../lib/core/config.js';
import { DEFAULT_FACE, faceSize, paletteFor, renderFace, type FaceOptions } from '../lib/face/face.js';
import { decodeOmggif, decodePngjs, firstDifference, indicesToRgba } from './decoders.js';
import { RawClient } from './raw.js';

// ---- certificates -----------------------------------------------------------------------------------------

export interface CertFiles {
  dir: string;
  cert: string;
  key: string;
  /** Remove the directory. */
  remove(): void;
}

/**
 * A self-signed ECDSA P-256 certificate for `names` (the first is the CN; all are DNS SANs, plus 127.0.0.1),
 * made with openssl in `dir` (default: a fresh temporary directory) as `file`.pem / `file`.key.
 */
export function makeCert(names: string[] = ['localhost'], dir?: string, file = 'cert'): CertFiles {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'timegif-cert-'));
  const cert = join(d, `${file}.pem`);
  const key = join(d, `${file}.key`);
  const san = [...names.map((n) => `DNS:${n}`), 'IP:127.0.0.1'].join(',');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${names[0]}`, '-addext', `subjectAltName=${san}`,
  ], { stdio: 'pipe' });
  return { dir: d, cert, key, remove: () => rmSync(d, { recursive: true, force: true }) };
}

// ---- instances --------------------------------------------------------------------------------------------

export interface Started {
  inst: Instance;
  /** http://127.0.0.1:PORT of the plain listener, if any. */
  http: string | null;
  /** https://127.0.0.1:PORT of the TLS listener, if any. */
  https: string | null;
  httpPort: number;
  httpsPort: number;
}

/** Start an instance on loopback port 0 with these extra options (`--hosts a,b`, ...); TLS if `cert` is given. */
export async function startServer(extra: string[] = [], cert: CertFiles | null = null, opts: StartOptions = {}): Promise<Started> {
  const args = extra.includes('--listen') ? [...extra] : ['--listen', '127.0.0.1:0', ...extra];
  if (cert !== null) args.push('--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key);
  const inst = await start(parseArgs(args).config, opts);
  const http = inst.listeners.find((l) => !l.tls)?.url ?? null;
  const https = inst.listeners.find((l) => l.tls)?.url ?? null;
  const port = (u: string | null): number => (u === null ? 0 : Number(new URL(u).port));
  return { inst, http, https, httpPort: port(http), httpsPort: port(https) };
}

/** A port nothing listens on now (for programs that must be told one: haproxy, WebKitWebDriver). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

// ---- waiting ----------------------------------------------------------------------------------------------

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Poll `cond` every `everyMs` until it is true; throws with `what` after `timeoutMs`. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000, everyMs = 20): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Wait until the instance has no viewers and no connections (everything cleaned up). */
export function waitIdle(inst: Instance, timeoutMs = 5000): Promise<void> {
  return waitFor(
    () => inst.app.viewers === 0 && inst.app.connections === 0,
    `viewers=0 connections=0 (now viewers=${inst.app.viewers} connections=${inst.app.connections})`,
    timeoutMs,
  );
}

// ---- GIF stream splitting ---------------------------------------------------------------------------------

/**
 * Splits a GIF byte stream as it arrives into the prologue (header, screen, global colour table) and whole
 * frames (extensions before an image + the image). Resumable: push() any chunking; a frame is only listed
 * once its last byte (the image data's block terminator) has arrived. `ended` turns true at the trailer.
 */
export class GifStreamSplitter {
  prologue: Buffer | null = null;
  readonly frames: Buffer[] = [];
  /** Arrival time (Date.now()) of each frame's last byte. */
  readonly frameTimes: number[] = [];
  ended = false;
  private buf: Buffer = Buffer.alloc(0);
  private frameStart = 0;
  private at = 0;

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    this.parse();
  }

  private parse(): void {
    const b = this.buf;
    if (this.prologue === null) {
      if (b.length < 13) return;
      if (b.toString('latin1', 0, 6) !== 'GIF89a') throw new Error(`not a GIF89a stream: ${JSON.stringify(b.toString('latin1', 0, 6))}`);
      const flags = b[10]!;
      const gct = flags & 0x80 ? 3 * (1 << ((flags & 7) + 1)) : 0;
      if (b.length < 13 + gct) return;
      this.prologue = b.subarray(0, 13 + gct);
      this.at = this.frameStart = 13 + gct;
    }
    for (;;) {
      if (this.ended || this.at >= b.length) break;
      const intro = b[this.at]!;
      if (intro === 0x3b) {
        this.ended = true;
        this.at++;
        break;
      }
      if (intro === 0x21) {
        const end = skipSubBlocks(b, this.at + 2);
        if (end < 0) break;
        this.at = end;
        continue;
      }
      if (intro !== 0x2c) throw new Error(`unexpected block 0x${intro.toString(16)} at ${this.at}`);
      if (b.length < this.at + 10) break;
      const lct = b[this.at + 9]! & 0x80 ? 3 * (1 << ((b[this.at + 9]! & 7) + 1)) : 0;
      const dataAt = this.at + 10 + lct + 1; // + LZW minimum code size
      const end = skipSubBlocks(b, dataAt);
      if (end < 0) break;
      this.frames.push(Buffer.from(b.subarray(this.frameStart, end)));
      this.frameTimes.push(Date.now());
      this.at = this.frameStart = end;
    }
    // Drop the bytes of whole frames (the prologue is a copy, so the old buffer can go).
    if (this.frameStart > 0) {
      if (this.prologue.buffer === b.buffer) this.prologue = Buffer.from(this.prologue);
      this.buf = b.subarray(this.frameStart);
      this.at -= this.frameStart;
      this.frameStart = 0;
    }
  }

  /** A complete GIF of the prologue and frames [0, n) (default: all), with a trailer. */
  gif(n = this.frames.length): Buffer {
    if (this.prologue === null) throw new Error('no prologue yet');
    return Buffer.concat([this.prologue, ...this.frames.slice(0, n), Buffer.from([0x3b])]);
  }
}

/** Offset just past the block terminator of the sub-blocks starting at `at`, or -1 if not all here yet. */
function skipSubBlocks(b: Buffer, at: number): number {
  while (at < b.length) {
    const n = b[at]!;
    if (n === 0) return at + 1;
    at += 1 + n;
  }
  return -1;
}

// ---- frames against the clock face ------------------------------------------------------------------------

/** RGBA of the face at `second` as a decoder should show it (every pixel opaque). */
export function faceRgba(second: number, face: FaceOptions = DEFAULT_FACE): Uint8Array {
  return indicesToRgba(renderFace(second, face), paletteFor(face));
}

/** The second in [from, to] whose face a PNG shows (pngjs decodes it); throws when it shows none of them. */
export function pngSecond(png: Uint8Array, from: number, to: number, face: FaceOptions = DEFAULT_FACE): number {
  const { rgba } = decodePngjs(png);
  for (let s = from; s <= to; s++) if (firstDifference(rgba, faceRgba(s, face)) < 0) return s;
  throw new Error(`the PNG shows none of the seconds ${from}..${to} (vs ${from}: first difference at byte ${firstDifference(rgba, faceRgba(from, face))})`);
}

/**
 * The seconds shown by each composited frame of `gif` (decoded with omggif): each must equal renderFace of
 * some second in [from, to]; throws naming the frame and first differing byte otherwise.
 */
export function secondsShown(gif: Uint8Array, from: number, to: number, face: FaceOptions = DEFAULT_FACE): number[] {
  const decoded = decodeOmggif(gif);
  const out: number[] = [];
  for (const [k, f] of decoded.frames.entries()) {
    let found = -1;
    let firstDiff = -1;
    for (let s = from; s <= to && found < 0; s++) {
      const d = firstDifference(f.rgba, faceRgba(s, face));
      if (d < 0) found = s;
      else if (s === from) firstDiff = d;
    }
    if (found < 0) throw new Error(`frame ${k} shows none of the seconds ${from}..${to} (vs ${from}: first difference at byte ${firstDiff})`);
    out.push(found);
  }
  return out;
}

export const nowSecond = (): number => Math.floor(Date.now() / 1000);

// ---- stream clients ---------------------------------------------------------------------------------------

/** One endless-GIF response as a client sees it: status, lower-case headers, frames so far. */
export interface StreamClient {
  status: number;
  headers: Record<string, string>;
  /** The head exactly as received (HTTP/1 only; '' for h2). */
  rawHead: string;
  /** The body of a 200 image/gif response, split into frames. */
  gif: GifStreamSplitter;
  /** Any other body, as received. */
  body: Buffer[];
  /** True once the transport closed (for h2: the stream). */
  closed: boolean;
  close(): void;
}

/**
 * Send `GET path` over an HTTP/1.1 socket (plain or TLS, already connecting) with the specs' raw client and resolve
 * once the response head is in (within 10 s); the body feeds a GifStreamSplitter (only for status 200).
 */
export async function h1Stream(socket: Socket, path = '/time.gif', host = 'localhost'): Promise<StreamClient> {
  const raw = new RawClient(socket);
  const gif = new GifStreamSplitter();
  const c: StreamClient = { status: 0, headers: {}, rawHead: '', gif, body: [], closed: false, close: () => socket.destroy() };
  socket.once('close', () => (c.closed = true));
  raw.send(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nUser-Agent: timegif-spec\r\n\r\n`);
  await raw.until(() => raw.headEnd >= 0 || raw.closed, 10_000, 'a response head');
  const end = raw.headEnd;
  if (end < 0) throw new Error(`closed before a response head (${raw.data.length} bytes)`);
  const text = raw.data.toString('latin1', 0, end - 4);
  c.rawHead = text;
  const [statusLine, ...lines] = text.split('\r\n');
  c.status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(statusLine!)?.[1] ?? 0);
  for (const l of lines) {
    const colon = l.indexOf(':');
    c.headers[l.slice(0, colon).toLowerCase()] = l.slice(colon + 1).trim();
  }
  const isGif = c.status === 200 && c.headers['content-type'] === 'image/gif';
  const feed = (d: Buffer): void => {
    if (isGif) gif.push(d);
    else c.body.push(d);
  };
  // Everything after the head so far, then each chunk as it comes (no chunk can arrive between the two lines).
  if (raw.data.length > end) feed(Buffer.from(raw.data.subarray(end)));
  raw.onChunk = feed;
  return c;
}

/** A TLS connection to `port` on loopback with SNI `servername` and these ALPN protocols; any certificate. */
export function tlsConnect(port: number, servername = 'localhost', alpn: string[] = ['http/1.1']): TLSSocket {
  return tlsConnectRaw({ host: '127.0.0.1', port, servername, ALPNProtocols: alpn, rejectUnauthorized: false });
}

/** Resolves with the connected TLS socket once the handshake is done, rejects on a handshake error. */
export function tlsHandshake(port: number, servername = 'localhost', alpn: string[] = ['http/1.1']): Promise<TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect(port, servername, alpn);
    s.once('secureConnect', () => resolve(s));
    s.once('error', reject);
    s.once('close', () => reject(new Error('closed during the handshake')));
  });
}

/** An h2 session to the TLS listener (any certificate); `settings` e.g. a tiny initialWindowSize. */
export function h2Session(port: number, servername = 'localhost', settings: Settings = {}): Promise<ClientHttp2Session> {
  return new Promise((resolve, reject) => {
    const s = http2Connect(`https://localhost:${port}`, {
      rejectUnauthorized: false,
      servername,
      settings,
      createConnection: () => tlsConnect(port, servername, ['h2']),
    });
    s.once('connect', () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * `GET path` on an h2 session; resolves at the response headers. `authority` overrides :authority.
 * `stopAfterFirstChunk`: pause the stream after its first DATA chunk, so the client stops granting flow-control
 * window (with a small initialWindowSize, the rest of the frame stays on the server).
 */
export function h2Stream(
  session: ClientHttp2Session, path = '/time.gif', authority = 'localhost', stopAfterFirstChunk = false,
): Promise<StreamClient & { stream: ClientHttp2Stream }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': 'GET', ':path': path, ':authority': authority, ':scheme': 'https' });
    const gif = new GifStreamSplitter();
    const c = { status: 0, headers: {} as Record<string, string>, rawHead: '', gif, body: [] as Buffer[], closed: false, close: () => stream.close(), stream };
    stream.on('error', reject);
    stream.on('close', () => {
      c.closed = true;
      reject(new Error(`stream closed before its headers (rstCode ${stream.rstCode})`));
    });
    stream.on('response', (h: IncomingHttpHeaders) => {
      c.status = Number(h[':status']);
      for (const [k, v] of Object.entries(h)) if (!k.startsWith(':')) c.headers[k] = String(v);
      resolve(c);
    });
    stream.on('data', (chunk: Buffer) => {
      if (c.status === 200 && c.headers['content-type'] === 'image/gif') gif.push(chunk);
      else c.body.push(chunk);
      if (stopAfterFirstChunk) stream.pause();
    });
  });
}

// ---- PNG (browser screenshots) ----------------------------------------------------------------------------

export interface Rgba {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** `img`'s rectangle (x, y, w, h; clipped to the image), as a new image. */
export function crop(img: Rgba, x: number, y: number, w: number, h: number): Rgba {
  x = Math.max(0, Math.round(x));
  y = Math.max(0, Math.round(y));
  w = Math.min(img.width - x, Math.round(w));
  h = Math.min(img.height - y, Math.round(h));
  const out = new Uint8Array(w * h * 4);
  for (let r = 0; r < h; r++) out.set(img.rgba.subarray(((y + r) * img.width + x) * 4, ((y + r) * img.width + x + w) * 4), r * w * 4);
  return { width: w, height: h, rgba: out };
}

/** An 8-bit RGBA PNG of `img` (no filtering): for keeping screenshots to look at. */
export function encodePng(img: Rgba): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(img.width, 0);
  ihdr.writeUInt32BE(img.height, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  const raw = Buffer.alloc(img.height * (img.width * 4 + 1));
  for (let y = 0; y < img.height; y++) raw.set(img.rgba.subarray(y * img.width * 4, (y + 1) * img.width * 4), y * (img.width * 4 + 1) + 1);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Decode an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium screenshots are) to RGBA. */
export function decodePng(png: Buffer): Rgba {
  if (png.readUInt32BE(0) !== 0x89504e47) throw new Error('not a PNG');
  let at = 8;
  let width = 0, height = 0, colourType = 0;
  const idat: Buffer[] = [];
  while (at < png.length) {
    const len = png.readUInt32BE(at);
    const type = png.toString('latin1', at + 4, at + 8);
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      colourType = data[9]!;
      if (data[8] !== 8 || data[12] !== 0 || (colourType !== 2 && colourType !== 6))
        throw new Error(`PNG: unsupported depth ${data[8]} / colour type ${colourType} / interlace ${data[12]}`);
    } else if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const bpp = colourType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const cur = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = y * (stride + 1) + 1;
    const row = y * stride;
    for (let x = 0; x < stride; x++) {
      const a = x >= bpp ? cur[row + x - bpp]! : 0;
      const b = y > 0 ? cur[row - stride + x]! : 0;
      const c = x >= bpp && y > 0 ? cur[row - stride + x - bpp]! : 0;
      const v = raw[src + x]!;
      let p: number;
      if (filter === 0) p = v;
      else if (filter === 1) p = v + a;
      else if (filter === 2) p = v + b;
      else if (filter === 3) p = v + ((a + b) >> 1);
      else {
        const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
        p = v + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
      }
      cur[row + x] = p & 0xff;
    }
  }
  if (bpp === 4) return { width, height, rgba: cur };
  const rgba = new Uint8Array(width * height * 4);
  for (let i = 0, j = 0; i < cur.length; i += 3, j += 4) {
    rgba[j] = cur[i]!; rgba[j + 1] = cur[i + 1]!; rgba[j + 2] = cur[i + 2]!; rgba[j + 3] = 255;
  }
  return { width, height, rgba };
}

/**
 * The second a screenshot of the face shows, or -1 if none of [from, to] matches: each face pixel is looked up
 * at the centre of the cell it covers in the (scaled, pixelated) screenshot, within `tolerance` per channel.
 */
export function secondInScreenshot(shot: { width: number; height: number; rgba: Uint8Array }, from: number, to: number, face: FaceOptions = DEFAULT_FACE, tolerance = 3): number {
  const { width: w, height: h } = faceSize(face);
  if (shot.width === 0 || shot.height === 0) return -1; // nothing shown yet (an image with no picture lays out at 0x0)
  for (let s = from; s <= to; s++) {
    const want = faceRgba(s, face);
    let ok = true;
    for (let fy = 0; fy < h && ok; fy++) {
      const sy = Math.floor(((fy + 0.5) * shot.height) / h);
      for (let fx = 0; fx < w; fx++) {
        const sx = Math.floor(((fx + 0.5) * shot.width) / w);
        const o = (sy * shot.width + sx) * 4, f = (fy * w + fx) * 4;
        if (Math.abs(shot.rgba[o]! - want[f]!) > tolerance || Math.abs(shot.rgba[o + 1]! - want[f + 1]!) > tolerance || Math.abs(shot.rgba[o + 2]! - want[f + 2]!) > tolerance) {
          ok = false;
          break;
        }
      }
    }
    if (ok) return s;
  }
  return -1;
}

// ---- multipart (the WebKit stream) ------------------------------------------------------------------------

/**
 * A multipart/x-mixed-replace body split at `--boundary` delimiters: the complete parts' bodies (the bytes
 * between a part's blank line and the next delimiter), whether the close delimiter arrived, and the bytes after
 * the last delimiter (an open part's head, or a partial part).
 */
export function splitMultipart(body: Buffer, boundary: string): { parts: Buffer[]; closed: boolean; rest: Buffer } {
  const delim = Buffer.from(`--${boundary}`, 'latin1');
  const parts: Buffer[] = [];
  let at = body.indexOf(delim);
  if (at < 0) return { parts, closed: false, rest: body };
  for (;;) {
    const afterDelim = at + delim.length;
    if (body.subarray(afterDelim, afterDelim + 2).toString('latin1') === '--') return { parts, closed: true, rest: body.subarray(afterDelim + 2) };
    const headEnd = body.indexOf('\r\n\r\n', afterDelim);
    if (headEnd < 0) return { parts, closed: false, rest: body.subarray(at) };
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delim]), headEnd + 4);
    if (next < 0) return { parts, closed: false, rest: body.subarray(at) };
    parts.push(body.subarray(headEnd + 4, next));
    at = next + 2;
  }
}

// ---- kernel socket queues ----------------------------------------------------------------------------------

/** Bytes the kernel still holds to send on the server side of `port` (ss's Send-Q), and how many such sockets. */
export function serverSendQueue(port: number, host = '127.0.0.1', peer = '127.0.0.1'): { sockets: number; bytes: number } {
  // Both ends: the server's own address and port, and the peers' address (a filter on the port alone counted other
  // processes' sockets that happened to use the same number on another address).
  const out = execFileSync('ss', ['-tnH', 'src', `${host}:${port}`, 'dst', peer], { encoding: 'utf8' });
  let sockets = 0, bytes = 0;
  for (const line of out.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5 || f[0] === 'LISTEN') continue;
    sockets++;
    bytes += Number(f[2]);
  }
  return { sockets, bytes };
}

