// HTTP/2 over TLS through node:http2: TLS sockets whose ALPN chose h2 are handed to one http2 server
// (created without listeners of its own). Each stream is answered as answer.ts decides, as an HTTP/1 request is; a /time.gif stream
// is just another viewer sink with the same backpressure rules (its writableLength grows when the peer's
// flow-control window is exhausted). Limits: concurrent streams, header list size, session memory, and
// node:http2's own flood guards (rejected streams, invalid frames, outstanding pings and settings).

import { constants, createServer, type Http2Server, type Http2Session, type ServerHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { RequestInfo } from './routes.js';
import { decide } from './answer.js';
import type { StreamMode } from '../stream/multipart.js';
import type { App } from '../run/app.js';
import { FINITE_HEADERS, STREAM_HEADERS } from './responses.js';
import { TRANSPORT } from '../stream/viewer.js';
import {
  H2_FIRST_STREAM_MS, H2_GOAWAY_GRACE_MS, H2_IDLE_MS, H2_MAX_CONCURRENT_STREAMS, H2_MAX_HEADER_LIST_BYTES, H2_MAX_HEADER_PAIRS,
  H2_MAX_INVALID_FRAMES, H2_MAX_OUTSTANDING_PINGS, H2_MAX_REJECTED_STREAMS, H2_MAX_SESSION_MEMORY_MB, MAX_STREAM_INPUT_BYTES,
} from '../core/limits.js';


/**
 * What the server keeps per h2 session: the peer and the session's life. A session with open streams lives as
 * long as they do (viewers are bounded by the fan-out's eviction); one without has a deadline, checked on the
 * clock's tick: first stream within H2_FIRST_STREAM_MS, then H2_IDLE_MS after its last stream closed, then
 * H2_GOAWAY_GRACE_MS after our GOAWAY. No session can sit on a connection slot doing nothing.
 */
export class H2Life {
  streams = 0;
  streamed = false;
  goaway = false;
  deadlineMs: number;
  readonly remote: string;
  readonly key: string;
  /** The TLS socket: node:http2 ends it with a FIN and then waits for the peer's, which a silent peer never sends. */
  readonly socket: TLSSocket | null;

  constructor(remote: string, key: string, nowMs: number, socket: TLSSocket | null = null) {
    this.remote = remote;
    this.key = key;
    this.socket = socket;
    this.deadlineMs = nowMs + H2_FIRST_STREAM_MS;
  }
}

const sessionInfo = new WeakMap<Http2Session, H2Life>();

/** Called on the tick for every session: close or destroy the ones past their deadline (counted by reason). */
export function checkH2Deadline(app: App, session: Http2Session, life: H2Life, nowMs: number): void {
  if (life.streams > 0 || nowMs < life.deadlineMs) return;
  if (life.goaway || session.closed || session.destroyed) {
    app.metrics.closed('h2-goaway-timeout');
    session.destroy();
    life.socket?.destroy();
    app.h2Sessions.delete(session);
    return;
  }
  app.metrics.closed(life.streamed ? 'h2-idle-timeout' : 'h2-first-stream-timeout');
  life.goaway = true;
  life.deadlineMs = nowMs + H2_GOAWAY_GRACE_MS;
  session.close();
}

export function createH2(app: App): Http2Server {
  const server = createServer({
    maxSessionMemory: H2_MAX_SESSION_MEMORY_MB,
    maxHeaderListPairs: H2_MAX_HEADER_PAIRS,
    maxOutstandingPings: H2_MAX_OUTSTANDING_PINGS,
    maxSessionRejectedStreams: H2_MAX_REJECTED_STREAMS,
    maxSessionInvalidFrames: H2_MAX_INVALID_FRAMES,
    settings: {
      maxConcurrentStreams: H2_MAX_CONCURRENT_STREAMS,
      maxHeaderListSize: H2_MAX_HEADER_LIST_BYTES,
      enablePush: false,
    },
  });
  server.on('stream', (stream, headers) => onStream(app, stream, headers));
  server.on('sessionError', () => app.metrics.reject('h2-session-error'));
  return server;
}

/** Hand an established h2 TLS connection to the http2 server. */
export function adoptH2(app: App, server: Http2Server, socket: TLSSocket, remote: string, key: string): void {
  server.once('session', (session: Http2Session) => {
    const life = new H2Life(remote, key, app.now(), socket);
    sessionInfo.set(session, life);
    app.h2Sessions.set(session, life);
    session.once('close', () => app.h2Sessions.delete(session));
    // A GOAWAY either way (the peer's, or ours from node:http2's flood limits): the session has a short time left.
    const ending = (): void => {
      life.goaway = true;
      life.deadlineMs = Math.min(life.deadlineMs, app.now() + H2_GOAWAY_GRACE_MS);
    };
    session.once('goaway', ending);
    session.once('error', ending);
  });
  server.emit('connection', socket);
}

function authority(headers: IncomingHttpHeaders): string | null {
  const a = headers[':authority'] ?? headers.host;
  if (typeof a !== 'string' || a === '') return null;
  const lower = a.toLowerCase();
  if (lower.startsWith('[')) {
    const end = lower.indexOf(']');
    return end < 0 ? lower : lower.slice(0, end + 1);
  }
  const colon = lower.indexOf(':');
  return colon < 0 ? lower : lower.slice(0, colon);
}

function onStream(app: App, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): void {
  const si = sessionInfo.get(stream.session!) ?? new H2Life('-', '-', app.now());
  const method = String(headers[':method'] ?? '');
  const target = String(headers[':path'] ?? '');
  const q = target.indexOf('?');
  const info: RequestInfo = {
    method,
    path: q < 0 ? target : target.slice(0, q),
    query: q < 0 ? '' : target.slice(q + 1),
    host: authority(headers),
    secure: true,
    trusted: app.isTrusted(si.remote, String(headers.authorization ?? '')),
    userAgent: String(headers['user-agent'] ?? ''),
  };
  app.metrics.requests++;
  stream.on('error', noop);
  // The session's life: no deadline while a stream is open; the idle one starts when the last closes.
  si.streams++;
  si.streamed = true;
  stream.once('close', () => {
    if (--si.streams === 0) si.deadlineMs = app.now() + (si.goaway ? H2_GOAWAY_GRACE_MS : H2_IDLE_MS);
  });
  // A request body is read and dropped (not left in the stream's buffer, up to a window per stream), and bounded.
  let input = 0;
  stream.on('data', (d: Buffer) => {
    input += d.length;
    if (input > MAX_STREAM_INPUT_BYTES && !stream.destroyed && !stream.closed) {
      app.metrics.reject('stream-input');
      stream.close(constants.NGHTTP2_CANCEL);
    }
  });
  const isHead = method === 'HEAD';
  const startMs = app.now();
  const log = (status: number, bytes: number): void =>
    app.accessLog.write({
      remote: si.remote, startMs, method, target, protocol: 'HTTP/2.0', status, bodyBytes: bytes, totalBytes: bytes,
      referer: String(headers.referer ?? ''), userAgent: String(headers['user-agent'] ?? ''), endMs: app.now(),
    });
  const a = decide(app, info, target, isHead, { remote: si.remote, key: si.key, sink: stream, transport: TRANSPORT.H2 });
  const send = (h: Record<string, string>, body: Uint8Array | string | null): void => {
    if (body === null || isHead) stream.respond(h, { endStream: true });
    else {
      stream.respond(h);
      stream.end(body);
    }
  };
  switch (a.kind) {
    case 'canned':
    case 'metrics': {
      const h: Record<string, string> = { ':status': '200', 'x-content-type-options': 'nosniff' };
      let body: Uint8Array | string;
      if (a.kind === 'metrics') {
        body = app.metricsText();
        h['content-type'] = 'text/plain; version=0.0.4; charset=utf-8';
      } else {
        const b = app.responses.body(a.name);
        h[':status'] = String(b.status);
        body = b.body;
        if (b.contentType) h['content-type'] = b.contentType;
        addHeaders(h, b.headers);
      }
      if (a.kind === 'metrics' || a.junk === null) log(Number(h[':status']), isHead ? 0 : Buffer.byteLength(body));
      send(h, body);
      return;
    }
    case 'busy': {
      // 503 with the tiny grey GIF (full server, or the finite-GIF budget spent): an <img> still shows something.
      const b = app.responses.body('busy');
      const h: Record<string, string> = { ':status': '503', 'content-type': 'image/gif' };
      addHeaders(h, b.headers);
      log(503, isHead ? 0 : b.body.length);
      send(h, b.body);
      return;
    }
    case 'finite': {
      const f = a.gif;
      const h: Record<string, string> = { ':status': '200', 'content-type': 'image/gif', 'content-length': String(f.body.length), 'x-content-type-options': 'nosniff' };
      addHeaders(h, FINITE_HEADERS);
      log(200, isHead ? 0 : f.body.length);
      send(h, f.body);
      return;
    }
    case 'stream-head':
      send(streamHeaders(a.mode), null);
      log(200, 0);
      return;
    case 'stream': {
      const v = a.viewer;
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        app.closeViewer(v, si.key);
        log(200, v.bytes);
      };
      v.evict = (reason) => {
        if (reason === 'stalled') {
          finish();
          stream.close(constants.NGHTTP2_CANCEL);
          return;
        }
        const end = app.streamEnding(v);
        finish();
        stream.end(end);
      };
      stream.once('close', finish);
      stream.respond(streamHeaders(a.mode));
      stream.write(app.streamIntro(v, 'h2'));
      return;
    }
  }
}

function streamHeaders(mode: StreamMode): Record<string, string> {
  return addHeaders({ ':status': '200' }, STREAM_HEADERS[mode]);
}

/** HTTP/1 header pairs (responses.ts) into an h2 header object: names lower-cased. */
function addHeaders(h: Record<string, string>, pairs: readonly (readonly [string, string])[] | undefined): Record<string, string> {
  for (const [k, v] of pairs ?? []) h[k.toLowerCase()] = v;
  return h;
}

function noop(): void {}
