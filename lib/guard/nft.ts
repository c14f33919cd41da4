// `timegif nft`: the blocklists as an nftables table, so the kernel drops blocked SYNs before any socket exists.
//
//   timegif nft [--config FILE] [--blocklist FILE]... [--allowlist FILE]... [--ports 80,443]
//
// The same files and the same parser as the server (an error names file:line, and nothing is printed). The
// script is one transaction for `nft -f`: it creates the table if absent, deletes it, and defines it anew, so
// applying it twice is idempotent and replacing it is atomic (the old table stays whole if anything fails).
// Interval sets (logarithmic lookups, auto-merged) for IPv4 and IPv6; IPv4-mapped IPv6 ranges are IPv4 ranges.
// A prerouting hook at raw priority drops before connection tracking, for the server's TCP ports only, with the
// allowlist first. The in-process lists stay: they also apply to real clients behind a PROXY-protocol balancer,
// whose addresses the kernel never sees.

import { writeSync } from 'node:fs';
import { CidrSet } from './cidr.js';
import { parseArgs } from '../core/config.js';
import { ConfigError } from '../core/errors.js';

export const NFT_TABLE = 'timegif';
/** Elements per line of a set (long lines are fine for nft; shorter ones are easier to read and diff). */
const PER_LINE = 8;

export interface NftInput {
  blocklist: CidrSet;
  allowlist: CidrSet;
  ports: number[];
}

function set(name: string, type: 'ipv4_addr' | 'ipv6_addr', elements: string[]): string {
  let s = `  set ${name} {\n    type ${type}\n    flags interval\n    auto-merge\n`;
  if (elements.length > 0) {
    const lines: string[] = [];
    for (let i = 0; i < elements.length; i += PER_LINE) lines.push('      ' + elements.slice(i, i + PER_LINE).join(', '));
    s += `    elements = {\n${lines.join(',\n')}\n    }\n`;
  }
  return s + '  }\n';
}

/** The whole script for `nft -f`. */
export function nftScript({ blocklist, allowlist, ports }: NftInput): string {
  if (ports.length === 0) throw new ConfigError('nft: no ports (give --ports or listeners in the config)');
  const block = blocklist.elements();
  const allow = allowlist.elements();
  const dport = ports.length === 1 ? String(ports[0]) : `{ ${ports.join(', ')} }`;
  return [
    `# timegif: ${block.v4.length + block.v6.length} blocked ranges, ${allow.v4.length + allow.v6.length} allowed, TCP ports ${ports.join(', ')}`,
    `# Apply with: nft -f FILE (one transaction: the old table is replaced whole, or kept if this fails)`,
    `table inet ${NFT_TABLE}`,
    `delete table inet ${NFT_TABLE}`,
    `table inet ${NFT_TABLE} {`,
    set('allow4', 'ipv4_addr', allow.v4) + set('allow6', 'ipv6_addr', allow.v6) +
      set('block4', 'ipv4_addr', block.v4) + set('block6', 'ipv6_addr', block.v6) +
      `  chain prerouting {\n` +
      `    type filter hook prerouting priority raw; policy accept;\n` +
      `    tcp dport ${dport} ip saddr @allow4 accept\n` +
      `    tcp dport ${dport} ip6 saddr @allow6 accept\n` +
      `    tcp dport ${dport} ip saddr @block4 counter drop\n` +
      `    tcp dport ${dport} ip6 saddr @block6 counter drop\n` +
      `  }`,
    '}',
    '',
  ].join('\n');
}

function parsePorts(s: string): number[] {
  const out: number[] = [];
  for (const p of s.split(',')) {
    const n = Number(p.trim());
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new ConfigError(`--ports: not a port: ${JSON.stringify(p)}`);
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** The whole script to stdout before the process exits (an asynchronous pipe write would be cut short). */
function writeAll(s: string): void {
  const b = Buffer.from(s);
  for (let at = 0; at < b.length;) {
    try {
      at += writeSync(1, b, at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
}

export const NFT_USAGE = 'usage: timegif nft [--config FILE] [--blocklist FILE]... [--allowlist FILE]... [--ports 80,443]';

/** Reads the lists (and, with --config, the listeners' ports) and prints the script. */
export function nftCommand(argv: string[], out: (s: string) => void = writeAll): number {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(`${NFT_USAGE}\n\nPrints an nftables script that drops the blocklists' sources on the server's ports in the kernel.\n` +
      `--ports defaults to the ports of the config's listeners (or 80,443 without a config).\n`);
    return 0;
  }
  let ports: number[] | null = null;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--ports' || a.startsWith('--ports=')) {
      const v = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i];
      if (v === undefined) throw new ConfigError('--ports: missing value 80,443');
      ports = parsePorts(v);
    } else if (a === '--config' || a === '--blocklist' || a === '--allowlist' || /^--(config|blocklist|allowlist)=/.test(a)) {
      rest.push(a);
      if (!a.includes('=')) rest.push(argv[++i] ?? '');
    } else throw new ConfigError(`nft: unknown argument ${JSON.stringify(a)} (${NFT_USAGE})`);
  }
  const cfg = parseArgs(rest).config;
  if (ports === null) {
    const fromConfig = [...cfg.listen, ...cfg.tlsListen].map((l) => l.port).filter((p) => p > 0);
    ports = cfg.configFile !== null && fromConfig.length > 0 ? [...new Set(fromConfig)] : [80, 443];
  }
  const blocklist = CidrSet.fromFiles(cfg.blocklist).set;
  const allowlist = CidrSet.fromFiles(cfg.allowlist).set;
  out(nftScript({ blocklist, allowlist, ports }));
  return 0;
}
