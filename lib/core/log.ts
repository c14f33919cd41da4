// Logs. Two kinds, both bounded so a flood cannot turn into a disk-write storm or a growing heap:
// - the access log: one line per finished request (combined format + total bytes + duration, which GoAccess
//   reads as `%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %^ %T`), written asynchronously; when the writer falls
//   behind by more than a bound, lines are dropped and counted instead of buffered;
// - the info log on stderr: start-up, reloads, server faults, and client faults aggregated per reason
//   (one summary line per reason per interval, with one sample cut short).

import { createWriteStream, type WriteStream } from 'node:fs';
import { ACCESS_LOG_MAX_PENDING_BYTES } from './limits.js';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number): string => (n < 10 ? '0' : '') + n;

/** `10/Oct/2000:13:55:36 +0000` */
export function clfTime(ms: number): string {
  const d = new Date(ms);
  return `${p2(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} +0000`;
}

/** Quote a request field for the log: no quotes, backslashes or control bytes get through, cut to `max`. */
export function logField(s: string, max = 256): string {
  if (s.length > max) s = s.slice(0, max) + '...';
  return s.replace(/[\x00-\x1f\x7f"\\]/g, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'));
}

export interface AccessEntry {
  remote: string;
  startMs: number;
  method: string;
  target: string;
  protocol: string;
  status: number;
  bodyBytes: number;
  totalBytes: number;
  referer: string;
  userAgent: string;
  endMs: number;
}

export function formatAccess(e: AccessEntry): string {
  const req = `${logField(e.method, 16)} ${logField(e.target)} ${e.protocol}`;
  const dur = ((e.endMs - e.startMs) / 1000).toFixed(3);
  return `${e.remote} - - [${clfTime(e.startMs)}] "${req}" ${e.status} ${e.bodyBytes} "${logField(e.referer) || '-'}" "${logField(e.userAgent) || '-'}" ${e.totalBytes} ${dur}\n`;
}

export class AccessLog {
  private stream: WriteStream | null;
  dropped = 0;
  readonly target: string | null;

  constructor(target: string | null) {
    this.target = target;
    if (target === null) this.stream = null;
    // fd 1 through fs streams: writes go through the thread pool, never blocking the event loop
    // (process.stdout is synchronous for pipes and files on Linux).
    else if (target === '-') this.stream = createWriteStream('', { fd: 1, autoClose: false });
    else {
      this.stream = createWriteStream(target, { flags: 'a' });
      this.stream.on('error', (err) => info(`access log ${target}: ${err.message}; access logging off`));
    }
  }

  get enabled(): boolean {
    return this.stream !== null;
  }

  write(e: AccessEntry): void {
    const s = this.stream;
    if (s === null) return;
    if (s.writableLength > ACCESS_LOG_MAX_PENDING_BYTES || s.destroyed) {
      this.dropped++;
      return;
    }
    s.write(formatAccess(e));
  }

  close(): Promise<void> {
    const s = this.stream;
    this.stream = null;
    if (s === null || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => s.end(resolve));
  }
}

let infoSink: (line: string) => void = (line) => process.stderr.write(line + '\n');

/** Replace where info lines go (tests capture them). */
export function setInfoSink(fn: (line: string) => void): void {
  infoSink = fn;
}

/** info: start-up, reloads, signals and the per-minute fault samples; warn: only what an operator must act on. */
export const LOG_LEVELS = ['info', 'warn'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
let level: LogLevel = 'info';

/** Set by the server from --log-level. */
export function setLogLevel(l: LogLevel): void {
  level = l;
}

export function info(msg: string): void {
  if (level === 'info') infoSink(`${new Date().toISOString()} ${msg}`);
}

/** Always written, whatever the level: `warning: ` and the message. */
export function warn(msg: string): void {
  infoSink(`${new Date().toISOString()} warning: ${msg}`);
}

/**
 * Client faults and junk, aggregated: per reason a count and the first sample of the interval; `flush` (once a
 * minute from the tick) writes one line per reason seen. A flood of any size costs one line per reason per minute.
 */
export class FaultLog {
  /** Per reason this interval: the count and the first sample (one lookup per fault, as Tally counts). */
  private readonly seen = new Map<string, { n: number; sample: string }>();
  /** Told of every fault as it is noted (the server counts it in its rejects metric), so no caller does one without the other. */
  private readonly counted: (reason: string) => void;

  constructor(counted: (reason: string) => void = () => {}) {
    this.counted = counted;
  }

  /** Count one fault; the first of the interval keeps `who`, `what` and `more` (cut short) as its sample. Allocates nothing after the first. */
  note(reason: string, who: string, what: string, more = ''): void {
    if (this.count(reason)) this.keep(reason, who, more === '' ? what : `${what} ${more}`);
  }

  /** As note(), the sample being the first bytes the peer sent: decoded for the first fault of the interval only. */
  noteBytes(reason: string, who: string, bytes: Buffer): void {
    if (this.count(reason)) this.keep(reason, who, bytes.toString('latin1', 0, Math.min(bytes.length, 200)));
  }

  /** Counts the fault; true when it is the interval's first of its reason (a sample is wanted). */
  private count(reason: string): boolean {
    this.counted(reason);
    const s = this.seen.get(reason);
    if (s === undefined) return true;
    s.n++;
    return false;
  }

  private keep(reason: string, who: string, what: string): void {
    this.seen.set(reason, { n: 1, sample: `${who} ${logField(what, 200)}` });
  }

  flush(intervalS: number): void {
    for (const [reason, s] of this.seen) info(`client fault ${reason}: ${s.n} in ${intervalS}s, e.g. ${s.sample}`);
    this.seen.clear();
  }
}
