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
/** Connections looked at, oldest first, to find them (the scan is bounded whatever is open). */
export const RECLAIM_SCAN = 1024;
/** Distinct non-default clock faces (channels) one address (IPv6: /64) may watch at once. */
export const MAX_CHANNELS_PER_IP = 8;

/** A viewer holding more unsent bytes than this is skipped for the second (resyncs with a keyframe). */
export const MAX_VIEWER_BACKLOG_BYTES = 16 * 1024;
/** A viewer that drained nothing for this long is evicted. */
export const VIEWER_STALL_MS = 30_000;
/** Declared GIF delay of streamed frames, centiseconds: short so a browser shows a frame when it arrives. */
export const STREAM_DELAY_CS = 1;
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

/** Longest finite GIF on the URL (`?seconds=N`): an hour, ≈ 224 KB and ≈ 125 ms to encode here. */
export const MAX_FINITE_SECONDS = 3600;
/**
 * Frames of finite GIFs encoded per second at most, all requests together: one hour-long GIF a second (≈ 12% of
 * a core). Requests sharing a (face, second, N) share one encoding; past the budget a new one gets 503.
 */
export const FINITE_FRAMES_PER_SECOND = 3600;

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
