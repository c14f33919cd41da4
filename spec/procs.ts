// Helpers for the specs that run the server as a real process (deploy, signals, workers, config):
// spawn and watch its output, open raw HTTP/1 streams (plain or TLS), walk the GIF blocks of a stream.

import * as assert from 'uvu/assert';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer, connect, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { GifStreamSplitter } from './helpers.js';
import { RawClient } from './raw.js';

const { GifReader } = createRequire(import.meta.url)('omggif') as { GifReader: new (buf: Uint8Array) => { numFrames(): number } };

/** The repository root (specs run from dist/spec/). */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const SERVER_JS = join(ROOT, 'dist', 'server.js');

export interface Proc {
  child: ChildProcess;
  readonly out: () => string;
  readonly err: () => string;
  /** Resolves with the first match of `re` in stdout+stderr (waiting for it), rejects after `ms`. */
  waitFor(re: RegExp, ms?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL if still running (cleanup). */
  kill(): void;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let waiters: (() => void)[] = [];
  const poke = (): void => {
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };
  child.stdout!.on('data', (d: Buffer) => ((out += d.toString()), poke()));
  child.stderr!.on('data', (d: Buffer) => ((err += d.toString()), poke()));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    // 'close', not 'exit': by then stdout and stderr are read to the end.
    child.once('close', (code, signal) => {
      done = true;
      poke();
      resolve({ code, signal });
    }),
  );
  return {
    child,
    out: () => out,
    err: () => err,
    exited,
    kill: () => {
      if (!done) child.kill('SIGKILL');
    },
    waitFor(re, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out waiting for ${re}\nstdout:\n${out}\nstderr:\n${err}`)), ms);
        const check = (): void => {
          const m = (out + '\n' + err).match(re);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m);
          } else if (done) {
            clearTimeout(timer);
            reject(new Error(`exited before ${re}\nstdout:\n${out}\nstderr:\n${err}`));
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

/** `node dist/server.js serve ARGS`; resolves once it prints its (first) listener, with that port. */
export async function serveProc(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ p: Proc; port: number }> {
  const p = run(process.execPath, [SERVER_JS, 'serve', ...args], env);
  const m = await p.waitFor(/listening on https?:\/\/[^\s]*:(\d+)/);
  return { p, port: Number(m[1]) };
}

export function tmpDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `timegif-${prefix}-`));
}

export function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Ports that were free a moment ago (for tools that need a number up front). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export interface Stream {
  socket: Socket;
  /** Everything received so far (head + body). */
  bytes(): Buffer;
  /** Body bytes (after the response head), or null before the head is complete. */
  body(): Buffer | null;
  head(): string | null;
  /** Resolves when the peer has closed (or the socket errored). */
  closed: Promise<void>;
  /** Resolves once at least `n` body bytes are in. */
  bodyAtLeast(n: number, ms?: number): Promise<void>;
}

/** GET `path` over the specs' raw client (plain, or TLS with ALPN http/1.1) and collect the answer. */
export function get(port: number, path: string, opts: { tls?: boolean; localAddress?: string; host?: string } = {}): Stream {
  const socket: Socket = opts.tls
    ? tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] })
    : connect({ host: '127.0.0.1', port, localAddress: opts.localAddress });
  const c = new RawClient(socket);
  c.send(`GET ${path} HTTP/1.1\r\nHost: ${opts.host ?? 'localhost'}\r\nUser-Agent: timegif-spec\r\nConnection: close\r\n\r\n`);
  const s: Stream = {
    socket,
    bytes: () => c.data,
    head: () => (c.headEnd < 0 ? null : c.data.toString('latin1', 0, c.headEnd - 4)),
    body: () => (c.headEnd < 0 ? null : c.data.subarray(c.headEnd)),
    closed: c.ended,
    async bodyAtLeast(n, ms = 10_000) {
      const enough = (): boolean => (s.body()?.length ?? -1) >= n;
      await c.until(() => enough() || c.closed, ms, `${n} body bytes`);
      if (!enough()) throw new Error(`closed after ${s.body()?.length ?? 0} body bytes: ${s.head() ?? '(no head)'}`);
    },
  };
  return s;
}

export interface GifWalk {
  /** Each whole frame: its extensions (GCE) and image descriptor, colour table and image data. */
  frames: Buffer[];
  /** The trailer (0x3b) was reached. */
  trailer: boolean;
  /** Bytes consumed: up to and including the trailer, or up to the end of the last whole frame. */
  consumed: number;
}

/** Walk a (possibly partial) GIF89a stream block by block. Throws on a byte that cannot start a block. */
/** A whole GIF (or the start of one) walked by the specs' one GIF block splitter (helpers.ts). */
export function walkGif(gif: Buffer): GifWalk {
  if (gif.subarray(0, 6).toString('latin1') !== 'GIF89a') throw new Error('not GIF89a');
  const s = new GifStreamSplitter();
  s.push(gif);
  const consumed = (s.prologue?.length ?? 0) + s.frames.reduce((n, f) => n + f.length, 0) + (s.ended ? 1 : 0);
  return { frames: s.frames, trailer: s.ended, consumed };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** GET /metrics (plain HTTP, loopback is trusted) and return the body. */
export async function metrics(port: number, ms = 3_000): Promise<string> {
  const s = get(port, '/metrics');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([s.closed, late]);
  clearTimeout(timer);
  if (!s.socket.destroyed) {
    s.socket.destroy();
    throw new Error(`/metrics: no answer in ${ms} ms`);
  }
  const head = s.head() ?? '';
  if (!head.startsWith('HTTP/1.1 200')) throw new Error(`/metrics: ${head.split('\r\n')[0]}`);
  return s.body()!.toString('utf8');
}

/** The stream ended with the trailer as its last byte, right after a whole frame, and decodes as a whole GIF. */
export function assertEndsCleanly(s: Stream, label: string): void {
  const body = s.body();
  assert.ok(body !== null, `${label}: got a response head`);
  const walk = walkGif(body!);
  assert.ok(walk.trailer, `${label}: trailer reached`);
  assert.is(walk.consumed, body!.length, `${label}: the trailer is the last byte`);
  assert.is(body![body!.length - 1], 0x3b, label);
  assert.ok(walk.frames.length >= 2, `${label}: intro keyframe and at least one later frame`);
  const reader = new GifReader(new Uint8Array(body!));
  assert.is(reader.numFrames(), walk.frames.length, `${label}: omggif sees the same frames`);
}
