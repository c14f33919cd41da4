// The specs' one raw HTTP/1 client: exact bytes out over a plain or TLS socket, everything that comes back kept,
// waits on conditions. Wire specs use it directly; helpers.ts (h1Stream) and procs.ts (get) build on it.

import { connect, type Socket } from 'node:net';

export class RawClient {
  readonly socket: Socket;
  data = Buffer.alloc(0);
  chunks = 0;
  closed = false;
  /** 'end' = the server closed cleanly (FIN), 'reset' = ECONNRESET or another error. */
  closeKind: 'end' | 'reset' | null = null;
  /** Called with each chunk after it is added to `data` (a stream client feeding a GIF splitter). */
  onChunk: ((chunk: Buffer) => void) | null = null;
  /** Resolves when the socket has closed, however long that takes (untilClosed() bounds the wait). */
  readonly ended: Promise<void>;
  private waiters: (() => void)[] = [];

  /** A new TCP connection to `port`, or an existing socket (a TLS one: the same client over TLS). */
  constructor(port: number | Socket, host = '127.0.0.1', localAddress?: string) {
    this.socket = typeof port === 'number' ? connect({ port, host, localAddress }) : port;
    this.socket.on('data', (d) => {
      this.data = Buffer.concat([this.data, d]);
      this.chunks++;
      this.onChunk?.(d);
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
