// --workers N: one primary process and N workers through node:cluster.
//
// Accepting. The primary opens no sockets of its own making: each worker asks for its listeners and node:cluster
// gives every worker the same one, and by default the workers accept on that shared socket themselves. With
// NODE_CLUSTER_SCHED_POLICY=rr (Node's own default on Linux) the primary accepts and hands each connection to the
// next worker over IPC instead; blocklist, rate and TLS checks run in the worker either way. Measured on two cores
// (perf/RESULTS.md, fan-out and junk with --workers 2): the hand-off spreads viewers more evenly (the last frame
// 0.66× one process's time after the boundary, against 0.76× on the shared socket), but it doubles what a
// connection-per-request flood costs to answer (0.47× one process's junk per CPU-second, against 1.35×): the
// primary does an accept and an IPC send for every connection. The floods decide.
// Socket activation: systemd hands the listening fds to the primary (LISTEN_PID is the primary's pid). The
// primary passes their numbers and names to the workers (TIMEGIF_INHERITED_FDS); a worker's listen({ fd })
// becomes a request to the primary, which listens on its own inherited fd and distributes as above.
//
// Frames are deterministic (the face of second t is a pure function of t and the channel), so every worker
// renders and encodes the same bytes; nothing about frames crosses IPC.
//
// Lifecycle. A worker that exits before its first start-up is reported is fatal (bad certificate, bad list):
// the primary stops the rest and exits with that code. Later exits are restarted after a backoff that doubles
// per exit within WORKER_STABLE_MS of its start. SIGTERM/SIGINT: forwarded as SIGTERM; each worker drains (its
// streams end with the trailer) and the primary exits when all are gone, or kills them after a bound. SIGHUP
// is forwarded to every running worker; each re-reads the config and keeps its old state if the new one is bad.
//
// /metrics. Every worker sends its own Prometheus text to the primary once a second; the primary sends all of
// them back (plus its own: workers running, restarts, pids). Whichever worker answers /metrics returns every
// worker's series with a `worker` label: its own fresh, the others at most ~2 s old. Sum with
// `sum without (worker)`. The traffic grows with N², fine for N up to the number of cores.

import cluster, { type Worker } from 'node:cluster';
import type { Config } from '../core/config.js';
import { systemdFds, type InheritedFd } from './listen.js';
import { METRICS_PUSH_MS, RESTART_BASE_MS, RESTART_MAX_MS, SHUTDOWN_TIMEOUT_MS, WORKER_STABLE_MS } from '../core/limits.js';
import { info } from '../core/log.js';
import type { Instance, StartOptions } from './start.js';

/** The worker's slot number, 1..N (stable across restarts: it is the `worker` label). */
export const WORKER_ID_ENV = 'TIMEGIF_WORKER_ID';
/** JSON InheritedFd[]: the primary's socket-activated fds, which the workers listen on through the primary. */
export const INHERITED_FDS_ENV = 'TIMEGIF_INHERITED_FDS';

/** Workers still alive this long after SIGTERM are killed (their own drain is bounded by SHUTDOWN_TIMEOUT_MS). */
export const PRIMARY_SHUTDOWN_MS = SHUTDOWN_TIMEOUT_MS + 2_000;

/** Messages on the cluster IPC channel, tagged so node:cluster's own messages are never confused with them. */
type ToPrimary = { timegif: 'ready'; urls: string[] } | { timegif: 'metrics'; text: string };
type ToWorker = { timegif: 'metrics-all'; parts: [number, string][]; primary: string };

/** Delay before restarting a worker that has exited `fastExits` times in a row soon after starting. */
export function restartDelayMs(fastExits: number): number {
  return Math.min(RESTART_MAX_MS, RESTART_BASE_MS * 2 ** Math.min(fastExits, 20));
}

export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

// ---- metrics text ------------------------------------------------------------------------------------------

/** `name{a="b"} 1` → `name{worker="3",a="b"} 1`; comments and blank lines unchanged. */
export function labelSample(line: string, label: string): string {
  if (line === '' || line.startsWith('#')) return line;
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  if (brace >= 0 && (space < 0 || brace < space)) {
    const empty = line[brace + 1] === '}';
    return line.slice(0, brace + 1) + label + (empty ? '' : ',') + line.slice(brace + 1);
  }
  return space < 0 ? line : `${line.slice(0, space)}{${label}}${line.slice(space)}`;
}

interface Family {
  help: string;
  type: string;
  samples: string[];
}

/**
 * Merge per-worker Prometheus texts into one: each family's HELP and TYPE once, then every worker's samples
 * with `worker="id"` added. Families keep the order in which they first appear.
 */
export function mergeWorkerMetrics(parts: Iterable<readonly [number, string]>): string {
  const families = new Map<string, Family>();
  for (const [id, text] of parts) {
    const label = `worker="${id}"`;
    let current: Family | null = null;
    for (const line of text.split('\n')) {
      if (line === '') continue;
      const m = /^# (HELP|TYPE) (\S+)/.exec(line);
      if (m !== null) {
        const name = m[2]!;
        current = families.get(name) ?? null;
        if (current === null) {
          current = { help: '', type: '', samples: [] };
          families.set(name, current);
        }
        if (m[1] === 'HELP') current.help ||= line;
        else current.type ||= line;
        continue;
      }
      if (line.startsWith('#')) continue;
      if (current === null) {
        current = { help: '', type: '', samples: [] };
        families.set(line.split(/[{ ]/, 1)[0]!, current);
      }
      current.samples.push(labelSample(line, label));
    }
  }
  const out: string[] = [];
  for (const f of families.values()) {
    if (f.help) out.push(f.help);
    if (f.type) out.push(f.type);
    out.push(...f.samples);
  }
  return out.length === 0 ? '' : out.join('\n') + '\n';
}

// ---- primary -----------------------------------------------------------------------------------------------

interface Slot {
  id: number;
  worker: Worker | null;
  pid: number;
  startedAt: number;
  /** Reported its listeners at least once (since the primary started). */
  everReady: boolean;
  ready: boolean;
  fastExits: number;
  restarts: number;
  restartTimer: NodeJS.Timeout | null;
  metrics: string;
}

function primaryMetrics(slots: Slot[]): string {
  const running = slots.filter((s) => s.ready).length;
  return [
    '# HELP timegif_workers Worker processes by state.',
    '# TYPE timegif_workers gauge',
    `timegif_workers{state="configured"} ${slots.length}`,
    `timegif_workers{state="running"} ${running}`,
    '# HELP timegif_worker_restarts_total Workers restarted after exiting.',
    '# TYPE timegif_worker_restarts_total counter',
    ...slots.map((s) => `timegif_worker_restarts_total{worker="${s.id}"} ${s.restarts}`),
    '# HELP timegif_worker_info The process behind each worker slot.',
    '# TYPE timegif_worker_info gauge',
    ...slots.filter((s) => s.worker !== null).map((s) => `timegif_worker_info{worker="${s.id}",pid="${s.pid}"} 1`),
  ].join('\n') + '\n';
}

/**
 * Run the primary: fork `config.workers` workers (each runs this same program with the same arguments), print
 * the listeners once every worker is up, keep them running, forward signals. Resolves with the exit code.
 */
export function runPrimary(config: Config): Promise<number> {
  const inherited: InheritedFd[] = systemdFds();
  const env = { [INHERITED_FDS_ENV]: JSON.stringify(inherited) };
  const slots: Slot[] = Array.from({ length: config.workers }, (_, i) => ({
    id: i + 1, worker: null, pid: 0, startedAt: 0, everReady: false, ready: false,
    fastExits: 0, restarts: 0, restartTimer: null, metrics: '',
  }));
  // Before the first fork, and only when the operator did not choose (node:cluster reads the variable at load).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  const policy = cluster.schedulingPolicy === cluster.SCHED_RR ? 'round-robin through the primary' : 'shared socket';
  info(`primary pid ${process.pid}: ${config.workers} workers, ${policy}` +
    (inherited.length > 0 ? `, socket-activated fds ${inherited.map((f) => `${f.fd}=${f.name}`).join(' ')}` : ''));

  return new Promise<number>((resolve) => {
    let stopping = false;
    let started = false;
    let exitCode = 0;
    let killTimer: NodeJS.Timeout | null = null;

    const live = (): Worker[] => slots.flatMap((s) => (s.worker === null ? [] : [s.worker]));
    const finish = (): void => {
      if (live().length > 0) return;
      clearInterval(metricsTimer);
      if (killTimer !== null) clearTimeout(killTimer);
      process.off('SIGHUP', onHup);
      resolve(exitCode);
    };
    const stop = (why: string, code: number): void => {
      if (stopping) return;
      stopping = true;
      exitCode = code;
      info(`${why}: stopping ${live().length} workers`);
      for (const s of slots) if (s.restartTimer !== null) clearTimeout(s.restartTimer);
      for (const w of live()) w.process.kill('SIGTERM');
      killTimer = setTimeout(() => {
        for (const w of live()) {
          info(`worker pid ${w.process.pid} still running after ${PRIMARY_SHUTDOWN_MS} ms: killed`);
          w.process.kill('SIGKILL');
        }
      }, PRIMARY_SHUTDOWN_MS);
      finish();
    };

    const fork = (slot: Slot): void => {
      slot.restartTimer = null;
      const w = cluster.fork({ ...env, [WORKER_ID_ENV]: String(slot.id) });
      slot.worker = w;
      slot.pid = w.process.pid ?? 0;
      slot.startedAt = Date.now();
      slot.ready = false;
      w.on('message', (m: ToPrimary) => {
        if (m === null || typeof m !== 'object') return;
        if (m.timegif === 'metrics') slot.metrics = m.text;
        else if (m.timegif === 'ready') {
          slot.ready = slot.everReady = true;
          if (!started && slots.every((s) => s.everReady)) {
            started = true;
            for (const url of m.urls) process.stdout.write(`listening on ${url}\n`);
            info(`all ${slots.length} workers running: pids ${slots.map((s) => s.pid).join(' ')}`);
          }
        }
      });
      w.on('exit', (code: number | null, signal: string | null) => {
        if (slot.worker !== w) return;
        slot.worker = null;
        slot.ready = false;
        slot.metrics = '';
        const how = signal !== null ? `signal ${signal}` : `code ${code}`;
        if (stopping) {
          finish();
          return;
        }
        if (!slot.everReady) {
          info(`worker ${slot.id} (pid ${slot.pid}) exited during start-up (${how})`);
          stop('start-up failed', code !== null && code !== 0 ? code : 1);
          return;
        }
        const lived = Date.now() - slot.startedAt;
        slot.fastExits = lived < WORKER_STABLE_MS ? slot.fastExits + 1 : 0;
        const delay = restartDelayMs(slot.fastExits);
        slot.restarts++;
        info(`worker ${slot.id} (pid ${slot.pid}) exited (${how}) after ${Math.round(lived / 1000)} s; restarting in ${delay} ms`);
        slot.restartTimer = setTimeout(() => fork(slot), delay);
      });
    };

    const onHup = (): void => {
      const ready = slots.filter((s) => s.ready && s.worker !== null);
      info(`SIGHUP: forwarded to ${ready.length} workers`);
      for (const s of ready) s.worker!.process.kill('SIGHUP');
    };
    process.on('SIGHUP', onHup);
    process.on('SIGTERM', () => stop('SIGTERM', 0)); // idempotent: a second signal must not kill the primary mid-drain
    process.on('SIGINT', () => stop('SIGINT', 0));

    const metricsTimer = setInterval(() => {
      const msg: ToWorker = {
        timegif: 'metrics-all',
        parts: slots.filter((s) => s.metrics !== '').map((s) => [s.id, s.metrics]),
        primary: primaryMetrics(slots),
      };
      for (const s of slots) if (s.ready && s.worker !== null && s.worker.isConnected()) s.worker.send(msg);
    }, METRICS_PUSH_MS);

    for (const s of slots) fork(s);
  });
}

// ---- worker ------------------------------------------------------------------------------------------------

/** In a worker: listen on the primary's socket-activated fds (if any) instead of looking at LISTEN_FDS. */
export function workerStartOptions(env: NodeJS.ProcessEnv = process.env): StartOptions {
  const raw = env[INHERITED_FDS_ENV];
  if (raw === undefined || raw === '') return {};
  return { inherited: JSON.parse(raw) as InheritedFd[] };
}

/** In a worker, once its instance runs: report to the primary, take part in /metrics, survive a second SIGTERM. */
export function attachWorker(inst: Instance): void {
  const id = Number(process.env[WORKER_ID_ENV] ?? '0');
  const send = (m: ToPrimary): void => {
    if (process.connected) process.send!(m);
  };
  // Under systemd's default KillMode a stop signals every process, and the primary forwards SIGTERM too: the
  // second one must not end the drain halfway (the server's own handler runs once).
  process.on('SIGTERM', () => {});
  const app = inst.app;
  const own = (): string => app.ownMetricsText();
  let parts: [number, string][] = [];
  let primary = '';
  process.on('message', (m: ToWorker) => {
    if (m !== null && typeof m === 'object' && m.timegif === 'metrics-all') {
      parts = m.parts;
      primary = m.primary;
    }
  });
  app.metricsAcross = (mine) => {
    const all = new Map(parts);
    all.set(id, mine);
    return mergeWorkerMetrics([...all].sort((a, b) => a[0] - b[0])) + primary;
  };
  setInterval(() => send({ timegif: 'metrics', text: own() }), METRICS_PUSH_MS).unref();
  send({ timegif: 'metrics', text: own() });
  send({ timegif: 'ready', urls: inst.listeners.map((l) => l.url) });
}
