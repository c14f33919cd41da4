// Start a timegif instance in this process: app + listeners + clock. server.ts wraps it with signals;
// specs and benchmarks start it directly (port 0, an injected clock, tighter fan-out limits).

import { App, type AppOptions } from './app.js';
import { loadLists } from '../guard/admission.js';
import { createClock, type Clock } from '../stream/clock.js';
import type { Config } from '../core/config.js';
import { acceptErrorLogger, openListeners, systemdFds, type InheritedFd, type Listener } from './listen.js';
import { SHUTDOWN_TIMEOUT_MS } from '../core/limits.js';
import { loadSecureContext } from '../http/tls.js';
import { info } from '../core/log.js';
import { checkAccessLog } from './check.js';

export interface Instance {
  app: App;
  listeners: Listener[];
  clock: Clock;
  /** Stop accepting, end every stream with the trailer, wait for connections to close (bounded). */
  drain(timeoutMs?: number): Promise<void>;
  /** Re-read config-derived state: lists and certificates; throws (keeping the old state) on a bad file. */
  reload(cfg: Config): void;
}

export interface StartOptions extends AppOptions {
  /** Listening sockets inherited from systemd; default: from the environment. */
  inherited?: InheritedFd[];
  /** Do not start the wall clock (specs drive app.tick / app.prepare themselves). */
  manualClock?: boolean;
}

export async function start(config: Config, opts: StartOptions = {}): Promise<Instance> {
  checkAccessLog(config.accessLog); // an unwritable log stops the start, not logging silently
  const app = new App(config, loadLists(config), opts);
  if (config.cert !== null && config.key !== null) app.setSecureContext(loadSecureContext(config.cert, config.key));
  const listeners = await openListeners(config.listen, config.tlsListen, opts.inherited ?? systemdFds(), {
    onPlain: app.onConnection,
    onTls: app.onTlsConnection,
    onAcceptError: acceptErrorLogger((code) => app.metrics.reject(`accept-${code.toLowerCase()}`)),
  });
  const clock = createClock({ tick: app.tick, prepare: app.prepare }, app.now);
  if (!opts.manualClock) clock.start();
  let draining: Promise<void> | null = null;
  return {
    app,
    listeners,
    clock,
    drain(timeoutMs = SHUTDOWN_TIMEOUT_MS) {
      draining ??= new Promise<void>((resolve) => {
        for (const l of listeners) l.server.close();
        app.drain();
        const started = Date.now();
        const wait = setInterval(() => {
          if (app.connections > 0 && Date.now() - started < timeoutMs) return;
          clearInterval(wait);
          clock.stop();
          app.metrics.stop();
          if (app.connections > 0) info(`exiting with ${app.connections} connections still open`);
          void app.accessLog.close().then(resolve);
        }, 20);
      });
      return draining;
    },
    reload(cfg) {
      const lists = loadLists(cfg);
      const ctx = cfg.cert !== null && cfg.key !== null ? loadSecureContext(cfg.cert, cfg.key) : null;
      app.reconfigure(cfg, lists);
      if (ctx !== null) app.setSecureContext(ctx);
    },
  };
}
