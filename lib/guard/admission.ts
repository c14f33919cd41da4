// Admission of peer addresses: the lists (blocklist, allowlist, trusted balancers) and the per-address table, at
// accept and again for the real client a PROXY header names. Refusals are counted here; the caller only closes.
// Blocked peers get no byte and cost no allocation: the blocklist is checked before anything is keyed.

import { ConfigError } from '../core/errors.js';
import { warn, type FaultLog } from '../core/log.js';
import type { Metrics } from '../core/metrics.js';
import type { Config } from '../core/config.js';
import { CONN_BURST_FACTOR } from '../core/limits.js';
import { CidrSet, ipKey } from './cidr.js';
import { DEFAULT_PEER_LIMITS, PeerTable, type PeerLimits } from './peers.js';
import { BAD_PROXY, MORE, PROXY, parseProxyHeader, PROXY_MAX_HEADER_BYTES, REFUSED, type ProxyStep } from './proxy.js';

export interface Lists {
  blocklist: CidrSet;
  allowlist: CidrSet;
  proxyFrom: CidrSet;
}

/** Load every list a config names; throws ConfigError naming the bad file or line. */
export function loadLists(cfg: Config): Lists {
  const { set: blocklist, warnings: w1 } = named('blocklist', () => CidrSet.fromFiles(cfg.blocklist));
  const { set: allowlist, warnings: w2 } = named('allowlist', () => CidrSet.fromFiles(cfg.allowlist));
  const { set: proxyFrom, warnings: w3 } = CidrSet.fromText([
    { source: '--proxy-protocol-from', text: cfg.proxyProtocolFrom.join('\n') },
  ]);
  for (const w of [...w1, ...w2, ...w3]) warn(w);
  return { blocklist, allowlist, proxyFrom };
}

/** Errors of a list file name the option too: `blocklist /etc/x.txt:3: …`. */
function named<T>(option: string, load: () => T): T {
  try {
    return load();
  } catch (err) {
    if (err instanceof ConfigError) throw new ConfigError(`${option} ${err.message}`);
    throw err;
  }
}

export function peerLimits(cfg: Config): PeerLimits {
  return {
    ...DEFAULT_PEER_LIMITS,
    maxStreamsPerIp: cfg.maxStreamsPerIp,
    connRatePerSec: cfg.connRatePerIp,
    connBurst: cfg.connRatePerIp * CONN_BURST_FACTOR,
  };
}

export class Admission {
  lists: Lists;
  readonly peers: PeerTable;
  private readonly metrics: Metrics;
  private readonly faults: FaultLog;
  private readonly now: () => number;

  constructor(cfg: Config, lists: Lists, metrics: Metrics, faults: FaultLog, now: () => number) {
    this.lists = lists;
    this.peers = new PeerTable(peerLimits(cfg));
    this.metrics = metrics;
    this.faults = faults;
    this.now = now;
  }

  /** A reload: the new lists and per-address limits (entries and their buckets are kept). */
  reconfigure(cfg: Config, lists: Lists): void {
    this.lists = lists;
    this.peers.setLimits(peerLimits(cfg));
  }

  /** A trusted balancer's address: its connections start with a PROXY header naming the real client. */
  isBalancer(addr: string): boolean {
    const p = this.lists.proxyFrom;
    return p.size > 0 && p.has(addr);
  }

  /**
   * A peer address (at accept, or after a PROXY header): null = refused (counted), else the per-IP key. Blocked
   * peers get no byte: the caller destroys the socket.
   */
  admit(addr: string): string | null {
    const { allowlist, blocklist } = this.lists;
    if (allowlist.size > 0 && allowlist.has(addr)) return ipKey(addr);
    if (blocklist.has(addr)) {
      this.metrics.reject('blocked');
      return null; // before ipKey: a dropped flood connection allocates nothing
    }
    const key = ipKey(addr);
    if (!this.peers.admitConnection(key, this.now())) {
      this.metrics.reject('conn-rate');
      return null;
    }
    return key;
  }

  /**
   * The bytes a trusted balancer sent so far, which start with a PROXY v1/v2 header: MORE (keep reading,
   * bounded), BAD_PROXY (malformed or too long), REFUSED (the real client is blocked or over its rate; both
   * counted), or the real client's address and per-IP key and the bytes after the header. Plain (http1-conn.ts) and
   * TLS paths share it.
   */
  proxyStep(buf: Buffer, remote: string, key: string): ProxyStep {
    const r = parseProxyHeader(buf);
    if (r.status === PROXY.NEED_MORE && buf.length <= PROXY_MAX_HEADER_BYTES) return MORE;
    if (r.status !== PROXY.DONE) {
      this.faults.note('bad-proxy', remote, r.reason || 'header too long');
      return BAD_PROXY;
    }
    const rest = r.consumed < buf.length ? buf.subarray(r.consumed) : null;
    if (r.local) return { remote, key, rest };
    const admitted = this.admit(r.srcAddr);
    return admitted === null ? REFUSED : { remote: r.srcAddr, key: admitted, rest };
  }
}
