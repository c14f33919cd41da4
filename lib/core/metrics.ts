// Counters and gauges, rendered in the Prometheus text format (version 0.0.4) for /metrics.
// Counters are plain numbers bumped on the hot paths; labels live in small maps keyed by stable reason codes.

import { getHeapStatistics } from 'node:v8';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';

/** Upper bounds (ms) of the tick delivery histogram: boundary → fan-out finished. */
const DELIVERY_BUCKETS_MS = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1000] as const;

/** Event-loop delay sampling interval: at 10 ms the monitor alone cost ~1% of a core on an idle server. */
const LOOP_DELAY_RESOLUTION_MS = 50;

/** HELP texts of the gauges the app samples (metrics named here must say more than their name). */
const GAUGE_HELP: Record<string, string> = {
  channels: 'Distinct clock faces (channels) being rendered.',
  peers_tracked: 'Addresses in the per-IP table (rate buckets and stream counts).',
  max_viewers: 'The viewer cap (--max-viewers), per worker.',
  max_connections: 'The connection cap (--max-connections or the open-files limit less a reserve), per worker.',
  memory_limit_bytes: 'The memory bound new viewers are refused above, per worker.',
  blocklist_ranges: 'Merged blocklist ranges checked at accept.',
  memory_held_estimate_bytes: 'What the memory guard compares with its bound: the idle process plus open connections at their measured cost.',
  max_channels: 'The bound on distinct clock faces.',
  peers_watching_zones: 'Addresses watching at least one non-default face.',
};

/**
 * Counts by label. A label's count lives in a cell made on its first use, so counting is one Map lookup and an
 * increment (a Map's get-then-set was two lookups on every junk request, four Maps of them).
 */
export class Tally<K extends string | number> {
  private readonly cells = new Map<K, { n: number }>();

  add(key: K): void {
    const c = this.cells.get(key);
    if (c === undefined) this.cells.set(key, { n: 1 });
    else c.n++;
  }

  /** The count, or undefined for a label never counted (as a Map answers). */
  get(key: K): number | undefined {
    return this.cells.get(key)?.n;
  }

  *[Symbol.iterator](): IterableIterator<[K, number]> {
    for (const [k, c] of this.cells) yield [k, c.n];
  }
}

export class Metrics {
  connectionsAccepted = 0;
  connectionsOpen = 0;
  requests = 0;
  framesDelta = 0;
  framesKey = 0;
  framesPart = 0;
  frameBytes = 0;
  /** Stream bytes by mode (intros, frames, endings). */
  gifBytes = 0;
  multipartBytes = 0;
  introBytes = 0;
  framesSkipped = 0;
  viewersEvicted = 0;
  viewersStarted = 0;
  accessLogDropped = 0;
  ticks = 0;
  /** Refusals and closes of misbehaving or unwanted traffic, by reason. */
  readonly rejects = new Tally<string>();
  /** HTTP/1 connections closed, by close reason (http1-conn.ts CloseReason). */
  readonly closes = new Tally<string>();
  /** Requests answered, by status code. */
  readonly responses = new Tally<number>();
  readonly deliveryBuckets = new Float64Array(DELIVERY_BUCKETS_MS.length + 1);
  deliverySumMs = 0;
  deliveryCount = 0;
  private readonly loopDelay: IntervalHistogram;

  constructor() {
    // 50 ms sampling: 20 wake-ups a second; at 10 ms the monitor alone cost ~1% of a core on an idle server.
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
    this.loopDelay.enable();
  }

  reject(reason: string): void {
    this.rejects.add(reason);
  }

  closed(reason: string): void {
    this.closes.add(reason);
  }

  response(status: number): void {
    this.responses.add(status);
  }

  observeDelivery(ms: number): void {
    let i = 0;
    while (i < DELIVERY_BUCKETS_MS.length && ms > DELIVERY_BUCKETS_MS[i]!) i++;
    this.deliveryBuckets[i]!++;
    this.deliverySumMs += ms;
    this.deliveryCount++;
  }

  stop(): void {
    this.loopDelay.disable();
  }

  /** Prometheus text. `gauges` are sampled by the caller (viewers by transport, channels, peers). */
  render(gauges: Record<string, number>, viewersByTransport: Record<string, number>, viewersByMode: Record<string, number>, rssBytes: number): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, lines: string[]): void => {
      out.push(`# HELP timegif_${name} ${help}`, `# TYPE timegif_${name} ${type}`, ...lines);
    };
    const one = (name: string, type: string, help: string, v: number): void =>
      metric(name, type, help, [`timegif_${name} ${v}`]);

    metric('viewers', 'gauge', 'Open GIF streams by transport.',
      Object.entries(viewersByTransport).map(([t, n]) => `timegif_viewers{transport="${t}"} ${n}`));
    metric('stream_viewers', 'gauge', 'Open streams by mode: endless GIF, or multipart parts (WebKit).',
      Object.entries(viewersByMode).map(([m, n]) => `timegif_stream_viewers{mode="${m}"} ${n}`));
    metric('stream_bytes_total', 'counter', 'Bytes written to streams (intros, frames, endings) by mode.', [
      `timegif_stream_bytes_total{mode="gif"} ${this.gifBytes}`,
      `timegif_stream_bytes_total{mode="multipart"} ${this.multipartBytes}`,
    ]);
    one('connections_open', 'gauge', 'Open client connections.', this.connectionsOpen);
    one('connections_accepted_total', 'counter', 'Connections accepted.', this.connectionsAccepted);
    metric('connections_closed_total', 'counter', 'HTTP/1 connections closed, by reason.',
      [...this.closes].map(([r, n]) => `timegif_connections_closed_total{reason="${r}"} ${n}`));
    one('requests_total', 'counter', 'HTTP requests parsed (all transports).', this.requests);
    metric('responses_total', 'counter', 'Responses by status.',
      [...this.responses].map(([s, n]) => `timegif_responses_total{status="${s}"} ${n}`));
    one('viewers_started_total', 'counter', 'GIF streams started.', this.viewersStarted);
    metric('frames_sent_total', 'counter', 'Frames written to viewers by kind.', [
      `timegif_frames_sent_total{kind="delta"} ${this.framesDelta}`,
      `timegif_frames_sent_total{kind="keyframe"} ${this.framesKey}`,
      `timegif_frames_sent_total{kind="part"} ${this.framesPart}`,
    ]);
    one('frame_bytes_total', 'counter', 'Bytes of frames written (excluding intros).', this.frameBytes);
    one('intro_bytes_total', 'counter', 'Bytes of stream intros (head, prologue, first keyframe).', this.introBytes);
    one('frames_skipped_total', 'counter', 'Frames not written because the viewer was behind.', this.framesSkipped);
    one('viewers_evicted_total', 'counter', 'Viewers closed for making no progress.', this.viewersEvicted);
    metric('rejects_total', 'counter', 'Refused or closed traffic by reason.',
      [...this.rejects].map(([r, n]) => `timegif_rejects_total{reason="${r}"} ${n}`));
    one('access_log_dropped_total', 'counter', 'Access log lines dropped because the writer fell behind.', this.accessLogDropped);
    one('ticks_total', 'counter', 'Clock ticks.', this.ticks);
    const buckets: string[] = [];
    let acc = 0;
    DELIVERY_BUCKETS_MS.forEach((le, i) => {
      acc += this.deliveryBuckets[i]!;
      buckets.push(`timegif_tick_delivery_seconds_bucket{le="${le / 1000}"} ${acc}`);
    });
    acc += this.deliveryBuckets[DELIVERY_BUCKETS_MS.length]!;
    buckets.push(`timegif_tick_delivery_seconds_bucket{le="+Inf"} ${acc}`);
    buckets.push(`timegif_tick_delivery_seconds_sum ${this.deliverySumMs / 1000}`);
    buckets.push(`timegif_tick_delivery_seconds_count ${this.deliveryCount}`);
    metric('tick_delivery_seconds', 'histogram', 'From the second boundary to the last frame of the tick written.', buckets);
    // The monitor's samples include its own timer interval: subtracted, so an idle loop reads 0, not 0.05 s.
    const ld = this.loopDelay;
    const delay = (ns: number): number => Math.max(0, ns - LOOP_DELAY_RESOLUTION_MS * 1e6) / 1e9;
    one('event_loop_delay_p50_seconds', 'gauge', 'Event-loop delay since start, median.', delay(ld.percentile(50)));
    one('event_loop_delay_p99_seconds', 'gauge', 'Event-loop delay since start, 99th percentile.', delay(ld.percentile(99)));
    one('event_loop_delay_max_seconds', 'gauge', 'Event-loop delay since start, largest.', delay(ld.max));
    one('resident_memory_bytes', 'gauge', 'Resident set size (as of the last tick).', rssBytes);
    one('heap_used_bytes', 'gauge', 'V8 heap in use.', getHeapStatistics().used_heap_size);
    for (const [name, v] of Object.entries(gauges)) one(name, 'gauge', GAUGE_HELP[name] ?? `${name.replace(/_/g, ' ')}.`, v);
    return out.join('\n') + '\n';
  }
}
