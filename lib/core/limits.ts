// Every bound the server enforces, in one place, each with the reason for its value.
// Options may override the ones marked (option); the rest are protocol or safety constants.

/** Request line + headers, in bytes. Real browser requests are 400-1,500 B; nginx's default buffer is 1 KiB, large 8 KiB. */
export const MAX_HEADER_BYTES = 8192;
/** Header fields per request. Browsers send ~10-20. */
export const MAX_HEADER_COUNT = 64;
/** Request target length in bytes; part of MAX_HEADER_BYTES but checked on its own for a clear 414. */
export const MAX_TARGET_BYTES = 2048;
/** From accept to the end of the header block (slowloris). Checked on the clock's tick, so the real bound is up to +1 s. */
export const HEADER_TIMEOUT_MS = 10_000;
/** Idle keep-alive connection between small requests. */
export const KEEPALIVE_IDLE_MS = 5_000;
/**
 * Requests on one keep-alive connection before it is closed (nginx's keepalive_requests default since 1.19.10).
 * A new connection costs Node ~0.13 ms of CPU here (a keep-alive request ~0.03 ms; perf/RESULTS.md, junk
 * flood 21:33), so a low bound makes keep-alive floods cost more.
 */
export const KEEPALIVE_MAX_REQUESTS = 1000;

/** An HTTP/2 session must open its first stream within this, from the end of its TLS handshake. */
export const H2_FIRST_STREAM_MS = 10_000;
/** An HTTP/2 session with no open stream is closed (GOAWAY) after this; browsers reopen when they need one. */
export const H2_IDLE_MS = 30_000;
/** After our GOAWAY a session that does not go away by itself is destroyed after this. */
export const H2_GOAWAY_GRACE_MS = 2_000;
/** Request body bytes a stream may send (a GET has none); past this the stream is cancelled (HTTP/1: the same bound). */
export const MAX_STREAM_INPUT_BYTES = 64 * 1024;
/**
 * A keep-alive connection whose answers sit unsent in user space (the kernel's buffer is full: the peer does not
 * read) for this long is reset: a reset frees the kernel's send queue at once, a close would leave it queued.
 */
export const SEND_TIMEOUT_MS = 10_000;
/**
 * Bytes of answers one connection may have written to requests it pipelined (sent before reading our answers).
 * Past it the next answer closes the connection: a peer that pipelines and never reads cannot park more than this
 * in the kernel (no browser pipelines; nginx answers them unbounded).
 */
export const MAX_PIPELINE_BYTES = 64 * 1024;
/** After our FIN (Connection: close), how long the peer may take to close its side before it is reset. */
export const LINGER_MS = 3_000;
/** At the connection cap, idle keep-alive connections closed at most per refused accept (nginx drains 32). */
export const RECLAIM_BATCH = 32;
/**
 * Connections looked at, oldest first, to find them: idle keep-alive connections are among the oldest, and the scan
 * runs on every accept at the cap, so it stays small (a flood at the cap pays ~64 field checks per connection).
 */
export const RECLAIM_SCAN = 64;
/** Distinct non-default clock faces (channels) one address (IPv6: /64) may watch at once. */
export const MAX_CHANNELS_PER_IP = 8;

/** A viewer holding more unsent bytes than this is skipped for the second (resyncs with a keyframe). */
export const MAX_VIEWER_BACKLOG_BYTES = 16 * 1024;
/** A viewer that drained nothing for this long is evicted. */
export const VIEWER_STALL_MS = 30_000;
/**
 * Declared GIF delay of streamed frames, centiseconds: short so a browser shows a frame when it arrives. 0 and 1
 * play alike (Chromium and Firefox show either for 100 ms, then wait for the next frame's bytes); 0 lets an opaque
 * frame go without a graphic control extension (encoder/gif.ts writeFrameControl), 8 bytes a second per viewer.
 */
export const STREAM_DELAY_CS = 0;
/** Declared delay of finite GIFs (the render command): they play in real time, one second per frame. */
export const FINITE_DELAY_CS = 100;

/**
 * What one open connection costs the process, measured (perf/RESULTS.md): the memory guard adds these up instead
 * of reading RSS, which the allocator does not give back after a wave of TLS connections (a guard on RSS latched).
 */
export const PLAIN_CONN_BYTES = 5 * 1024;
export const TLS_CONN_BYTES = 36 * 1024;
/** An h2 session with one stream, beyond its TLS connection. */
export const H2_SESSION_BYTES = 36 * 1024;
/** RSS this far over the memory bound refuses viewers whatever the estimate says (something else holds memory). */
export const RSS_HARD_FACTOR = 1.5;

/** Longest finite GIF on the URL (`?seconds=N`): an hour, 224,074 B and ≈ 100 ms to encode here (median of 5). */
export const MAX_FINITE_SECONDS = 3600;
/**
 * Pixels above which WebKit decodes an animated image ahead of painting it (100 KiB of RGBA), and so plays a finite
 * GIF's first pass in real time without decoding="async" (README, "WebKit and finite GIFs"; measured in WebKitGTK).
 */
export const WEBKIT_ANIMATED_MIN_PIXELS = 25_600;
/**
 * Finite GIFs are assembled from each face's encoded seconds (stream/ring.ts): what a second of requests may cost,
 * all together. Pixels encoded: a little over an hour of the default face (255 x 33, 30.3 M pixels) a second, ≈ 0.3 s
 * of a core, spent only
 * on a face's first hour or seconds further ahead than asked before; bytes assembled: concatenations of held bytes
 * (memcpy speed) that are also kept for the rest of the second. Past either, a new (face, N) gets 503 + Retry-After.
 */
export const FINITE_PIXELS_PER_SECOND = 32_000_000;
export const FINITE_BYTES_PER_SECOND = 32 * 1024 * 1024;
/** Faces whose encoded seconds are kept for finite GIFs (at most an hour of deltas each: ≈ 0.2-0.6 MB). */
export const FINITE_MAX_FACES = 64;

/** (option) Viewers across all channels. Each costs a file descriptor and ~5 KB. */
export const DEFAULT_MAX_VIEWERS = 50_000;
/** Distinct renderings (time zones …) alive at once; a flood of ?tz= values cannot create unbounded work. */
export const MAX_CHANNELS = 64;
/** Seconds a SIGTERM drain may take before the process exits anyway. */
export const SHUTDOWN_TIMEOUT_MS = 3_000;
/** Retry-After on 503 answers, seconds. */
export const RETRY_AFTER_S = 10;
/** Access-log lines buffered before new ones are dropped (and counted). */
export const ACCESS_LOG_MAX_PENDING_BYTES = 1 << 20;

// ---- per address (options --max-streams-per-ip, --conn-rate-per-ip) ----
// - 256 streams: a page with a few clocks in each of ~50 browsers behind one address still fits; one attacker
//   address pins at most 256 of the ~50,000 viewer slots.
// - 50 new connections a second, bursts of 4x (200): browsers open ≤ 6 per host at page load; 200 is dozens of
//   users loading at once, while a single-address flood is cut to 50/s (a worker answers tens of thousands per second).
// - 100,000 entries: ~110 B of heap each (IPv4-sized key, record, Map slot; measured by perf/cidr-bench.mjs), about
//   11 MB; more than the viewer cap, so the overflow entry is only reached under a flood of distinct addresses.
/** (option) Open streams per IPv4 address or IPv6 /64. */
export const DEFAULT_MAX_STREAMS_PER_IP = 256;
/** (option) New connections per second per address (token bucket). */
export const DEFAULT_CONN_RATE_PER_IP = 50;
/** The bucket holds this many seconds of the rate. */
export const CONN_BURST_FACTOR = 4;
/** Addresses the per-address table holds; past it they share one overflow entry. */
export const MAX_PEER_ENTRIES = 100_000;

// ---- TLS and HTTP/2 ----
/** A handshake must finish within this, from accept (slow or stuck handshakes hold a descriptor and ~30 KB). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** Streams one browser may hold at once: 8 endless GIFs per page is common; a few pages more. */
export const H2_MAX_CONCURRENT_STREAMS = 64;
/** Request header list (HPACK-decoded) in bytes. */
export const H2_MAX_HEADER_LIST_BYTES = 16 * 1024;
/** Request header fields on one h2 stream (as MAX_HEADER_COUNT for HTTP/1). */
export const H2_MAX_HEADER_PAIRS = 64;
/** node:http2 session memory bound, MB (outstanding frames, HPACK state). */
export const H2_MAX_SESSION_MEMORY_MB = 2;
/** Unanswered PINGs a session may have outstanding. */
export const H2_MAX_OUTSTANDING_PINGS = 4;
/** Streams we refused (RST) in one session before the session is closed: a rapid-reset flood ends there. */
export const H2_MAX_REJECTED_STREAMS = 100;
/** Invalid frames tolerated in one session before it is closed. */
export const H2_MAX_INVALID_FRAMES = 100;

// ---- listening and processes ----
/** listen(2) backlog: SYNs the kernel queues while the loop is busy (also capped by net.core.somaxconn). */
export const LISTEN_BACKLOG = 4096;
/** Accept errors (EMFILE) are counted each time but logged at most once per this interval. */
export const ACCEPT_ERROR_LOG_MS = 10_000;
/** First restart delay after a crash; doubles per crash of a worker that had run less than WORKER_STABLE_MS. */
export const RESTART_BASE_MS = 100;
/** Upper bound of the restart delay: a worker that cannot start is retried twice a minute, not in a hot loop. */
export const RESTART_MAX_MS = 30_000;
/** A worker that ran this long before exiting is considered to have been healthy: its backoff starts over. */
export const WORKER_STABLE_MS = 30_000;
/** How often workers report their metrics to the primary, and the primary sends everyone's back. */
export const METRICS_PUSH_MS = 1_000;
