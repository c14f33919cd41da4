// TLS termination in-process. Raw TCP sockets are accepted by listen.ts and checked (blocklist, rates,
// caps) before any TLS work; then wrapped here. ALPN picks h2 (→ http2.ts) or http/1.1 (→ the same HTTP/1
// handler as plain TCP). With --hosts, an unknown SNI name is refused inside the ClientHello callback,
// before the server spends a key exchange on it. SIGHUP swaps the secure context; live sockets keep theirs.

import { readFileSync } from 'node:fs';
import { createSecureContext, TLSSocket, type SecureContext } from 'node:tls';
import { constants as cryptoConstants } from 'node:crypto';
import type { Socket } from 'node:net';
import { ConfigError } from '../core/errors.js';

/** Offered to clients in this order of preference. */
export const ALPN = ['h2', 'http/1.1'];
/**
 * The same list in its wire form (length-prefixed names), as tls.Server keeps it: a string array given to each
 * TLSSocket would be converted into a new Buffer on every handshake.
 */
const ALPN_WIRE = Buffer.concat(ALPN.map((a) => Buffer.concat([Buffer.of(a.length), Buffer.from(a, 'latin1')])));

type TlsSocketOptions = NonNullable<ConstructorParameters<typeof TLSSocket>[1]>;

/** Read and check a certificate/key pair; throws ConfigError naming the file. */
export function loadSecureContext(certFile: string, keyFile: string): SecureContext {
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(certFile);
  } catch (err) {
    throw new ConfigError(`--cert ${certFile}: ${(err as Error).message}`);
  }
  try {
    key = readFileSync(keyFile);
  } catch (err) {
    throw new ConfigError(`--key ${keyFile}: ${(err as Error).message}`);
  }
  try {
    // No renegotiation at all (TLS 1.2; 1.3 has none, browsers never ask): a renegotiation costs a handshake.
    return createSecureContext({ cert, key, minVersion: 'TLSv1.2', honorCipherOrder: true, secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION });
  } catch (err) {
    throw new ConfigError(`--cert ${certFile} / --key ${keyFile}: ${(err as Error).message}`);
  }
}

export interface TlsPolicy {
  /** Accepted SNI names (lower-case); empty = any. */
  hosts: ReadonlySet<string>;
  requireSni: boolean;
}

export class TlsTerminator {
  private ctx: SecureContext;
  private policy: TlsPolicy;
  /** Counts refusals by reason ('unknown-sni', 'no-sni', 'tls-handshake'). */
  private readonly onReject: (reason: string) => void;

  /** The TLSSocket options for the current context and policy: made when they change, not per handshake. */
  private options: TlsSocketOptions;

  constructor(ctx: SecureContext, policy: TlsPolicy, onReject: (reason: string) => void) {
    this.ctx = ctx;
    this.policy = policy;
    this.onReject = onReject;
    this.options = this.socketOptions();
  }

  update(ctx: SecureContext | null, policy: TlsPolicy): void {
    if (ctx !== null) this.ctx = ctx;
    this.policy = policy;
    this.options = this.socketOptions();
  }

  private socketOptions(): TlsSocketOptions {
    // The callbacks only where a policy needs them: each is a call into JS in the middle of every handshake (the SNI
    // one also a pause of it). Without --hosts any name is served; without --require-sni OpenSSL picks ALPN natively,
    // with the same preference and the same no_application_protocol alert when nothing matches.
    const p = this.policy;
    const checkNames = p.hosts.size > 0;
    return {
      isServer: true,
      secureContext: this.ctx,
      ...(checkNames && p.requireSni ? { ALPNCallback: this.alpn } : { ALPNProtocols: ALPN_WIRE }),
      ...(checkNames ? { SNICallback: this.sni } : {}),
      requestCert: false,
    } as TlsSocketOptions;
  }

  private readonly sni = (name: string, cb: (err: Error | null, ctx?: SecureContext) => void): void => {
    const hosts = this.policy.hosts;
    if (hosts.size > 0 && !hosts.has(name.toLowerCase())) {
      this.onReject('unknown-sni');
      cb(new Error('unknown-sni'));
      return;
    }
    cb(null, this.ctx);
  };

  /**
   * ALPN, chosen while the ClientHello is read: h2 if offered, else http/1.1. It also sees whether the hello named a
   * server, which the SNI callback never hears of when it did not: with --require-sni a nameless hello is refused
   * here, before the key exchange (no_application_protocol alert).
   */
  private readonly alpn = ({ servername, protocols }: { servername?: string; protocols: string[] }): string | undefined => {
    const p = this.policy;
    if (p.requireSni && p.hosts.size > 0 && !servername) {
      this.onReject('no-sni');
      return undefined;
    }
    return ALPN.find((a) => protocols.includes(a));
  };

  /**
   * Start the handshake on an admitted raw socket. `secure` runs once it completes with the negotiated ALPN
   * protocol ('h2', 'http/1.1' or false); sockets that fail or are refused are destroyed here.
   */
  wrap(raw: Socket, secure: (s: TLSSocket, alpn: string | false) => void, failed: () => void): TLSSocket {
    const p = this.policy;
    const s = new TLSSocket(raw, this.options);
    let done = false;
    s.once('secure', () => {
      done = true;
      // What tls.Server does on 'secure' (onServerSocketSecure): without it, node:http2 sees a socket still
      // "secureConnecting" and waits forever for a 'secureConnect' that only client sockets emit.
      (s as unknown as { secureConnecting: boolean }).secureConnecting = false;
      // And what it does just before (the same function): hand error reporting to the socket's owner. Without it
      // node:tls swallows every error after the handshake (a corrupt record, the renegotiation limit), and the
      // connection would wait for a deadline instead of closing.
      (s as unknown as { _releaseControl?: () => boolean })._releaseControl?.();
      if (p.requireSni && p.hosts.size > 0 && !s.servername) {
        this.onReject('no-sni');
        s.destroy();
        return;
      }
      secure(s, s.alpnProtocol ?? false);
    });
    s.on('error', () => {
      if (!done) this.onReject('tls-handshake');
      else this.onReject('tls-error');
      s.destroy(); // any TLS error ends the connection
    });
    s.once('close', () => {
      if (!done) failed();
    });
    return s;
  }
}
