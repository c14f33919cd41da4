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

/** A viewer holding more unsent bytes than this is skipped for the second (resyncs with a keyframe). */
export const MAX_VIEWER_BACKLOG_BYTES = 16 * 1024;
/** A viewer that drained nothing for this long is evicted. */
export const VIEWER_STALL_MS = 30_000;
/** Declared GIF delay of streamed frames, centiseconds: short so a browser shows a frame when it arrives. */
export const STREAM_DELAY_CS = 1;
/** Declared delay of finite GIFs (the render command): they play in real time, one second per frame. */
export const FINITE_DELAY_CS = 100;

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
