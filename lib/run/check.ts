// `timegif check --config FILE [options]`: load everything a start loads (options, config file, lists,
// certificates, the access log's file) without listening, and exit 0 only if a start would get past it.
// `version()`: the package's version, for --version.

import { closeSync, openSync, readFileSync } from 'node:fs';
import { parseArgs } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { loadLists } from '../guard/admission.js';
import { loadSecureContext } from '../http/tls.js';

export function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/** Throws ConfigError naming the access log when it cannot be opened for appending. */
export function checkAccessLog(path: string | null): void {
  if (path === null || path === '-') return;
  try {
    closeSync(openSync(path, 'a'));
  } catch (err) {
    throw new ConfigError(`access-log ${path}: cannot open for appending (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

export function checkCommand(argv: string[]): number {
  const { config } = parseArgs(argv);
  const lists = loadLists(config);
  if (config.cert !== null && config.key !== null) loadSecureContext(config.cert, config.key);
  checkAccessLog(config.accessLog);
  process.stdout.write(
    `ok: ${config.configFile ?? 'command-line options'}: ${lists.blocklist.size} blocked ranges, ${lists.allowlist.size} allowed, ` +
      `${config.listen.length + config.tlsListen.length} listeners${config.cert !== null ? ', certificate loaded' : ''}\n`,
  );
  return 0;
}
