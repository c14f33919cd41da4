// Running perf/out/flood against one server and reading it: shared by the benches that time servers side by side
// with it (junk-layers.mjs, finite-bench.mjs).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { procStats } from './load.mjs';

export const FLOOD = fileURLToPath(new URL('out/flood', import.meta.url));

/** Resolves with the port once `child` prints `listening on http://HOST:PORT` (10 s at most). */
export function listeningPort(child, name) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${name}: not listening within 10 s`)), 10000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/[^\s:]+:(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout.resume();
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => reject(new Error(`${name} exited (${code})`)));
  });
}

/**
 * One flood on CPU 1 against `srv` ({port, pid}) for `seconds` + 1: at each of the client's second lines, its
 * cumulative responses and failures and the server's on-CPU time; then the statuses it saw.
 * `opts`: mode (keepalive|close), conns, seconds, src (CIDR), and optionally host and path.
 */
export function runFlood(srv, opts) {
  const args = ['-c', '1', FLOOD, '--mode', opts.mode, '--conns', String(opts.conns), '--seconds', String(opts.seconds + 1), '--src', opts.src];
  if (opts.host) args.push('--host', opts.host);
  if (opts.path) args.push('--path', opts.path);
  const f = spawn('taskset', [...args, `127.0.0.1:${srv.port}`]);
  const ticks = [];
  const status = {};
  let buf = '';
  f.stdout.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const line = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const m = /^sec (\d+) responses (\d+) connects \d+ dropped (\d+) partial (\d+) errors (\d+)/.exec(line);
      if (m) ticks.push({ sec: Number(m[1]), responses: Number(m[2]), bad: Number(m[3]) + Number(m[4]) + Number(m[5]), cpu: procStats(srv.pid)?.runS ?? NaN });
      const s = /^status (\d+) (\d+)/.exec(line);
      if (s) status[s[1]] = Number(s[2]);
    }
  });
  return new Promise((resolve) => f.once('exit', () => resolve({ ticks, status })));
}

/** The seconds every run saw, and the first and last of them past the first (a warm-up second dropped). */
export function commonWindow(runs) {
  const secs = runs.map((r) => new Set(r.ticks.map((t) => t.sec)));
  const common = [...secs[0]].filter((s) => secs.every((x) => x.has(s))).sort((a, b) => a - b);
  if (common.length < 3) throw new Error(`the floods shared ${common.length} seconds`);
  return [common[1], common[common.length - 1]];
}
