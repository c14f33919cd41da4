// `timegif check [--user NAME] [--no-bind] --config FILE [options]`: what a start does short of serving. It loads
// the options, the config file, the lists and the certificate, checks that the access log could be opened for
// appending (without creating it), and binds every listener, then releases it; it fails where `serve` would, with
// one line. `--user NAME` runs the file checks as that user (with its groups), the way the service will see the
// files; `--no-bind` leaves the listeners out (socket activation: systemd holds the ports).
// `version()`: the package's version, for --version.

import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs, type Config } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { loadLists } from '../guard/admission.js';
import { loadSecureContext } from '../http/tls.js';
import { openListeners } from './listen.js';

export function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

/**
 * Throws ConfigError naming the access log when this process could not open it for appending: the file must be
 * writable, or, when it does not exist yet, its directory. Creates nothing.
 */
export function checkAccessLog(path: string | null): void {
  if (path === null || path === '-') return;
  const fail = (why: string): never => {
    throw new ConfigError(`access-log ${path}: cannot open for appending (${why})`);
  };
  try {
    if (existsSync(path)) {
      if (statSync(path).isDirectory()) fail('EISDIR');
      accessSync(path, constants.W_OK);
    } else accessSync(dirname(path), constants.W_OK | constants.X_OK);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    fail((err as NodeJS.ErrnoException).code ?? (err as Error).message);
  }
}

const CHECK_HELP = `Usage: timegif check [--user NAME] [--no-bind] --config FILE [options]

Does what a start does short of serving, and exits 0 only if a start would get past it:
reads the options and the config file, every blocklist and allowlist, the certificate and key,
checks that the access log could be opened for appending (creating nothing), and binds every
listener, then releases it. A failure is one line naming the key, file:line or address; exit 2
for the configuration, 1 for a listener.

  --user NAME    run the file checks as NAME, with its groups (needs root; uses runuser)
  --no-bind      leave the listeners out (socket activation: systemd holds the ports)
  --help         this text

The other options are serve's (timegif --help).
`;

/** The check again as `user` (runuser gives it the user's groups), without --user and without binding. */
function asUser(user: string, argv: string[]): number {
  if (process.getuid?.() !== 0) throw new ConfigError('check --user: needs root (to run the checks as another user)');
  const r = spawnSync('runuser', ['-u', user, '--', process.execPath, process.argv[1]!, 'check', '--no-bind', ...argv], { stdio: 'inherit' });
  if (r.error !== undefined) throw new ConfigError(`check --user: cannot run runuser (${(r.error as NodeJS.ErrnoException).code ?? r.error.message})`);
  return r.status ?? 1;
}

/** Open every listener of `config` as a start would (a ListenError names the first that fails), then close them. */
async function bindAndRelease(config: Config): Promise<number> {
  const ignore = (): void => undefined;
  const listeners = await openListeners(config.listen, config.tlsListen, [], { onPlain: ignore, onTls: ignore, onAcceptError: ignore });
  await Promise.all(listeners.map((l) => new Promise((resolve) => l.server.close(resolve))));
  return listeners.length;
}

export async function checkCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(CHECK_HELP);
    return 0;
  }
  let user: string | null = null;
  let bind = true;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--no-bind') bind = false;
    else if (a === '--user' || a.startsWith('--user=')) {
      user = a.includes('=') ? a.slice(a.indexOf('=') + 1) : (argv[++i] ?? '');
      if (!/^[a-z_][a-z0-9_.-]{0,31}\$?$/i.test(user)) throw new ConfigError(`check --user: not a user name: ${JSON.stringify(user.slice(0, 40))}`);
    } else rest.push(a);
  }
  if (user !== null) {
    // The files as the user sees them (that run prints its own line); the listeners as this process binds them.
    const code = asUser(user, rest);
    if (code !== 0 || !bind) return code;
    const bound = await bindAndRelease(parseArgs(rest).config);
    process.stdout.write(`ok: ${bound} listeners bound and released\n`);
    return 0;
  }
  const { config } = parseArgs(rest);
  const lists = loadLists(config);
  if (config.cert !== null && config.key !== null) loadSecureContext(config.cert, config.key);
  checkAccessLog(config.accessLog);
  const bound = bind ? await bindAndRelease(config) : 0;
  process.stdout.write(
    `ok: ${config.configFile ?? 'command-line options'}: ${lists.blocklist.size} blocked ranges, ${lists.allowlist.size} allowed, ` +
      `${config.listen.length + config.tlsListen.length} listeners${bind ? ` (${bound} bound and released)` : ' (not bound: --no-bind)'}` +
      `${config.cert !== null ? ', certificate loaded' : ''}\n`,
  );
  return 0;
}
