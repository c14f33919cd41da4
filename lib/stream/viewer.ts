// A viewer: one endless GIF response, on an HTTP/1 socket or an HTTP/2 stream.
// Fixed-shape record, no timers: deadlines are checked on the clock's tick (see fanout.ts).

import type { Channel } from './channel.js';
import type { StreamMode } from './multipart.js';

/** What the fan-out writes to: net.Socket, tls.TLSSocket and http2 streams all fit. */
export interface Sink {
  readonly writableLength: number;
  write(chunk: Buffer): boolean;
}

export const TRANSPORT = { H1: 0, H1_TLS: 1, H2: 2 } as const;
export type Transport = (typeof TRANSPORT)[keyof typeof TRANSPORT];
export const TRANSPORT_NAMES = ['h1', 'h1_tls', 'h2'] as const;

/**
 * Largest single write to a TLS socket. Measured with Node 20 (perf/tls-write-size.mjs, perf/RESULTS.md): a bare
 * node:tls socket whose first answer is one write of 500 B or more keeps ~13-16 KiB more for the rest of the
 * connection (46-50 KiB instead of ~33-34 KiB); 480 B or less, or the same bytes in pieces, does not. Only intros and resync keyframes are that
 * large, so they go out in pieces on TLS sockets.
 */
export const TLS_WRITE_PIECE_BYTES = 448;

/**
 * Write `buf` to a sink, in pieces if it is an HTTP/1 TLS socket and the buffer is large (TLS_WRITE_PIECE_BYTES).
 * HTTP/2 streams are left alone: node:http2 gathers frames into its own socket writes (tls-bench's h2 RSS did
 * not change when they were split).
 */
export function writeToSink(sink: Sink, transport: Transport, buf: Buffer): void {
  if (transport !== TRANSPORT.H1_TLS || buf.length <= TLS_WRITE_PIECE_BYTES) {
    sink.write(buf);
    return;
  }
  for (let at = 0; at < buf.length; at += TLS_WRITE_PIECE_BYTES)
    sink.write(buf.subarray(at, Math.min(buf.length, at + TLS_WRITE_PIECE_BYTES)));
}

export class Viewer {
  /** The channel it watches, and its position in the channel's viewer array (swap-remove); null/-1 when detached. */
  channel: Channel | null = null;
  index = -1;
  /** The second of the last frame written; a viewer at t-1 gets delta(t), any other keyframe(t). */
  lastSecond = 0;
  /** When the viewer was first skipped in the current run of skips (0 = keeping up). */
  stalledSinceMs = 0;
  /** Bytes written (intro, frames, trailer), for the access log. */
  bytes = 0;
  /** Where a channel looks the viewer up to tell it to go (eviction, shutdown): set by its owner. */
  evict: (reason: 'stalled' | 'shutdown') => void = noop;
  readonly sink: Sink;
  readonly transport: Transport;
  /** An endless GIF, or multipart parts (each a whole one-frame GIF). */
  readonly mode: StreamMode;

  constructor(sink: Sink, transport: Transport, mode: StreamMode = 'gif') {
    this.sink = sink;
    this.transport = transport;
    this.mode = mode;
  }
}

function noop(): void {}
