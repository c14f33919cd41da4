// Options: one table drives the command line (`--max-viewers 100`), the JSON config file (`"max-viewers": 100`)
// and `--help`. Every bad value is a ConfigError that names the key.

import { readFileSync } from 'node:fs';
import { ConfigError, didYouMean } from './errors.js';
import { jsonErrorOffset, lineColumn } from './json-where.js';
import { LOG_LEVELS, type LogLevel } from './log.js';
import { CONN_BURST_FACTOR, DEFAULT_CONN_RATE_PER_IP, DEFAULT_MAX_STREAMS_PER_IP, DEFAULT_MAX_VIEWERS } from './limits.js';

type Kind = 'string' | 'list' | 'int' | 'bool' | 'addr' | 'choice';

interface OptionDef {
  readonly kind: Kind;
  readonly help: string;
  readonly arg?: string;
  readonly min?: number;
  readonly max?: number;
  /** kind 'choice': the values accepted. */
  readonly choices?: readonly string[];
}

export const OPTIONS = {
  'listen': { kind: 'addr', arg: 'HOST:PORT', help: 'plain HTTP listener (repeatable; default 127.0.0.1:8080)' },
  'tls-listen': { kind: 'addr', arg: 'HOST:PORT', help: 'TLS listener, ALPN h2 and http/1.1 (repeatable; needs --cert and --key)' },
  'cert': { kind: 'string', arg: 'FILE', help: 'PEM certificate chain for TLS (ECDSA P-256 recommended)' },
  'key': { kind: 'string', arg: 'FILE', help: 'PEM private key for TLS' },
  'hosts': { kind: 'list', arg: 'NAME[,NAME...]', help: 'accepted Host / SNI names, case-insensitive, port ignored (default: any)' },
  'require-sni': { kind: 'bool', help: 'with --hosts: refuse TLS handshakes that send no server name' },
  'redirect-https': { kind: 'bool', help: 'with --hosts: plain-HTTP page requests redirect to https on a configured name (the stream is served on both)' },
  'max-viewers': { kind: 'int', arg: 'N', min: 0, max: 10_000_000, help: `open streams at most, per worker (default ${DEFAULT_MAX_VIEWERS})` },
  'max-connections': { kind: 'int', arg: 'N', min: 1, max: 10_000_000, help: 'open connections at most, per worker (default: open-files limit minus a reserve)' },
  'max-streams-per-ip': { kind: 'int', arg: 'N', min: 1, max: 1_000_000, help: `open streams per IPv4 address or IPv6 /64, per worker (default ${DEFAULT_MAX_STREAMS_PER_IP})` },
  'conn-rate-per-ip': { kind: 'int', arg: 'N', min: 1, max: 1_000_000, help: `new connections per second per address, token bucket (default ${DEFAULT_CONN_RATE_PER_IP}, burst ${CONN_BURST_FACTOR}x)` },
  'memory-limit-mb': { kind: 'int', arg: 'MB', min: 16, max: 1_048_576, help: 'refuse new viewers when the memory held (the idle process plus open connections at their measured cost; RSS past 1.5x as a last resort) is above this, per worker (default: 75% of the memory bound, shared by the workers)' },
  'blocklist': { kind: 'list', arg: 'FILE', help: 'CIDR ranges to drop at accept, one per line (repeatable)' },
  'allowlist': { kind: 'list', arg: 'FILE', help: 'CIDR ranges never blocked or rate-limited (repeatable)' },
  'proxy-protocol-from': { kind: 'list', arg: 'CIDR[,CIDR...]', help: 'accept PROXY protocol v1/v2 from these peers only' },
  'access-log': { kind: 'string', arg: 'FILE|-', help: 'access log (combined + bytes + seconds); - for stdout (default: off)' },
  'metrics-token': { kind: 'string', arg: 'TOKEN', help: '/metrics and /healthz also answer to "Authorization: Bearer TOKEN" from anywhere' },
  'workers': { kind: 'int', arg: 'N', min: 1, max: 64, help: 'worker processes (node:cluster; default 1 = no cluster)' },
  'log-level': { kind: 'choice', arg: 'info|warn', choices: LOG_LEVELS, help: 'info: start-up, reloads and a per-minute sample of client faults; warn: only warnings (default info)' },
  'config': { kind: 'string', arg: 'FILE', help: 'JSON file with these same keys; command-line options win' },
} as const satisfies Record<string, OptionDef>;

export type OptionName = keyof typeof OPTIONS;

export interface ListenAddr {
  host: string;
  port: number;
}

export interface Config {
  listen: ListenAddr[];
  tlsListen: ListenAddr[];
  cert: string | null;
  key: string | null;
  hosts: string[];
  requireSni: boolean;
  redirectHttps: boolean;
  maxViewers: number;
  maxConnections: number | null;
  maxStreamsPerIp: number;
  connRatePerIp: number;
  memoryLimitMb: number | null;
  blocklist: string[];
  allowlist: string[];
  proxyProtocolFrom: string[];
  accessLog: string | null;
  metricsToken: string | null;
  workers: number;
  logLevel: LogLevel;
  configFile: string | null;
}

export function defaultConfig(): Config {
  return {
    listen: [],
    tlsListen: [],
    cert: null,
    key: null,
    hosts: [],
    requireSni: false,
    redirectHttps: false,
    maxViewers: DEFAULT_MAX_VIEWERS,
    maxConnections: null,
    maxStreamsPerIp: DEFAULT_MAX_STREAMS_PER_IP,
    connRatePerIp: DEFAULT_CONN_RATE_PER_IP,
    memoryLimitMb: null,
    blocklist: [],
    allowlist: [],
    proxyProtocolFrom: [],
    accessLog: null,
    metricsToken: null,
    workers: 1,
    logLevel: 'info',
    configFile: null,
  };
}

/** 127.0.0.1:8080, [::1]:8080, :8080 (all IPv6+IPv4), localhost:0. */
export function parseListenAddr(key: string, s: string): ListenAddr {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ConfigError(`${key}: expected HOST:PORT (or [IPv6]:PORT), got ${JSON.stringify(s)}`);
  return { host: m[1] ?? (m[2] || '::'), port };
}

const camel = (k: string): string => k.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

function setOption(cfg: Config, name: string, raw: unknown, from: 'cli' | 'file'): void {
  const def = (OPTIONS as Record<string, OptionDef>)[name];
  const where = from === 'cli' ? `--${name}` : `config key "${name}"`;
  if (def === undefined) {
    const hint = didYouMean(name, Object.keys(OPTIONS), from === 'cli' ? '--' : '');
    throw new ConfigError(`unknown option ${from === 'cli' ? '--' + name : `key "${name}"`}${hint}`);
  }
  const c = cfg as unknown as Record<string, unknown>;
  const field = name === 'config' ? 'configFile' : camel(name);
  const str = (v: unknown): string => {
    if (typeof v !== 'string' || v === '') throw new ConfigError(`${where}: expected a non-empty string`);
    return v;
  };
  switch (def.kind) {
    case 'bool':
      if (from === 'file' && typeof raw !== 'boolean') throw new ConfigError(`${where}: expected true or false`);
      c[field] = raw === true || raw === 'true';
      return;
    case 'int': {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (!Number.isSafeInteger(n) || n < (def.min ?? 0) || n > (def.max ?? Number.MAX_SAFE_INTEGER))
        throw new ConfigError(`${where}: expected a whole number from ${def.min ?? 0} to ${def.max}, got ${JSON.stringify(raw)}`);
      c[field] = n;
      return;
    }
    case 'string':
      c[field] = str(raw);
      return;
    case 'list': {
      const items = from === 'file' && Array.isArray(raw) ? raw.map(str) : str(raw).split(',');
      const cleaned = items.map((s) => s.trim()).filter((s) => s !== '');
      if (cleaned.length === 0) throw new ConfigError(`${where}: expected at least one value`);
      (c[field] as string[]).push(...(name === 'hosts' ? cleaned.map((h) => h.toLowerCase()) : cleaned));
      return;
    }
    case 'choice': {
      const v = str(raw);
      if (!def.choices!.includes(v)) throw new ConfigError(`${where}: expected one of ${def.choices!.join(', ')}, got ${JSON.stringify(v.slice(0, 40))}`);
      c[field] = v;
      return;
    }
    case 'addr': {
      const items = from === 'file' && Array.isArray(raw) ? raw.map(str) : [str(raw)];
      (c[field] as ListenAddr[]).push(...items.map((s) => parseListenAddr(where, s)));
      return;
    }
  }
}

export interface ParsedArgs {
  config: Config;
  help: boolean;
}

/** Parse `serve` options. Command-line values win over the config file's (lists from the CLI replace the file's). */
export function parseArgs(argv: string[]): ParsedArgs {
  const cli = defaultConfig();
  const seen = new Set<string>();
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--help' || a === '-h') {
      help = true;
      continue;
    }
    if (!a.startsWith('--')) throw new ConfigError(`unexpected argument ${JSON.stringify(a)} (see --help)`);
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
    const def = (OPTIONS as Record<string, OptionDef>)[name];
    if (def === undefined) throw new ConfigError(`unknown option --${name}${didYouMean(name, Object.keys(OPTIONS)) || ' (see --help)'}`);
    let value: string | boolean;
    if (eq > 0) value = a.slice(eq + 1);
    else if (def.kind === 'bool') value = true;
    else {
      const next = argv[++i];
      if (next === undefined) throw new ConfigError(`--${name}: missing value ${def.arg ?? ''}`.trimEnd());
      value = next;
    }
    setOption(cli, name, value, 'cli');
    seen.add(name === 'config' ? 'configFile' : camel(name));
  }
  if (cli.configFile === null) return { config: finish(cli), help };
  const merged = loadConfigFile(cli.configFile);
  const c = merged as unknown as Record<string, unknown>;
  const from = cli as unknown as Record<string, unknown>;
  for (const field of seen) c[field] = from[field];
  return { config: finish(merged), help };
}

/** Read a JSON config file into a fresh Config (defaults for absent keys). */
export function loadConfigFile(path: string): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--config ${path}: ${(err as Error).message}`);
  }
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    // FILE:LINE:COLUMN, found by our own walk (V8 gives an offset for some faults only, worded per version).
    const at = jsonErrorOffset(text);
    const { line, column } = lineColumn(text, at < 0 ? 0 : at);
    const near = at >= text.length ? 'the text ends too early' : `unexpected ${JSON.stringify(text.slice(at, at + 12))}`;
    throw new ConfigError(`${path}:${line}:${column}: not valid JSON: ${near} (${(err as Error).message.slice(0, 120)})`);
  }
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new ConfigError(`--config ${path}: expected a JSON object`);
  const cfg = defaultConfig();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'config') throw new ConfigError(`--config ${path}: key "config" is not allowed in a config file`);
    try {
      setOption(cfg, k, v, 'file');
    } catch (err) {
      if (err instanceof ConfigError) throw new ConfigError(`${path}: ${err.message}`);
      throw err;
    }
  }
  cfg.configFile = path;
  return cfg;
}

function finish(cfg: Config): Config {
  if (cfg.listen.length === 0 && cfg.tlsListen.length === 0) cfg.listen.push({ host: '127.0.0.1', port: 8080 });
  if (cfg.tlsListen.length > 0 && (cfg.cert === null || cfg.key === null))
    throw new ConfigError('--tls-listen needs --cert and --key');
  // The redirect goes to a configured name only: a Host header is whatever the client says.
  if (cfg.redirectHttps && cfg.hosts.length === 0) throw new ConfigError('--redirect-https needs --hosts (the names to redirect to)');
  // Without a certificate the https port closes every connection, and browsers keep a permanent redirect.
  if (cfg.redirectHttps && (cfg.cert === null || cfg.key === null))
    throw new ConfigError('--redirect-https needs a TLS listener with --cert and --key (it would send browsers, for good, to a port that serves nothing)');
  return cfg;
}

export function helpText(): string {
  const lines = [
    'Usage: timegif [serve] [options]      serve /time.gif (the default command)',
    '       timegif render [options]       write a finite GIF of the clock to a file',
    '       timegif check [options]        load everything a start loads, bind and release the listeners, exit 0 if a start would get past it',
    '       timegif nft [options]          print the blocklists as an nftables table',
    '       timegif --version              the version and Node\'s',
    '       timegif COMMAND --help         one command\'s options',
    '',
    'An endless animated GIF of the current time at /time.gif.',
    '',
    'Options of serve (and of check and nft, which read the same configuration):',
  ];
  for (const [name, def] of Object.entries(OPTIONS as Record<string, OptionDef>)) {
    const left = `  --${name}${def.arg ? ' ' + def.arg : ''}`;
    lines.push(left.padEnd(38) + ' ' + def.help);
  }
  lines.push('  --help'.padEnd(38) + ' this text');
  return lines.join('\n') + '\n';
}
