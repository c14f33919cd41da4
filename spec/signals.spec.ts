// Signals on a real server process: SIGTERM ends every open stream with the GIF trailer right after a whole
// frame and exits within 5 s; SIGHUP applies a good config and blocklist, and keeps the old state (logging why)
// when the new file is broken.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertEndsCleanly, get, metrics, serveProc, sleep, tmpDir } from './procs.js';

/** Exit bound after SIGTERM (the drain itself is bounded by SHUTDOWN_TIMEOUT_MS = 3 s). */
const EXIT_WITHIN_MS = 5_000;

test('signals :: SIGTERM ends every stream with the trailer after a whole frame and exits within 5 s', async () => {
  const { p, port } = await serveProc(['--listen', '127.0.0.1:0']);
  try {
    const streams = [get(port, '/time.gif'), get(port, '/time.gif'), get(port, '/time.gif?tz=Europe/Berlin')];
    await Promise.all(streams.map((s) => s.bodyAtLeast(64)));
    await sleep(1_600); // at least one frame after the intro
    // Mid-second, so no frame is being written while the signal lands.
    const started = Date.now();
    p.child.kill('SIGTERM');
    const { code } = await p.exited;
    const tookMs = Date.now() - started;
    await Promise.all(streams.map((s) => s.closed));
    streams.forEach((s, i) => assertEndsCleanly(s, `stream ${i}`));
    assert.is(code, 0);
    assert.ok(tookMs < EXIT_WITHIN_MS, `exited after ${tookMs} ms`);
    assert.match(p.err(), /SIGTERM: draining 3 viewers/);
  } finally {
    p.kill();
  }
});

test('signals :: SIGHUP applies a good blocklist and keeps it when the next file or config is broken', async () => {
  const dir = tmpDir('hup');
  const list = join(dir, 'blocklist.txt');
  const cfg = join(dir, 'timegif.json');
  writeFileSync(list, '10.0.0.0/8\n');
  writeFileSync(cfg, JSON.stringify({ blocklist: [list] }));
  const { p, port } = await serveProc(['--config', cfg, '--listen', '127.0.0.1:0']);
  const ranges = async (): Promise<number> => Number(/^timegif_blocklist_ranges (\d+)$/m.exec(await metrics(port))![1]);
  /** Status line seen by a client at 127.0.0.2, or null when dropped without a byte. */
  const from2 = async (): Promise<string | null> => {
    const s = get(port, '/healthz', { localAddress: '127.0.0.2' });
    await s.closed;
    return s.head()?.split('\r\n')[0] ?? null;
  };
  const hup = async (expect: RegExp): Promise<void> => {
    // Only what the server logs after this SIGHUP counts (an earlier line must not satisfy a later step).
    const before = p.err().length;
    p.child.kill('SIGHUP');
    for (let i = 0; i < 250 && !expect.test(p.err().slice(before)); i++) await sleep(20);
    assert.match(p.err().slice(before), expect);
  };
  try {
    assert.is(await ranges(), 1);
    assert.is(await from2(), 'HTTP/1.1 200 OK');
    // Good: a new range, applied.
    writeFileSync(list, '10.0.0.0/8\n192.0.2.0/24\n127.0.0.2/32\n');
    await hup(/reloaded: 3 blocked ranges/);
    assert.is(await ranges(), 3);
    assert.is(await from2(), null, 'dropped at accept');
    // Broken blocklist line: the old three ranges stay; the log names the file and line.
    writeFileSync(list, '10.0.0.0/8\nnot-a-range\n');
    await hup(/reload failed, keeping the previous configuration: .*blocklist\.txt:2/);
    assert.is(await ranges(), 3);
    assert.is(await from2(), null, 'still dropped');
    // Broken config JSON: same.
    writeFileSync(cfg, '{"blocklist": [');
    await hup(/reload failed, keeping the previous configuration: .*not valid JSON/);
    assert.is(await ranges(), 3);
    // Unknown key in the config: same, naming the key.
    writeFileSync(cfg, JSON.stringify({ blocklist: [list], 'max-viewer': 5 }));
    await hup(/reload failed, keeping the previous configuration: \S+\.json: unknown option key "max-viewer"/);
    // And good again.
    writeFileSync(list, '192.0.2.0/24\n');
    writeFileSync(cfg, JSON.stringify({ blocklist: [list] }));
    await hup(/reloaded: 1 blocked ranges/);
    assert.is(await ranges(), 1);
    assert.is(await from2(), 'HTTP/1.1 200 OK');
  } finally {
    p.kill();
  }
});

test.run();
