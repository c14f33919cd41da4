// Helpers every bench shares: one definition of each, so a median means the same thing in every table.
import { createServer } from 'node:net';
import { appendFileSync } from 'node:fs';
import { cpus, totalmem, platform, arch, loadavg } from 'node:os';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A number with `d` decimals, or '-' when there is none. */
export const fmt = (x, d = 1) => (x === null || x === undefined || !Number.isFinite(x) ? '-' : x.toFixed(d));

/** The median: the middle value, or the mean of the two middle ones. */
export function median(xs) {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** SIGTERM a child process and wait for it to exit (SIGKILL after 5 s). */
export function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** A free TCP port on 127.0.0.1, from the OS. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The machine a result was measured on, read from it: Node, OS, CPUs, memory, the load average now. */
export function machine() {
  const cpu = cpus();
  const [l1] = loadavg();
  return `Node ${process.version}, ${platform()} ${arch()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, 1-min load ${l1.toFixed(1)}`;
}

/** Append a section to perf/RESULTS.md (unless NO_RESULTS is set) and print it. */
export function record(lines) {
  const text = lines.join('\n');
  console.log(text);
  if (!process.env.NO_RESULTS) appendFileSync(new URL('./RESULTS.md', import.meta.url), text);
}
