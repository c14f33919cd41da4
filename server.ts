#!/usr/bin/env node
// timegif: the composition root. Options → listeners → clock → signals. Everything else lives in lib/.

import { App, loadLists } from './lib/app.js';
import { createClock } from './lib/clock.js';
import { ConfigError } from './lib/errors.js';
import { helpText, parseArgs, type Config } from './lib/config.js';
import { acceptErrorLogger, openListeners, systemdFds, type Listener } from './lib/listen.js';
import { info } from './lib/log.js';
import { SHUTDOWN_TIMEOUT_MS } from './lib/limits.js';
import { renderCommand } from './lib/render.js';

/** Bytes of RSS one plain viewer costs, measured by perf/fanout-bench.mjs; used for the capacity report only. */
const RSS_PER_VIEWER_BYTES = 5 * 1024;

async function serve(argv: string[]): Promise<number> {
  const { config, help } = parseArgs(argv);
  if (help) {
    process.stdout.write(helpText());
    return 0;
  }
  const app = new App(config, loadLists(config));
  const countAcceptError = acceptErrorLogger((code) => app.metrics.reject(`accept-${code.toLowerCase()}`));
  const listeners = await openListeners(config.listen, config.tlsListen, systemdFds(), {
    onPlain: app.onConnection,
    onTls: app.onConnection,
    onAcceptError: countAcceptError,
  });
  const clock = createClock({ tick: app.tick, prepare: app.prepare });
  clock.start();
  report(app, config, listeners);

  process.on('SIGHUP', () => reload(app, argv));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) return;
      stopping = true;
      info(`${signal}: draining ${app.viewers} viewers, ${app.connections} connections`);
      for (const l of listeners) l.server.close();
      app.drain();
      const started = Date.now();
      const wait = setInterval(() => {
        if (app.connections > 0 && Date.now() - started < SHUTDOWN_TIMEOUT_MS) return;
        clearInterval(wait);
        clock.stop();
        if (app.connections > 0) info(`exiting with ${app.connections} connections still open`);
        void app.accessLog.close().then(() => resolve(0));
      }, 50);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
  });
}

/** SIGHUP: re-read options, config file and lists; a bad new file keeps the old state and says why. */
function reload(app: App, argv: string[]): void {
  try {
    const { config } = parseArgs(argv);
    const lists = loadLists(config);
    app.reconfigure(config, lists);
    info(`reloaded: ${lists.blocklist.size} blocked ranges, ${config.hosts.length || 'any'} hosts`);
  } catch (err) {
    info(`reload failed, keeping the previous configuration: ${(err as Error).message}`);
  }
}

function report(app: App, cfg: Config, listeners: Listener[]): void {
  for (const l of listeners) process.stdout.write(`listening on ${l.url}\n`);
  const byMemory = Math.floor(app.memoryLimitBytes / RSS_PER_VIEWER_BYTES);
  const capacity = Math.min(cfg.maxViewers, app.maxConnections, byMemory);
  info(
    `timegif ${process.version} pid ${process.pid}: open-files limit ${app.openFiles ?? 'unknown'} → ` +
      `max connections ${app.maxConnections}; memory bound ${Math.round(app.memoryLimitBytes / 1048576)} MB ` +
      `(~${byMemory} viewers at ${RSS_PER_VIEWER_BYTES / 1024} KB); viewer cap ${cfg.maxViewers}; ` +
      `capacity ${capacity} viewers; workers ${cfg.workers}`,
  );
}

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === 'render') return renderCommand(rest);
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
    process.stderr.write(`timegif: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
