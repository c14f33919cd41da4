// --workers 2 on a real process tree: both workers serve streams (seen per worker in /metrics, with distinct
// pids), frames are byte-identical across workers, a killed worker is restarted, SIGHUP reaches every worker and
// SIGTERM to the primary ends every stream with the trailer. Also the pure parts of lib/run/cluster.ts.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { labelSample, mergeWorkerMetrics, restartDelayMs } from '../lib/run/cluster.js';
import { RESTART_BASE_MS, RESTART_MAX_MS } from '../lib/core/limits.js';
import { SERVER_JS, assertEndsCleanly, get, metrics, run, serveProc, sleep, walkGif, type Stream } from './procs.js';

/** `timegif_NAME{worker="i",...} v` values by worker id. */
function byWorker(text: string, name: string, extra = ''): Map<number, number> {
  const out = new Map<number, number>();
  const re = new RegExp(`^timegif_${name}\\{worker="(\\d+)"${extra}[^}]*\\} (\\S+)$`, 'gm');
  for (const m of text.matchAll(re)) out.set(Number(m[1]), (out.get(Number(m[1])) ?? 0) + Number(m[2]));
  return out;
}

/** worker id → pid, from timegif_worker_info. */
function pids(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const m of text.matchAll(/^timegif_worker_info\{worker="(\d+)",pid="(\d+)"\} 1$/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

/** Poll /metrics until `ok` holds (workers report once a second). */
/** HTTP/1 viewers on worker `w` in a /metrics text, or null when that worker has not reported yet. */
const viewersOn = (text: string, w: number): number | null => byWorker(text, 'viewers', ',transport="h1"').get(w) ?? null;

/** `n` streams opened one after another, each receiving before the next (pushed to `into`). */
async function openStreams(port: number, n: number, into: Stream[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const s = get(port, '/time.gif');
    into.push(s);
    await s.bodyAtLeast(64);
  }
}

async function metricsUntil(port: number, ok: (text: string) => boolean, ms = 10_000): Promise<string> {
  const until = Date.now() + ms;
  for (;;) {
    // A connection handed to a worker that is just being killed can stay unanswered: ask again.
    const text = await metrics(port).catch((err: Error) => err.message);
    if (ok(text)) return text;
    if (Date.now() > until) throw new Error(`metrics condition not met in ${ms} ms:\n${text}`);
    await sleep(200);
  }
}

test('workers :: restart delay doubles per fast exit up to the bound', () => {
  assert.is(restartDelayMs(0), RESTART_BASE_MS);
  assert.is(restartDelayMs(1), 2 * RESTART_BASE_MS);
  assert.is(restartDelayMs(3), 8 * RESTART_BASE_MS);
  assert.is(restartDelayMs(100), RESTART_MAX_MS);
});

test('workers :: metrics of several workers merge into one family each, with a worker label', () => {
  assert.is(labelSample('timegif_ticks_total 5', 'worker="2"'), 'timegif_ticks_total{worker="2"} 5');
  assert.is(labelSample('timegif_viewers{transport="h1"} 3', 'worker="2"'), 'timegif_viewers{worker="2",transport="h1"} 3');
  assert.is(labelSample('# HELP timegif_x y', 'worker="2"'), '# HELP timegif_x y');
  const w = (n: number): string =>
    `# HELP timegif_a A.\n# TYPE timegif_a counter\ntimegif_a ${n}\n# HELP timegif_h H.\n# TYPE timegif_h histogram\n` +
    `timegif_h_bucket{le="1"} ${n}\ntimegif_h_sum ${n}\n`;
  assert.is(
    mergeWorkerMetrics([[1, w(1)], [2, w(2)]]),
    '# HELP timegif_a A.\n# TYPE timegif_a counter\ntimegif_a{worker="1"} 1\ntimegif_a{worker="2"} 2\n' +
      '# HELP timegif_h H.\n# TYPE timegif_h histogram\ntimegif_h_bucket{worker="1",le="1"} 1\ntimegif_h_sum{worker="1"} 1\n' +
      'timegif_h_bucket{worker="2",le="1"} 2\ntimegif_h_sum{worker="2"} 2\n',
  );
  assert.is(mergeWorkerMetrics([]), '');
});

test('workers :: --workers 2: both serve, frames are byte-identical, a killed worker comes back, SIGTERM drains all', async () => {
  // Round-robin chosen explicitly: it is what makes four streams in a row land on both workers.
  const { p, port } = await serveProc(['--listen', '127.0.0.1:0', '--workers', '2'], { NODE_CLUSTER_SCHED_POLICY: 'rr' });
  const streams: Stream[] = [];
  try {
    await p.waitFor(/2 workers, round-robin through the primary/);
    await p.waitFor(/all 2 workers running: pids (\d+) (\d+)/);
    const first = pids(await metricsUntil(port, (t) => pids(t).size === 2));
    assert.is(new Set(first.values()).size, 2, 'distinct pids');
    assert.ok(![...first.values()].includes(p.child.pid!), 'workers are not the primary');

    // Streams one by one: round-robin hands them to both workers; the per-worker viewer gauge shows it.
    await openStreams(port, 4, streams);
    const text = await metricsUntil(port, (t) => {
      const v = byWorker(t, 'viewers', ',transport="h1"');
      return (v.get(1) ?? 0) + (v.get(2) ?? 0) === 4;
    });
    const viewers = byWorker(text, 'viewers', ',transport="h1"');
    assert.ok(viewers.get(1)! >= 1 && viewers.get(2)! >= 1, `viewers per worker: ${[...viewers]}`);

    // Same frames everywhere: after its intro keyframe, every stream's frames are the tail of every longer one's.
    await sleep(2_300);
    const frames = streams.map((s) => walkGif(s.body()!).frames.map((f) => f.toString('hex')));
    for (const a of frames) {
      assert.ok(a.length >= 3, 'intro and at least two more frames');
      for (const b of frames) {
        if (a.length > b.length) continue;
        const rest = a.slice(1);
        assert.equal(b.slice(b.length - rest.length), rest, 'same bytes for the same seconds');
      }
    }

    // Kill worker 1: it comes back with a new pid, and serves.
    process.kill(first.get(1)!, 'SIGKILL');
    const after = await metricsUntil(port, (t) => {
      const now = pids(t);
      return now.size === 2 && now.get(1) !== first.get(1) && /timegif_workers\{state="running"\} 2/.test(t);
    });
    assert.is(pids(after).get(2), first.get(2), 'the other worker kept running');
    assert.is(byWorker(after, 'worker_restarts_total').get(1), 1);
    assert.match(p.err(), new RegExp(`worker 1 \\(pid ${first.get(1)}\\) exited \\(signal SIGKILL\\)`));
    const late = get(port, '/time.gif');
    await late.bodyAtLeast(64);
    streams.push(late);

    // SIGHUP reaches every worker.
    p.child.kill('SIGHUP');
    await p.waitFor(/SIGHUP: forwarded to 2 workers/);
    await p.waitFor(/reloaded:[\s\S]*reloaded:/);

    // SIGTERM to the primary: every stream (on either worker) ends with the trailer; everything exits in time.
    await sleep(1_100);
    const live = streams.filter((s) => !s.socket.destroyed);
    assert.ok(live.length >= 2, 'streams of the surviving and the restarted worker are open');
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    assert.is(code, 0);
    assert.ok(Date.now() - t0 < 5_000, `exited after ${Date.now() - t0} ms`);
    await Promise.all(live.map((s) => s.closed));
    live.forEach((s, i) => assertEndsCleanly(s, `stream ${i}`));
    for (const pid of [pids(after).get(1)!, pids(after).get(2)!]) {
      assert.throws(() => process.kill(pid, 0), 'worker is gone');
    }
  } finally {
    for (const s of streams) s.socket.destroy();
    p.kill();
  }
});

test('workers :: by default the workers accept on the shared socket, and both serve', async () => {
  const env = { NODE_CLUSTER_SCHED_POLICY: undefined };
  const { p, port } = await serveProc(['--listen', '127.0.0.1:0', '--workers', '2'], env);
  const streams: Stream[] = [];
  try {
    await p.waitFor(/all 2 workers running/);
    assert.match(p.err() + p.out(), /primary pid \d+: 2 workers, shared socket/);
    // Which worker wins an accept is the kernel's choice: only that streams are served, and both workers report.
    await openStreams(port, 4, streams);
    // Both workers report (the other's series reach /metrics within ~2 s), and between them hold all four: metricsUntil
    // fails the spec if that never holds.
    await metricsUntil(port, (t) => viewersOn(t, 1) !== null && viewersOn(t, 2) !== null && viewersOn(t, 1)! + viewersOn(t, 2)! === 4);
  } finally {
    for (const s of streams) s.socket.destroy();
    p.child.kill('SIGTERM');
    await p.exited;
  }
});

test('workers :: a worker that cannot start stops the primary with its exit code', async () => {
  const p = run(process.execPath, [SERVER_JS, 'serve', '--listen', '127.0.0.1:0', '--workers', '2', '--blocklist', '/nonexistent/list']);
  try {
    const { code } = await p.exited;
    assert.is(code, 2);
    assert.match(p.err(), /exited during start-up/);
    assert.match(p.err(), /\/nonexistent\/list/);
  } finally {
    p.kill();
  }
});

test.run();
