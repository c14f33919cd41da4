// Raw-socket helpers for wire specs: exact bytes out, everything that comes back collected.

import { connect, type Socket } from 'node:net';
import type { Instance, StartOptions } from '../lib/run/start.js';
import { setInfoSink } from '../lib/core/log.js';
import { startServer } from './helpers.js';

export class RawClient {
  readonly socket: Socket;
  data = Buffer.alloc(0);
  chunks = 0;
  closed = false;
  /** 'end' = the server closed cleanly (FIN), 'reset' = ECONNRESET or another error. */
  closeKind: 'end' | 'reset' | null = null;
  /** Resolves when the socket has closed, however long that takes (untilClosed() bounds the wait). */
  readonly ended: Promise<void>;
  private waiters: (() => void)[] = [];

  /** A new TCP connection to `port`, or an existing socket (a TLS one: the same client over TLS). */
  constructor(port: number | Socket, host = '127.0.0.1', localAddress?: string) {
    this.socket = typeof port === 'number' ? connect({ port, host, localAddress }) : port;
    this.socket.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.chunks++;
      this.wake();
    });
    this.socket.on('end', () => (this.closeKind ??= 'end'));
    this.socket.on('error', () => (this.closeKind ??= 'reset'));
    this.ended = new Promise((resolve) => {
      this.socket.on('close', () => {
        this.closed = true;
        this.wake();
        resolve();
      });
    });
  }

  static async open(port: number, localAddress?: string): Promise<RawClient> {
    const c = new RawClient(port, '127.0.0.1', localAddress);
    await new Promise<void>((resolve, reject) => {
      c.socket.once('connect', resolve);
      c.socket.once('error', reject);
    });
    return c;
  }

  send(bytes: string | Buffer): void {
    this.socket.write(bytes);
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolve once `pred()` holds (checked on every arrival), or reject after `ms`. */
  async until(pred: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + ms;
    while (!pred()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.data.length} bytes: ${JSON.stringify(this.data.toString('latin1', 0, 200))}`);
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.max(1, deadline - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  untilClosed(ms = 3000): Promise<void> {
    return this.until(() => this.closed, ms, 'close');
  }

  get text(): string {
    return this.data.toString('latin1');
  }

  /** Status code of the first response, or 0. */
  get status(): number {
    const m = /^HTTP\/1\.1 (\d{3}) /.exec(this.text);
    return m ? Number(m[1]) : 0;
  }

  get headEnd(): number {
    const i = this.data.indexOf('\r\n\r\n');
    return i < 0 ? -1 : i + 4;
  }

  close(): void {
    this.socket.destroy();
  }
}

const running = new Set<Instance>();

/** Drain every instance startTest made (uvu `after.each`), so a failed spec cannot leave the process hanging. */
export async function drainAll(): Promise<void> {
  const all = [...running];
  running.clear();
  await Promise.all(all.map((i) => i.drain(500)));
}

/**
 * startServer (helpers.ts), the one way specs start an instance, with its info lines captured instead of printed and
 * the instance registered for drainAll.
 */
export async function startTest(args: string[] = [], opts: StartOptions = {}): Promise<{ inst: Instance; port: number; logs: string[] }> {
  const logs: string[] = [];
  setInfoSink((l) => logs.push(l));
  const { inst, httpPort } = await startServer(args, null, { inherited: [], ...opts });
  running.add(inst);
  return { inst, port: httpPort, logs };
}
