// Per-IP state: a token bucket on new connections and a count of open streams, keyed by ipKey() (IPv4 address or
// IPv6 /64), in a table with a hard size bound.
//
// Bounded memory: the table never holds more than maxEntries entries. Entries with no open stream ("idle") sit in
// an intrusive LRU list (least recently used at the head); a new key that finds the table full evicts the head in
// O(1). Forgetting an idle peer only forgets its bucket, which refills to full anyway. If every entry holds a
// stream, nothing can be evicted without losing a stream count, so new keys share one overflow entry with the limits
// of a single IP (connRatePerSec, connBurst, maxStreamsPerIp): under such pressure strangers are squeezed together
// while known peers keep their own accounts. Streams opened on the overflow entry are remembered by key (at most
// maxStreamsPerIp of them) so closeStream pairs with the right entry.
//
// No timers: buckets refill lazily from the nowMs the caller passes; sweep() (once a second) drops idle entries whose
// buckets are full again. Entries are fixed-shape records. Hot path (admitConnection, openStream, closeStream): one
// Map lookup and O(1) list work; allocation only when a new key is inserted.

import { CONN_BURST_FACTOR, DEFAULT_CONN_RATE_PER_IP, DEFAULT_MAX_STREAMS_PER_IP, MAX_PEER_ENTRIES } from '../core/limits.js';

export interface PeerLimits { maxStreamsPerIp: number; connRatePerSec: number; connBurst: number; maxEntries: number }

/** The defaults, from limits.ts (each value's reason is written there). */
export const DEFAULT_PEER_LIMITS: PeerLimits = {
  maxStreamsPerIp: DEFAULT_MAX_STREAMS_PER_IP,
  connRatePerSec: DEFAULT_CONN_RATE_PER_IP,
  connBurst: DEFAULT_CONN_RATE_PER_IP * CONN_BURST_FACTOR,
  maxEntries: MAX_PEER_ENTRIES,
};

/** Bucket credit is kept in thousandths of a token, so integer rates and millisecond clocks refill exactly. */
const MILLI = 1000;

/** One peer: token bucket, open streams, and its place in the idle list. */
class Peer {
  key: string;
  /** Thousandths of a token. */
  credit: number;
  lastMs: number;
  streams: number;
  prev: Peer | null;
  next: Peer | null;
  constructor(key: string, credit: number, lastMs: number) {
    this.key = key;
    this.credit = credit;
    this.lastMs = lastMs;
    this.streams = 0;
    this.prev = null;
    this.next = null;
  }
}

export class PeerTable {
  private limits: PeerLimits;
  private readonly entries = new Map<string, Peer>();
  /** Sentinel of the circular idle list: head.next is the least recently used idle entry. */
  private readonly idle = new Peer('', 0, 0);
  /** Shared by new keys while the table is full of entries holding streams; never in `entries`. */
  private readonly overflow = new Peer('', 0, 0);
  /** Streams open on the overflow entry, by key, so closes pair with it. */
  private readonly overflowStreams = new Map<string, number>();
  /** Idle entries dropped to make room (metrics). */
  evictions = 0;
  /** Connections or streams charged to the overflow entry (metrics). */
  overflowed = 0;
  /** closeStream calls with no matching open stream: a caller bug if ever non-zero. */
  unpairedCloses = 0;

  constructor(limits: PeerLimits) {
    this.limits = { ...limits };
    this.idle.prev = this.idle.next = this.idle;
    this.overflow.credit = limits.connBurst * MILLI;
  }

  get size(): number {
    return this.entries.size;
  }

  /** On accept: token bucket for new connections. false = over the rate (caller closes). */
  admitConnection(key: string, nowMs: number): boolean {
    const peer = this.entries.get(key) ?? this.insert(key, nowMs);
    this.refill(peer, nowMs);
    if (peer.streams === 0 && peer !== this.overflow) this.touch(peer);
    if (peer === this.overflow) this.overflowed++;
    if (peer.credit < MILLI) return false;
    peer.credit -= MILLI;
    return true;
  }

  /** Open streams of `key` (0 when it has no entry). */
  streamsOf(key: string): number {
    return this.overflowStreams.get(key) ?? this.entries.get(key)?.streams ?? 0;
  }

  /** When a request becomes a stream: false = over maxStreamsPerIp (caller answers 503). */
  openStream(key: string): boolean {
    let peer = this.entries.get(key);
    if (peer === undefined) {
      const existing = this.overflowStreams.get(key);
      peer = existing !== undefined ? this.overflow : this.insert(key, -1);
    }
    if (peer.streams >= this.limits.maxStreamsPerIp) return false;
    if (peer === this.overflow) {
      this.overflowStreams.set(key, (this.overflowStreams.get(key) ?? 0) + 1);
      this.overflowed++;
    } else if (peer.streams === 0) {
      unlink(peer);
    }
    peer.streams++;
    return true;
  }

  /** Ends a stream opened with openStream(key). Exactly paired; never goes negative. */
  closeStream(key: string): void {
    const onOverflow = this.overflowStreams.get(key);
    if (onOverflow !== undefined) {
      if (onOverflow > 1) this.overflowStreams.set(key, onOverflow - 1);
      else this.overflowStreams.delete(key);
      this.overflow.streams--;
      return;
    }
    const peer = this.entries.get(key);
    if (peer === undefined || peer.streams === 0) {
      this.unpairedCloses++;
      return;
    }
    peer.streams--;
    if (peer.streams > 0) return;
    if (this.entries.size > this.limits.maxEntries) {
      this.entries.delete(key); // the bound was lowered by setLimits while this entry held streams
      this.evictions++;
    } else {
      append(this.idle, peer);
    }
  }

  /** Called once per second: drops idle entries whose buckets have refilled. O(idle entries). */
  sweep(nowMs: number): void {
    const full = this.limits.connBurst * MILLI;
    for (let peer = this.idle.next; peer !== null && peer !== this.idle;) {
      const next = peer.next;
      this.refill(peer, nowMs);
      if (peer.credit >= full) {
        unlink(peer);
        this.entries.delete(peer.key);
      }
      peer = next;
    }
    this.refill(this.overflow, nowMs);
  }

  /** SIGHUP reload. Buckets are clamped to the new burst; a lower maxEntries evicts idle entries at once and the
   *  rest as their streams end. */
  setLimits(limits: PeerLimits): void {
    this.limits = { ...limits };
    const full = limits.connBurst * MILLI;
    for (const peer of this.entries.values()) if (peer.credit > full) peer.credit = full;
    if (this.overflow.credit > full) this.overflow.credit = full;
    while (this.entries.size > limits.maxEntries && this.evictOne()) { /* evicted one */ }
  }

  /** New entry with a full bucket (nowMs < 0: no time known yet, stamped on first admit), or the overflow entry. */
  private insert(key: string, nowMs: number): Peer {
    if (this.entries.size >= this.limits.maxEntries && !this.evictOne()) return this.overflow;
    const peer = new Peer(key, this.limits.connBurst * MILLI, nowMs);
    this.entries.set(key, peer);
    append(this.idle, peer);
    return peer;
  }

  private evictOne(): boolean {
    const oldest = this.idle.next;
    if (oldest === null || oldest === this.idle) return false;
    unlink(oldest);
    this.entries.delete(oldest.key);
    this.evictions++;
    return true;
  }

  /** Moves an idle entry to the most recently used end. */
  private touch(peer: Peer): void {
    unlink(peer);
    append(this.idle, peer);
  }

  private refill(peer: Peer, nowMs: number): void {
    if (peer.lastMs < 0 || nowMs < peer.lastMs) {
      peer.lastMs = nowMs; // first sight, or the clock stepped back: no credit for the gap
      return;
    }
    const full = this.limits.connBurst * MILLI;
    const credit = peer.credit + (nowMs - peer.lastMs) * this.limits.connRatePerSec; // ms x tokens/s = milli-tokens
    peer.credit = credit < full ? credit : full;
    peer.lastMs = nowMs;
  }
}

function unlink(peer: Peer): void {
  if (peer.prev === null || peer.next === null) return;
  peer.prev.next = peer.next;
  peer.next.prev = peer.prev;
  peer.prev = peer.next = null;
}

function append(head: Peer, peer: Peer): void {
  const last = head.prev as Peer;
  peer.prev = last;
  peer.next = head;
  last.next = peer;
  head.prev = peer;
}
