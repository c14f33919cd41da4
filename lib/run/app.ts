// The server's state and policy: accepted sockets (listen.ts hands them over) through admission (guard/admission.ts:
// lists, per-address table, PROXY headers), the connection cap and TLS handshakes; viewers and channels, the
// per-second tick, reload and shutdown. It does not know what process runs it (server.ts, cluster.ts). The HTTP/1
// and HTTP/2 connections (http1-conn.ts, http2.ts) hold it by type only: no module it imports imports it back at
// run time.

import type { Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { ChannelRegistry } from '../stream/channel.js';
import { fanOut, newFanoutStats, type FanoutLimits } from '../stream/fanout.js';
import { AccessLog, FaultLog } from '../core/log.js';
import { Metrics } from '../core/metrics.js';
import { FINITE_HEADERS, Responses } from '../http/responses.js';
import { buildHead, buildResponse } from '../http/canned.js';
import { ipKey, isLoopback } from '../guard/cidr.js';
import { Admission, type Lists } from '../guard/admission.js';
import type { PeerTable } from '../guard/peers.js';
import { H1Conn, STATE } from '../http/http1-conn.js';
import { TRANSPORT, TRANSPORT_NAMES, Viewer, type Sink, type Transport } from '../stream/viewer.js';
import type { Config } from '../core/config.js';
import { DEFAULT_FACE, faceKey, type FaceOptions } from '../face/face.js';
import type { RouteContext, StreamMode } from '../http/routes.js';
import { TlsTerminator } from '../http/tls.js';
import { adoptH2, checkH2Deadline, createH2, type H2Life } from '../http/http2.js';
import type { Http2Server, Http2Session } from 'node:http2';
import type { SecureContext } from 'node:tls';
import { BAD_PROXY, MORE, REFUSED } from '../guard/proxy.js';
import {
  FINITE_MAX_FACES, H2_SESSION_BYTES, HANDSHAKE_TIMEOUT_MS, RECLAIM_BATCH, RECLAIM_SCAN, MAX_CHANNELS, MAX_CHANNELS_PER_IP, MAX_VIEWER_BACKLOG_BYTES, PLAIN_CONN_BYTES, RSS_HARD_FACTOR, TLS_CONN_BYTES,
  VIEWER_STALL_MS,
} from '../core/limits.js';
import { FiniteGifs, type FiniteGif } from '../stream/finite.js';
import { FaceRings } from '../face/ring.js';

const DEFAULT_KEY = faceKey(DEFAULT_FACE);

/** File descriptors kept back from the viewer capacity: listeners, log files, certificates, reloads. */
const FD_RESERVE = 64;
/** Client faults are summarised once per this many seconds. */
const FAULT_LOG_INTERVAL_S = 60;

export interface AppOptions {
  now?: () => number;
  fanout?: Partial<FanoutLimits>;
}

/** The soft open-files limit of this process (Node raises it to the hard limit at start), from /proc. */
export function openFilesLimit(): number | null {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/**
 * A connection's place under --max-connections, taken at accept and given back exactly once by whichever end comes
 * first: the one owner of a connection's accounting for every transport (plain: H1Conn.close, at once, so a
 * reclaimed slot is free for the accept that reclaimed it; TLS: the raw socket's close, h2 sessions included).
 */
export class Slot {
  private open = true;
  private readonly app: App;
  private readonly tls: boolean;

  constructor(app: App, tls: boolean) {
    this.app = app;
    this.tls = tls;
    app.metrics.connectionsOpen++;
    if (tls) app.tlsOpen++;
  }

  release(): void {
    if (!this.open) return;
    this.open = false;
    this.app.metrics.connectionsOpen--;
    if (this.tls) this.app.tlsOpen--;
  }
}

export class App {
  // Set from the config by applyConfig (at start and on every reload).
  cfg!: Config;
  routeCtx!: RouteContext;
  maxConnections!: number;
  memoryLimitBytes!: number;
  /** `Bearer <--metrics-token>`, built once, compared per request. */
  private bearer!: string | null;
  readonly metrics = new Metrics();
  /** Client faults, sampled for the log and counted in `rejects` by the one call. */
  readonly faults = new FaultLog((reason) => this.metrics.reject(reason));
  /** Each face's encoded seconds, shared by its live channel and its finite GIFs (face/ring.ts). */
  private readonly rings = new FaceRings(MAX_CHANNELS + FINITE_MAX_FACES);
  readonly channels = new ChannelRegistry(MAX_CHANNELS, this.rings);
  readonly responses: Responses;
  /** The lists and the per-address table: who may connect, at accept and behind a balancer. */
  readonly admission: Admission;
  accessLog: AccessLog;
  /** HTTP/1 connections that are not streaming: their header, idle or linger deadlines run on the tick. */
  readonly pending = new Set<H1Conn>();
  /** Raw sockets of TLS listeners still before the end of their handshake, with deadlines (checked on the tick). */
  readonly handshakes = new Map<Socket, number>();
  readonly h2Sessions = new Map<Http2Session, H2Life>();
  tls: TlsTerminator | null = null;
  private h2: Http2Server | null = null;
  readonly viewersByTransport = [0, 0, 0];
  /** Multipart (WebKit) viewers among them; the rest are endless-GIF viewers. */
  multipartViewers = 0;
  readonly openFiles: number | null;
  rssBytes = 0;
  /** RSS of the idle process at start: the base of the memory guard's estimate. */
  private readonly baseRssBytes: number;
  /** Open connections of the TLS listeners (handshaking, HTTP/1.1 or h2). */
  tlsOpen = 0;
  /** Distinct channels each address watches, by channel key, with its viewer count there (zone slots). */
  private readonly peerChannels = new Map<string, Map<string, number>>();
  draining = false;
  /** Finite GIFs: each face's encoded seconds, this second's assembled GIFs and their budget. */
  private readonly finites = new FiniteGifs({}, this.rings);
  readonly now: () => number;
  private readonly fanoutLimits: FanoutLimits;
  private readonly stats = newFanoutStats();
  private readonly partStats = newFanoutStats();

  constructor(cfg: Config, lists: Lists, opts: AppOptions = {}) {
    this.now = opts.now ?? Date.now;
    const second = Math.floor(this.now() / 1000);
    this.responses = new Responses(second);
    this.admission = new Admission(cfg, lists, this.metrics, this.faults, this.now);
    this.accessLog = new AccessLog(cfg.accessLog);
    this.fanoutLimits = { maxBacklogBytes: MAX_VIEWER_BACKLOG_BYTES, stallMs: VIEWER_STALL_MS, ...opts.fanout };
    this.openFiles = openFilesLimit();
    this.applyConfig(cfg);
    this.rssBytes = this.baseRssBytes = rss(0);
    this.channels.pin(DEFAULT_FACE, second);
  }

  private applyConfig(cfg: Config): void {
    this.cfg = cfg;
    this.routeCtx = routeContext(cfg);
    this.bearer = cfg.metricsToken === null ? null : `Bearer ${cfg.metricsToken}`;
    this.maxConnections = cfg.maxConnections ?? Math.max(16, (this.openFiles ?? 1024) - FD_RESERVE);
    // Without --memory-limit-mb the default bound is shared between the workers (each is its own process).
    this.memoryLimitBytes = (cfg.memoryLimitMb ?? Math.floor(defaultMemoryLimitMb() / cfg.workers)) * 1024 * 1024;
  }

  /** Swap in a new config (SIGHUP). Lists were loaded and checked by the caller, so this cannot fail halfway. */
  reconfigure(cfg: Config, lists: Lists): void {
    this.applyConfig(cfg);
    this.admission.reconfigure(cfg, lists);
    // Reopened on every reload, so logrotate can move the file and send SIGHUP (like nginx's USR1).
    void this.accessLog.close();
    this.accessLog = new AccessLog(cfg.accessLog);
  }

  get lists(): Lists {
    return this.admission.lists;
  }

  get peers(): PeerTable {
    return this.admission.peers;
  }

  /** A plain TCP connection accepted on a listener (TLS ones come through tls.ts once their handshake is done). */
  onConnection = (socket: Socket): void => {
    this.acceptRaw(socket, false, this.plainConnection);
  };

  /** Made once, not per accept: a junk flood's connections allocate no closure here. */
  private readonly plainConnection = (s: Socket, remote: string, key: string, viaProxy: boolean, slot: Slot): void => {
    new H1Conn(this, s, remote, key, TRANSPORT.H1, viaProxy, s, slot);
  };

  /** Turn on TLS listeners' handling with this certificate (and again on reload). */
  setSecureContext(ctx: SecureContext): void {
    const policy = { hosts: this.routeCtx.hosts, requireSni: this.cfg.requireSni };
    if (this.tls === null) this.tls = new TlsTerminator(ctx, policy, (r) => this.metrics.reject(r));
    else this.tls.update(ctx, policy);
    this.h2 ??= createH2(this);
  }

  /** A TCP connection on a TLS listener: admitted like any other before the handshake costs anything. */
  onTlsConnection = (socket: Socket): void => {
    if (this.tls === null) {
      socket.destroy();
      return;
    }
    this.acceptRaw(socket, true, (raw, remote, key, viaProxy, slot) => {
      // The raw socket's close returns the slot (an HTTP/1.1 connection over TLS does not: it ends with its socket).
      const release = (): void => {
        this.handshakes.delete(raw);
        slot.release();
      };
      this.handshakes.set(raw, this.now() + HANDSHAKE_TIMEOUT_MS);
      if (!viaProxy) {
        this.startTls(raw, remote, key, release);
        return;
      }
      // PROXY header first (it precedes the TLS ClientHello), then the handshake on the rest of the bytes.
      raw.once('close', release);
      let buf: Buffer | null = null;
      const onData = (chunk: Buffer): void => {
        buf = buf === null ? chunk : Buffer.concat([buf, chunk]);
        const step = this.admission.proxyStep(buf, remote, key);
        if (step === MORE) return;
        raw.off('data', onData);
        if (step === BAD_PROXY || step === REFUSED) {
          raw.destroy();
          return;
        }
        raw.off('close', release);
        raw.pause();
        if (step.rest !== null) raw.unshift(step.rest);
        this.startTls(raw, step.remote, step.key, release);
      };
      raw.on('data', onData);
      raw.on('error', noop);
    });
  };

  private startTls(raw: Socket, remote: string, key: string, release: () => void): void {
    const deadline = this.handshakes.get(raw) ?? this.now() + HANDSHAKE_TIMEOUT_MS;
    this.handshakes.delete(raw);
    const s = this.tls!.wrap(
      raw,
      (tlsSocket, alpn) => {
        this.handshakes.delete(tlsSocket);
        if (this.draining) tlsSocket.destroy();
        else if (alpn === 'h2') adoptH2(this, this.h2!, tlsSocket, remote, key);
        else new H1Conn(this, tlsSocket, remote, key, TRANSPORT.H1_TLS, false, raw);
      },
      noop,
    );
    this.handshakes.set(s, deadline);
    s.once('close', () => {
      this.handshakes.delete(s);
      release();
    });
  }

  /**
   * Accept-time checks shared by every listener: the socket is dropped without a byte if the peer is blocked
   * or over its rate, or if the connection cap is reached; peers in --proxy-protocol-from are checked again
   * once their header names the real client.
   */
  acceptRaw(socket: Socket, tls: boolean, then: (s: Socket, remote: string, key: string, expectProxy: boolean, slot: Slot) => void): void {
    this.metrics.connectionsAccepted++;
    const addr = socket.remoteAddress;
    if (addr === undefined || this.draining) {
      socket.destroy();
      return;
    }
    const viaProxy = this.admission.isBalancer(addr);
    const key = viaProxy ? ipKey(addr) : this.admission.admit(addr);
    if (key === null) {
      socket.destroy();
      return;
    }
    if (this.metrics.connectionsOpen >= this.maxConnections) this.reclaimIdle();
    if (this.metrics.connectionsOpen >= this.maxConnections) {
      this.metrics.reject('max-connections');
      socket.destroy();
      return;
    }
    then(socket, addr, key, viaProxy, new Slot(this, tls));
  }

  /**
   * At the connection cap, close the oldest idle keep-alive connections (like nginx's ngx_drain_connections): a
   * browser that kept one open for its next request pays a reconnect; a new visitor is not refused while idle
   * sockets hold the slots. Bounded: looks at RECLAIM_SCAN connections at most, closes RECLAIM_BATCH at most.
   * Plain connections free their slot at once, TLS ones when their socket has closed (the next accept sees it).
   */
  private reclaimIdle(): void {
    let scanned = 0, closed = 0;
    for (const c of this.pending) {
      if (++scanned > RECLAIM_SCAN || closed >= RECLAIM_BATCH) break;
      if (!c.idleKeptAlive) continue;
      c.close('reclaimed');
      closed++;
    }
  }

  get viewers(): number {
    const t = this.viewersByTransport;
    return t[0]! + t[1]! + t[2]!;
  }

  isTrusted(remote: string, authorization: string): boolean {
    return isLoopback(remote) || (this.bearer !== null && authorization === this.bearer);
  }

  /** A new viewer on `face`, or the reason it was refused (the caller answers 503 + GIF). */
  openViewer(sink: Sink, transport: Transport, face: FaceOptions, mode: StreamMode, key: string, remote: string): Viewer | string {
    const reason =
      this.draining ? 'draining'
      : this.viewers >= this.cfg.maxViewers ? 'max-viewers'
      : this.memoryHeldBytes > this.memoryLimitBytes || this.rssBytes > this.memoryLimitBytes * RSS_HARD_FACTOR ? 'memory'
      : null;
    if (reason !== null) return this.refuse(reason, remote);
    // Zone slots: one address may watch only a few distinct non-default faces, so it cannot take every channel.
    const chKey = face === DEFAULT_FACE ? DEFAULT_KEY : faceKey(face);
    const counted = chKey !== DEFAULT_KEY;
    const held = counted ? this.peerChannels.get(key) : undefined;
    if (held !== undefined && !held.has(chKey) && held.size >= MAX_CHANNELS_PER_IP) return this.refuse('channels-per-ip', remote);
    if (!this.peers.openStream(key)) return this.refuse('streams-per-ip', remote);
    const ch = this.channels.acquire(face, Math.floor(this.now() / 1000));
    if (ch === null) {
      this.peers.closeStream(key);
      return this.refuse('max-channels', remote);
    }
    if (counted) {
      let m = held;
      if (m === undefined) this.peerChannels.set(key, (m = new Map()));
      m.set(chKey, (m.get(chKey) ?? 0) + 1);
    }
    const v = new Viewer(sink, transport, mode);
    ch.add(v);
    this.viewersByTransport[transport]!++;
    if (mode === 'multipart') this.multipartViewers++;
    this.metrics.viewersStarted++;
    return v;
  }

  private refuse(reason: string, remote: string): string {
    this.faults.note(reason, remote, 'stream refused');
    return reason;
  }

  /**
   * The first write of a stream, shared per second: head (HTTP/1 only) + prologue + the current keyframe, or
   * for multipart head + the first part. Counted as intro bytes.
   */
  streamIntro(v: Viewer, kind: 'h1' | 'h2'): Buffer {
    const intro = v.channel!.intro(kind + v.mode, kind === 'h1' ? this.responses.streamHead(v.mode) : null, v.mode);
    this.countStreamBytes(v, intro.length);
    this.metrics.introBytes += intro.length;
    return intro;
  }

  /** The last write of a deliberately ended stream (shutdown): the trailer, or a last part and the close delimiter. */
  streamEnding(v: Viewer): Buffer {
    const end = v.channel!.current.ending(v.mode);
    this.countStreamBytes(v, end.length);
    return end;
  }

  private countStreamBytes(v: Viewer, n: number): void {
    v.bytes += n;
    if (v.mode === 'multipart') this.metrics.multipartBytes += n;
    else this.metrics.gifBytes += n;
  }

  closeViewer(v: Viewer, key: string): void {
    const ch = v.channel;
    if (ch === null) return;
    ch.remove(v);
    if (ch.key !== DEFAULT_KEY) {
      const m = this.peerChannels.get(key);
      const n = m?.get(ch.key) ?? 0;
      if (n > 1) m!.set(ch.key, n - 1);
      else if (m !== undefined) {
        m.delete(ch.key);
        if (m.size === 0) this.peerChannels.delete(key);
      }
    }
    this.viewersByTransport[v.transport]!--;
    if (v.mode === 'multipart') this.multipartViewers--;
    this.peers.closeStream(key);
  }

  /** Set in a cluster worker (cluster.ts): turns this process's metrics text into the whole server's. */
  metricsAcross: ((own: string) => string) | null = null;

  /** The /metrics body: this process's metrics, or every worker's when metricsAcross is set. */
  metricsText(): string {
    const own = this.ownMetricsText();
    return this.metricsAcross === null ? own : this.metricsAcross(own);
  }

  ownMetricsText(): string {
    const byTransport: Record<string, number> = {};
    TRANSPORT_NAMES.forEach((n, i) => (byTransport[n] = this.viewersByTransport[i]!));
    this.metrics.accessLogDropped = this.accessLog.dropped;
    return this.metrics.render(
      {
        channels: this.channels.channels.size,
        peers_tracked: this.peers.size,
        max_viewers: this.cfg.maxViewers,
        max_connections: this.maxConnections,
        memory_limit_bytes: this.memoryLimitBytes,
        blocklist_ranges: this.lists.blocklist.size,
        memory_held_estimate_bytes: this.memoryHeldBytes,
        max_channels: MAX_CHANNELS,
        peers_watching_zones: this.peerChannels.size,
      },
      byTransport,
      { gif: this.viewers - this.multipartViewers, multipart: this.multipartViewers },
      this.rssBytes,
    );
  }

  /** `?seconds=N` (finite.ts): the GIF from this second, or null when its encoding budget is spent (counted; 503). */
  finiteGif(face: FaceOptions, seconds: number, loop: number | null = null): FiniteGif | null {
    const f = this.finites.get(face, seconds, this.now(), loop ?? undefined);
    if (f === null) this.metrics.reject('finite-budget');
    return f;
  }

  /** The HTTP/1 head of a finite GIF: Content-Length, no caching by anyone (the same as the stream). */
  finiteHead(f: FiniteGif, keepAlive: boolean): Buffer {
    const i = keepAlive ? 1 : 0;
    return (f.heads[i] ??= buildHead(200, this.responses.dateString, { keepAlive, contentType: 'image/gif', body: f.body, headers: FINITE_HEADERS }));
  }

  /**
   * 308 to https on a configured name only (the request's Host if it is one, else the first): a Host header is the
   * client's word, and copying it would send browsers anywhere. The TLS listener's port is kept unless it is 443.
   */
  redirectResponse(host: string | null, target: string, keepAlive: boolean, head: boolean): Buffer {
    const hosts = this.routeCtx.hosts;
    const name = host !== null && hosts.has(host) ? host : this.cfg.hosts[0]!;
    const port = this.cfg.tlsListen[0]?.port;
    const authority = port === undefined || port === 443 || port === 0 ? name : `${name}:${port}`;
    return this.responses.redirect(authority, target, keepAlive, head);
  }

  metricsResponse(keepAlive: boolean, head: boolean): Buffer {
    const o = { keepAlive, contentType: 'text/plain; version=0.0.4; charset=utf-8', body: this.metricsText(), headers: [['Cache-Control', 'no-store']] as [string, string][] };
    return head ? buildHead(200, this.responses.dateString, o) : buildResponse(200, this.responses.dateString, o);
  }

  /** The clock's tick: write second `t` to every viewer, then check deadlines. Nothing here encodes. */
  tick = (t: number, nowMs: number): void => {
    this.metrics.ticks++;
    this.responses.refresh(t);
    const stats = this.stats;
    const partStats = this.partStats;
    for (const ch of this.channels.channels.values()) {
      if (ch.size === 0) continue;
      const frames = ch.advance(t);
      if (ch.viewers.length > 0) fanOut(ch.viewers, frames, nowMs, this.fanoutLimits, stats);
      if (ch.partViewers.length > 0) fanOut(ch.partViewers, frames.parts, nowMs, this.fanoutLimits, partStats);
    }
    const m = this.metrics;
    m.framesDelta += stats.framesDelta;
    m.framesKey += stats.framesKey;
    m.framesPart += partStats.framesDelta + partStats.framesKey; // the same Buffer either way
    m.frameBytes += stats.bytes + partStats.bytes;
    m.gifBytes += stats.bytes;
    m.multipartBytes += partStats.bytes;
    m.framesSkipped += stats.skipped + partStats.skipped;
    m.viewersEvicted += stats.evicted + partStats.evicted;
    for (const st of [stats, partStats]) st.framesDelta = st.framesKey = st.bytes = st.skipped = st.evicted = 0;
    m.observeDelivery(this.now() - t * 1000);
    // Bookkeeping after the writes: deadlines, sweeps, memory.
    for (const c of this.pending) c.checkDeadline(nowMs);
    for (const [s, deadline] of this.handshakes)
      if (nowMs >= deadline) {
        this.metrics.reject('handshake-timeout');
        this.handshakes.delete(s);
        s.destroy();
      }
    for (const [s, life] of this.h2Sessions) checkH2Deadline(this, s, life, nowMs);
    this.channels.sweep();
    this.peers.sweep(nowMs);
    this.rssBytes = rss(this.rssBytes);
    if (t % FAULT_LOG_INTERVAL_S === 0) this.faults.flush(FAULT_LOG_INTERVAL_S);
  };

  /** After the tick: render and encode second `t` for every channel, ahead of its boundary. */
  prepare = (t: number): void => {
    for (const ch of this.channels.channels.values()) if (ch.size > 0) ch.prepare(t);
  };

  /** Stop taking viewers and end every stream with the trailer; resolves when all connections closed. */
  drain(): void {
    this.draining = true;
    for (const ch of this.channels.channels.values())
      for (const v of [...ch.viewers, ...ch.partViewers]) v.evict('shutdown');
    for (const c of [...this.pending]) if (c.state !== STATE.CLOSING) c.close('shutdown');
    for (const s of this.handshakes.keys()) s.destroy();
    for (const s of this.h2Sessions.keys()) s.close(); // GOAWAY; streams already ended with the trailer
  }

  /**
   * What the process holds, estimated from what is open (each connection at its measured cost) on top of the idle
   * process: unlike RSS, it falls back when a wave of connections is gone, so the memory guard releases.
   */
  get memoryHeldBytes(): number {
    const h2 = this.h2Sessions.size;
    const plain = this.metrics.connectionsOpen - this.tlsOpen;
    return this.baseRssBytes + plain * PLAIN_CONN_BYTES + this.tlsOpen * TLS_CONN_BYTES + h2 * H2_SESSION_BYTES;
  }

  get connections(): number {
    return this.metrics.connectionsOpen;
  }
}

/** RSS in bytes; reading it opens /proc/self/stat, which fails when the process is out of descriptors. */
export function rss(fallback: number): number {
  try {
    return process.memoryUsage.rss();
  } catch {
    return fallback;
  }
}

function routeContext(cfg: Config): RouteContext {
  return { hosts: new Set(cfg.hosts), redirectHttps: cfg.redirectHttps };
}

function noop(): void {}

/** Without --memory-limit-mb: 75% of the cgroup's memory bound if there is one, else of physical memory. */
export function defaultMemoryLimitMb(): number {
  const total = totalmem();
  const constrained = process.constrainedMemory?.() ?? 0; // 0 or a huge number when unbounded
  const bytes = constrained > 0 && constrained < total ? constrained : total;
  return Math.floor((bytes * 0.75) / (1024 * 1024));
}
