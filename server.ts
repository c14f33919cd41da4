#!/usr/bin/env node
// timegif: the composition root. Options → instance (listeners, clock) → signals. Everything else is in lib/.

import { attachWorker, isClusterWorker, runPrimary, workerStartOptions } from './lib/run/cluster.js';
import { ConfigError } from './lib/core/errors.js';
import { helpText, parseArgs } from './lib/core/config.js';
import { info, setLogLevel, warn } from './lib/core/log.js';
import { renderCommand } from './lib/face/render.js';
import { nftCommand } from './lib/guard/nft.js';
import { start, type Instance } from './lib/run/start.js';
import { ListenError } from './lib/run/listen.js';
import { checkCommand, version } from './lib/run/check.js';

/** Bytes of RSS one plain viewer costs (perf/RESULTS.md); used for the capacity report only. */
const RSS_PER_VIEWER_BYTES = 5 * 1024;

async function serve(argv: string[]): Promise<number> {
  const { config, help } = parseArgs(argv);
  if (help) {
    process.stdout.write(helpText());
    return 0;
  }
  // --workers N: this process becomes the primary (lib/run/cluster.ts); its workers run the code below.
  setLogLevel(config.logLevel);
  const worker = isClusterWorker();
  if (config.workers > 1 && !worker) return runPrimary(config);
  const inst = await start(config, worker ? workerStartOptions() : {});
  report(inst, !worker);
  if (worker) attachWorker(inst);
  // SIGHUP: re-read options, config file, lists and certificates; a bad new file keeps the old state.
  process.on('SIGHUP', () => {
    try {
      const next = parseArgs(argv).config;
      inst.reload(next);
      setLogLevel(next.logLevel);
      info(`reloaded: ${inst.app.lists.blocklist.size} blocked ranges, hosts ${next.hosts.join(',') || 'any'}`);
    } catch (err) {
      warn(`reload failed, keeping the previous configuration: ${(err as Error).message}`);
    }
  });
  return new Promise<number>((resolve) => {
    const stop = (signal: string): void => {
      info(`${signal}: draining ${inst.app.viewers} viewers, ${inst.app.connections} connections`);
      void inst.drain().then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

/** Capacity on stderr; the listeners on stdout unless a cluster primary prints them once for all workers. */
function report({ app, listeners }: Instance, printListeners: boolean): void {
  if (printListeners) for (const l of listeners) process.stdout.write(`listening on ${l.url}\n`);
  if (listeners.some((l) => l.tls) && app.tls === null)
    warn('a TLS listener (https socket) has no certificate: every TLS connection will be closed; give --cert and --key');
  const cfg = app.cfg;
  const byMemory = Math.floor(app.memoryLimitBytes / RSS_PER_VIEWER_BYTES);
  const capacity = Math.min(cfg.maxViewers, app.maxConnections, byMemory);
  info(
    `timegif ${process.version} pid ${process.pid}: open-files limit ${app.openFiles ?? 'unknown'} → ` +
      `max connections ${app.maxConnections}; memory bound ${Math.round(app.memoryLimitBytes / 1048576)} MB ` +
      `(~${byMemory} viewers at ${RSS_PER_VIEWER_BYTES / 1024} KB each); viewer cap ${cfg.maxViewers}; ` +
      `capacity ${capacity} viewers; workers ${cfg.workers}`,
  );
  // libuv answers EMFILE by accepting and closing the pending connections itself, so running out of descriptors
  // is invisible to the process: the connection cap must stay below the open-files limit.
  if (app.openFiles !== null && app.maxConnections > app.openFiles - 64)
    warn(`--max-connections ${app.maxConnections} is above the open-files limit ${app.openFiles} less a reserve of 64: ` +
      'connections past the limit will be refused by the kernel without a trace; raise LimitNOFILE or lower the cap');
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === '--version' || cmd === 'version') {
    process.stdout.write(`timegif ${version()} (Node ${process.version})\n`);
    return 0;
  }
  if (cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(helpText());
    return 0;
  }
  if (cmd === 'check') return checkCommand(rest);
  if (cmd === 'render') return renderCommand(rest);
  if (cmd === 'nft') return nftCommand(rest);
  if (cmd === 'serve') return serve(rest);
  return serve(argv);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ConfigError) {
      process.stderr.write(`timegif: ${err.message}\n`);
      process.exit(2);
    }
    if (err instanceof ListenError) {
      process.stderr.write(`timegif: ${err.message}\n`);
      process.exit(1);
    }
    process.stderr.write(`timegif: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
