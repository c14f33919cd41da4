// One HTTP/1.x connection (plain TCP or TLS after ALPN chose http/1.1), from its first byte to its close.
//
// States: PROXY (waiting for a PROXY protocol header from a trusted balancer) → HEAD (reading a request head;
// the deadline runs from accept) → answered: keep-alive back to HEAD (idle deadline), or CLOSING (response
// ended, lingering until the peer closes or the linger deadline), or STREAM (a viewer until the end).
// Every way out goes through close(reason): idempotent, fixes the counters, logs once.

import type { Socket } from 'node:net';
import { PARSE, RequestParser } from './http1-parser.js';
import type { App, Slot } from '../run/app.js';
import { BAD_PROXY, MORE, REFUSED } from '../guard/proxy.js';
import type { RequestInfo } from './routes.js';
import { decide } from './answer.js';
import type { FaultName } from './responses.js';
import { HEADER_TIMEOUT_MS, KEEPALIVE_IDLE_MS, KEEPALIVE_MAX_REQUESTS, LINGER_MS, MAX_PIPELINE_BYTES, MAX_STREAM_INPUT_BYTES, SEND_TIMEOUT_MS } from '../core/limits.js';
import { TRANSPORT, writeToSink, type Transport, type Viewer } from '../stream/viewer.js';

export const STATE = { PROXY: 0, HEAD: 1, STREAM: 2, CLOSING: 3, CLOSED: 4 } as const;
type State = (typeof STATE)[keyof typeof STATE];

/** Why a connection ended: stable codes that specs assert on and metrics count. */
export type CloseReason =
  | 'done' | 'client-closed' | 'error' | 'header-timeout' | 'idle-timeout' | 'linger-timeout'
  | 'bad-request' | 'too-large' | 'uri-too-long' | 'bad-version' | 'h2-preface' | 'bad-proxy'
  | 'blocked' | 'stalled' | 'shutdown' | 'stream-input' | 'send-timeout' | 'reclaimed';

/**
 * Closes that reset the connection instead of a FIN: the peer is not reading, so whatever the kernel still holds
 * for it would stay queued (kernel TCP memory no cap sees) for as long as the peer keeps the socket.
 */
const RESETS: ReadonlySet<CloseReason> = new Set(['stalled', 'send-timeout', 'linger-timeout']);

const FAULT_OF: Record<number, FaultName & CloseReason> = {
  [PARSE.BAD_REQUEST]: 'bad-request',
  [PARSE.TOO_LARGE]: 'too-large',
  [PARSE.URI_TOO_LONG]: 'uri-too-long',
  [PARSE.BAD_VERSION]: 'bad-version',
};

export class H1Conn {
  state: State;
  deadlineMs: number;
  private parser: RequestParser | null = null;
  private requests = 0;
  private proxyBuf: Buffer | null = null;
  private inputAfterStream = 0;
  /** The last chunk held bytes past the request just parsed (pipelining, a body): no abortive close then. */
  private trailing = false;
  private viewer: Viewer | null = null;
  /** Pipelined bytes not parsed yet, held while our answers wait for the peer to read (backpressure). */
  private held: Buffer | null = null;
  /** Bytes answered to pipelined requests in the current run of them (MAX_PIPELINE_BYTES). */
  private pipelineBytes = 0;
  /** Why we ended a kept-alive connection (idle): counted when the peer closes after our FIN. */
  private endReason: CloseReason = 'done';
  /** The TCP socket under a TLS one (a reset goes there), else the socket itself. */
  private readonly raw: Socket;
  /** The request being answered, for the access log of a stream (logged at close). */
  private reqStartMs = 0;
  private reqMethod = '';
  private reqTarget = '';
  private reqProto = '';
  private reqReferer = '';
  private reqAgent = '';
  private headBytes = 0;
  remote: string;
  key: string;
  readonly socket: Socket;
  readonly transport: Transport;
  private readonly app: App;
  /** The connection's place under --max-connections, when this connection owns it (plain TCP). */
  private readonly slot: Slot | null;

  constructor(app: App, socket: Socket, remote: string, key: string, transport: Transport, expectProxy: boolean, raw: Socket = socket, slot: Slot | null = null) {
    this.app = app;
    this.slot = slot;
    this.socket = socket;
    this.raw = raw;
    this.remote = remote;
    this.key = key;
    this.transport = transport;
    this.state = expectProxy ? STATE.PROXY : STATE.HEAD;
    this.deadlineMs = app.now() + HEADER_TIMEOUT_MS;
    app.pending.add(this);
    socket.on('data', this.onData);
    socket.on('error', this.onError); // 'close' follows every 'error'
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
    switch (this.state) {
      case STATE.HEAD:
        this.feed(chunk);
        return;
      case STATE.STREAM:
        this.inputAfterStream += chunk.length;
        if (this.inputAfterStream > MAX_STREAM_INPUT_BYTES) this.close('stream-input');
        return;
      case STATE.PROXY:
        this.feedProxy(chunk);
        return;
      default:
        return; // CLOSING: discard what a closing peer still sends
    }
  };

  /** The socket failed (a reset by the peer, mostly): the close that follows is counted as 'error'. */
  private errored = false;
  private readonly onError = (): void => {
    this.errored = true;
  };

  private readonly onClose = (): void => {
    this.close(this.state === STATE.CLOSING ? this.endReason : this.errored ? 'error' : 'client-closed');
  };

  /** Where a stream's frames go (answer.ts's Asker): the socket. */
  get sink(): Socket {
    return this.socket;
  }

  /** Kept alive between requests with nothing half-read or unsent: a FIN costs the client only a new connection. */
  get idleKeptAlive(): boolean {
    return this.state === STATE.HEAD && this.requests > 0 && this.held === null && (this.parser === null || this.parser.headerBytes === 0) && this.socket.writableLength === 0;
  }

  /** Hot path for junk floods: parse, route, one write of a canned Buffer. */
  private feed(chunk: Buffer): void {
    const app = this.app;
    const p = (this.parser ??= new RequestParser());
    for (;;) {
      const st = p.execute(chunk);
      if (st === PARSE.NEED_MORE) return;
      if (st !== PARSE.DONE) {
        if (st === PARSE.H2_PREFACE) {
          app.metrics.reject('h2-preface');
          this.close('h2-preface');
          return;
        }
        const fault = FAULT_OF[st]!;
        app.faults.noteBytes(p.reason || fault, this.remote, chunk);
        this.endWith(app.responses.fault(fault), fault);
        return;
      }
      app.metrics.requests++;
      this.requests++;
      this.trailing = p.consumed < chunk.length;
      if (!this.answer(p)) return;
      const rest = p.consumed < chunk.length ? chunk.subarray(p.consumed) : null;
      p.reset();
      if (this.socket.writableLength > 0) {
        // The kernel took less than the answer: the peer is not reading. Answer nothing more until it drains
        // (pipelined requests wait unparsed, reading stops), and reset it if it does not within SEND_TIMEOUT_MS.
        this.held = rest;
        this.socket.pause();
        this.deadlineMs = app.now() + SEND_TIMEOUT_MS;
        this.socket.once('drain', this.onDrain);
        return;
      }
      if (rest === null) return;
      chunk = rest;
    }
  }

  private readonly onDrain = (): void => {
    if (this.state !== STATE.HEAD) return;
    this.deadlineMs = this.app.now() + KEEPALIVE_IDLE_MS;
    const held = this.held;
    this.held = null;
    this.socket.resume();
    if (held !== null) this.feed(held);
  };

  /** Answer a parsed request; true if the connection stays in HEAD (keep-alive) for the next one. */
  private answer(p: RequestParser): boolean {
    const app = this.app;
    const isHead = p.method === 'HEAD';
    const info: RequestInfo = {
      method: p.method,
      path: p.path,
      query: p.query,
      host: p.host,
      secure: this.transport === TRANSPORT.H1_TLS,
      trusted: app.isTrusted(this.remote, p.authorization),
      userAgent: p.userAgent,
    };
    const a = decide(app, info, p.target, isHead, this);
    const keepAlive = p.keepAlive && this.requests < KEEPALIVE_MAX_REQUESTS && this.pipelineBytes < MAX_PIPELINE_BYTES && !app.draining;
    switch (a.kind) {
      case 'canned': {
        const buf = a.name === 'redirect-https' ? app.redirectResponse(p.host, p.target, keepAlive, isHead) : app.responses.get(a.name, keepAlive, isHead);
        if (a.junk === null) this.logRequest(p, a.status, buf);
        return this.reply(buf, keepAlive);
      }
      case 'metrics': {
        const buf = app.metricsResponse(keepAlive, isHead);
        this.logRequest(p, 200, buf);
        return this.reply(buf, keepAlive);
      }
      case 'finite': {
        const head = app.finiteHead(a.gif, keepAlive);
        this.logRequest(p, 200, head, isHead ? 0 : a.gif.body.length);
        return this.reply(head, keepAlive, isHead ? null : a.gif.body);
      }
      case 'busy': {
        // 503 + Retry-After with the tiny grey GIF (an <img> still shows something), then close; HEAD: the head alone.
        const busy = app.responses.get('busy', false, isHead);
        this.logRequest(p, 503, busy);
        this.endWith(busy);
        return false;
      }
      case 'stream-head': {
        const head = app.responses.streamHead(a.mode);
        this.logRequest(p, 200, head);
        this.endWith(head);
        return false;
      }
      case 'stream': {
        this.saveRequest(p);
        const v = a.viewer;
        this.viewer = v;
        v.evict = this.evict;
        this.state = STATE.STREAM;
        this.parser = null;
        app.pending.delete(this);
        this.headBytes = app.responses.streamHead(a.mode).length;
        writeToSink(this.socket, this.transport, app.streamIntro(v, 'h1'));
        return false;
      }
    }
  }

  /**
   * Send an answer: `head` alone (a canned Buffer), or `head` and a shared `body` (a finite GIF) corked into one
   * write, nothing copied per request. Counts toward the pipeline bound when more requests were already waiting.
   */
  private reply(head: Buffer, keepAlive: boolean, body: Buffer | null = null): boolean {
    this.pipelineBytes = this.trailing ? this.pipelineBytes + head.length + (body?.length ?? 0) : 0;
    if (keepAlive) {
      this.send(head, body);
      this.deadlineMs = this.app.now() + KEEPALIVE_IDLE_MS;
      return true;
    }
    // Like nginx for a request that can have nothing after it: write and close at once, no half-close and
    // lingering (it halves the system calls of a connection-per-request flood). Only when the response went
    // straight into the kernel and nothing unread is pending, which would turn the close into a reset.
    // A connection's first answer only (a connection-per-request flood): after several, the peer may not be reading,
    // and a FIN would leave the kernel holding the answers for it; endWith's linger resets such a peer.
    if (this.transport === TRANSPORT.H1 && this.requests === 1 && !this.trailing && !this.parser!.hasBody) {
      this.send(head, body);
      if (this.socket.writableLength === 0) this.close('done');
      else this.endWith(null);
    } else if (body === null) this.endWith(head);
    else {
      this.send(head, body);
      this.endWith(null);
    }
    return false;
  }

  private send(head: Buffer, body: Buffer | null): void {
    if (body === null) {
      this.socket.write(head);
      return;
    }
    this.socket.cork();
    this.socket.write(head);
    this.socket.write(body);
    this.socket.uncork();
  }

  /**
   * Write a last response (if not written yet) and close our side; the peer gets LINGER_MS to close its own,
   * the deadline checked on the tick like every other.
   */
  private endWith(buf: Buffer | null, reason: CloseReason = 'done'): void {
    this.state = STATE.CLOSING;
    this.endReason = reason;
    this.held = null;
    this.parser = null;
    this.deadlineMs = this.app.now() + LINGER_MS;
    this.app.pending.add(this);
    if (buf === null) this.socket.end();
    else this.socket.end(buf);
  }

  private feedProxy(chunk: Buffer): void {
    const buf = (this.proxyBuf = this.proxyBuf === null ? chunk : Buffer.concat([this.proxyBuf, chunk]));
    const step = this.app.admission.proxyStep(buf, this.remote, this.key);
    if (step === MORE) return;
    if (step === BAD_PROXY || step === REFUSED) {
      this.close(step === BAD_PROXY ? 'bad-proxy' : 'blocked');
      return;
    }
    this.proxyBuf = null;
    this.remote = step.remote;
    this.key = step.key;
    this.state = STATE.HEAD;
    if (step.rest !== null) this.feed(step.rest);
  }

  /** Called on the clock's tick for connections in app.pending. */
  checkDeadline(nowMs: number): void {
    if (nowMs < this.deadlineMs) return;
    if (this.state === STATE.CLOSING) this.close('linger-timeout');
    else if (this.state === STATE.HEAD && this.parser !== null && this.parser.headerBytes > 0) {
      this.app.faults.note('header-timeout', this.remote, String(this.parser.headerBytes), 'bytes of head');
      this.endWith(this.app.responses.fault('timeout'), 'header-timeout');
    } else if (this.requests === 0) this.close('header-timeout');
    else if (this.socket.writableLength > 0) this.close('send-timeout');
    // Idle after answers: a FIN, and the linger deadline resets a peer that does not close (it may not be reading).
    else this.endWith(null, 'idle-timeout');
  }

  private readonly evict = (reason: 'stalled' | 'shutdown'): void => {
    if (reason === 'stalled') {
      this.close('stalled');
      return;
    }
    // End on a frame boundary: every write is whole frames, so the trailer (or the close delimiter) ends cleanly.
    const end = this.viewer === null ? null : this.app.streamEnding(this.viewer);
    this.detachViewer();
    this.endWith(end);
  };

  private detachViewer(): void {
    const v = this.viewer;
    if (v === null) return;
    this.viewer = null;
    this.app.closeViewer(v, this.key);
    if (!this.app.accessLog.enabled) return;
    this.app.accessLog.write({
      remote: this.remote, startMs: this.reqStartMs, method: this.reqMethod, target: this.reqTarget,
      protocol: this.reqProto, status: 200, bodyBytes: v.bytes - this.headBytes, totalBytes: v.bytes, referer: this.reqReferer,
      userAgent: this.reqAgent, endMs: this.app.now(),
    });
  }

  close(reason: CloseReason): void {
    if (this.state === STATE.CLOSED) return;
    this.state = STATE.CLOSED;
    const app = this.app;
    app.pending.delete(this);
    this.detachViewer();
    this.parser = null;
    this.proxyBuf = null;
    app.metrics.closed(reason);
    // A plain connection's slot is given back here; a TLS one's when its raw socket closes (app.ts).
    this.slot?.release();
    this.held = null;
    if (RESETS.has(reason)) resetSocket(this.raw);
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** Keep what the stream's access-log line needs (nothing when logging is off: it costs RSS per viewer). */
  private saveRequest(p: RequestParser): void {
    this.reqStartMs = this.app.now();
    if (!this.app.accessLog.enabled) return;
    this.reqMethod = p.method;
    this.reqTarget = p.target;
    this.reqProto = p.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1';
    this.reqReferer = p.referer;
    this.reqAgent = p.userAgent;
  }

  /**
   * One access-log line for an answer given in one write: `response` is everything sent (head + body), or the
   * head when `extraBody` bytes of body went out after it.
   */
  private logRequest(p: RequestParser, status: number, response: Buffer, extraBody = 0): void {
    if (!this.app.accessLog.enabled) return;
    const now = this.app.now();
    const total = response.length + extraBody;
    const body = total - (response.indexOf('\r\n\r\n') + 4);
    this.app.accessLog.write({
      remote: this.remote, startMs: now, method: p.method, target: p.target,
      protocol: p.versionMinor === 0 ? 'HTTP/1.0' : 'HTTP/1.1', status, bodyBytes: body, totalBytes: total,
      referer: p.referer, userAgent: p.userAgent, endMs: now,
    });
  }

}


/** RST instead of FIN (SO_LINGER 0): the kernel drops what it still holds for the peer. Falls back to destroy. */
function resetSocket(s: Socket): void {
  if (s.destroyed) return;
  const handle = (s as unknown as { _handle: { reset?: unknown } | null })._handle;
  if (handle !== null && typeof handle.reset === 'function') s.resetAndDestroy();
  else s.destroy();
}
