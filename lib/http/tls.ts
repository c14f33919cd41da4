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

/** The TLS settings every context shares: TLS 1.2 at least, no renegotiation (TLS 1.3 has none, browsers never ask). */
const CONTEXT_OPTIONS = { minVersion: 'TLSv1.2', honorCipherOrder: true, secureOptions: cryptoConstants.SSL_OP_NO_RENEGOTIATION } as const;

/**
 * A context with no certificate at all, for --require-sni: a handshake starts on it and gets the real one only from
 * the SNI callback, for an accepted name. A ClientHello without a name never reaches that callback, so OpenSSL has
 * nothing to send and fails the handshake before any certificate leaves, whatever else the hello carries (with or
 * without ALPN: an ALPN callback is not called for a hello without ALPN).
 */
const NO_CERTIFICATE = createSecureContext(CONTEXT_OPTIONS);

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
    return createSecureContext({ cert, key, ...CONTEXT_OPTIONS });
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
    // The SNI callback only where a policy needs it: it is a call into JS and a pause in the middle of every
    // handshake. Without --hosts any name is served. OpenSSL picks ALPN natively (h2 first; a no_application_protocol
    // alert when nothing matches). With --require-sni the handshake starts on a context without a certificate, and
    // only the SNI callback hands out the real one (NO_CERTIFICATE).
    const p = this.policy;
    const checkNames = p.hosts.size > 0;
    return {
      isServer: true,
      secureContext: checkNames && p.requireSni ? NO_CERTIFICATE : this.ctx,
      ALPNProtocols: ALPN_WIRE,
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

  /** Whether the SNI callback refused this socket's name (and counted it). */
  private refusedName(s: TLSSocket): boolean {
    const name = s.servername;
    return typeof name === 'string' && name !== '' && this.policy.hosts.size > 0 && !this.policy.hosts.has(name.toLowerCase());
  }

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
        // Cannot happen (no certificate without a name): kept so that a change to the contexts cannot let one through.
        this.onReject('no-sni');
        s.destroy();
        return;
      }
      secure(s, s.alpnProtocol ?? false);
    });
    s.on('error', () => {
      // Each refusal counted once, by its cause: an unknown name was counted by the SNI callback; a nameless hello
      // under --require-sni fails for want of a certificate; anything else is a failed handshake or a later error.
      if (done) this.onReject('tls-error');
      else if (this.refusedName(s)) {
        // counted as unknown-sni already
      } else this.onReject(p.requireSni && p.hosts.size > 0 && !s.servername ? 'no-sni' : 'tls-handshake');
      s.destroy(); // any TLS error ends the connection
    });
    s.once('close', () => {
      if (!done) failed();
    });
    return s;
  }
}
