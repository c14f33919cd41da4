// Listening sockets: from the options, or inherited from systemd (socket activation: LISTEN_FDS,
// LISTEN_PID, LISTEN_FDNAMES; fds start at 3). A name containing "tls" or "https" marks a TLS socket.
// Accept errors (EMFILE when the process is out of descriptors) are counted and never crash the process;
// libuv already refuses the pending connection instead of spinning on it.

import { createServer, type Server, type Socket } from 'node:net';
import type { ListenAddr } from '../core/config.js';
import { warn } from '../core/log.js';
import { ACCEPT_ERROR_LOG_MS, LISTEN_BACKLOG } from '../core/limits.js';

export interface Listener {
  server: Server;
  tls: boolean;
  /** What to print: http://127.0.0.1:8080 */
  url: string;
}

export interface InheritedFd {
  fd: number;
  name: string;
  tls: boolean;
}

/** Sockets passed by systemd, or [] when this process was not socket-activated. */
export function systemdFds(env: NodeJS.ProcessEnv = process.env, pid = process.pid): InheritedFd[] {
  const n = Number(env.LISTEN_FDS ?? '0');
  if (!Number.isInteger(n) || n <= 0 || Number(env.LISTEN_PID) !== pid) return [];
  const names = (env.LISTEN_FDNAMES ?? '').split(':');
  const out: InheritedFd[] = [];
  for (let i = 0; i < n; i++) {
    const name = names[i] ?? '';
    out.push({ fd: 3 + i, name, tls: /tls|https/i.test(name) });
  }
  return out;
}

export interface ListenHooks {
  onPlain: (s: Socket) => void;
  onTls: (s: Socket) => void;
  onAcceptError: (err: NodeJS.ErrnoException) => void;
}

function urlOf(server: Server, tls: boolean): string {
  const a = server.address();
  if (a === null || typeof a === 'string') return `${tls ? 'https' : 'http'}://${a ?? '?'}`;
  const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
  return `${tls ? 'https' : 'http'}://${host}:${a.port}`;
}

/** A listener that cannot be opened: the message is one line naming the address and why; `code` is the system's. */
export class ListenError extends Error {
  readonly code: string;
  constructor(message: string, cause: NodeJS.ErrnoException) {
    super(message, { cause });
    this.name = 'ListenError';
    this.code = cause.code ?? 'ERR_TIMEGIF_LISTEN';
  }
}

function why(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use';
    case 'EACCES':
      return 'permission denied (ports below 1024 need root, CAP_NET_BIND_SERVICE or socket activation)';
    case 'EADDRNOTAVAIL':
      return 'no such address on this machine';
    case 'ENOTFOUND':
    case 'EAI_NONAME':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
      return `the host name does not resolve (${err.code})`;
    default:
      return err.code ?? err.message;
  }
}

function listenOn(server: Server, opts: { port?: number; host?: string; fd?: number }): Promise<void> {
  const where = opts.fd !== undefined ? `inherited fd ${opts.fd}` : `${opts.host?.includes(':') ? `[${opts.host}]` : opts.host}:${opts.port}`;
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => reject(new ListenError(`cannot listen on ${where}: ${why(err)}`, err));
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (opts.fd !== undefined) server.listen({ fd: opts.fd, backlog: LISTEN_BACKLOG }, done);
    else server.listen({ port: opts.port, host: opts.host, backlog: LISTEN_BACKLOG }, done);
  });
}

export async function openListeners(plain: ListenAddr[], tls: ListenAddr[], inherited: InheritedFd[], hooks: ListenHooks): Promise<Listener[]> {
  const out: Listener[] = [];
  const specs =
    inherited.length > 0
      ? inherited.map((f) => ({ tls: f.tls, opts: { fd: f.fd } }))
      : [
          ...plain.map((a) => ({ tls: false, opts: { host: a.host, port: a.port } })),
          ...tls.map((a) => ({ tls: true, opts: { host: a.host, port: a.port } })),
        ];
  try {
    for (const s of specs) {
      const server = createServer({ noDelay: true }, s.tls ? hooks.onTls : hooks.onPlain);
      await listenOn(server, s.opts); // a bind error rejects here and stops the start
      // Only once listening: from now on an 'error' is an accept error (EMFILE), counted, never fatal.
      server.on('error', hooks.onAcceptError);
      out.push({ server, tls: s.tls, url: urlOf(server, s.tls) });
    }
  } catch (err) {
    for (const l of out) l.server.close();
    throw err;
  }
  return out;
}

/** Accept-error handler: count, and log at most once per interval. */
export function acceptErrorLogger(count: (code: string) => void): (err: NodeJS.ErrnoException) => void {
  let last = 0;
  return (err) => {
    count(err.code ?? 'accept-error');
    const now = Date.now();
    if (now - last > ACCEPT_ERROR_LOG_MS) {
      last = now;
      warn(`accept: ${err.code ?? err.message} (open-files limit reached?); pending connections are refused until descriptors free up`);
    }
  };
}
