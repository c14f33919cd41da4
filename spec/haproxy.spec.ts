// Behind a real HAProxy (Debian's haproxy) in TCP mode, in front of two timegif instances with send-proxy-v2 and
// health checks through PROXY (check-send-proxy): both servers are UP, the same second's frames are the same bytes
// from either instance, both access logs carry the real client's address, and a blocked real client is refused.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RawClient, drainAll, startTest } from './wire.js';
import { GifStreamSplitter, freePort, nowSecond, secondsShown, sleep, waitFor } from './helpers.js';
import { commandMissing, specIf } from './tools.js';

const dir = mkdtempSync(join(tmpdir(), 'timegif-haproxy-'));

/** `show stat` over haproxy's admin socket: server name → status. */
function serverStates(sock: string): Promise<Map<string, string>> {
  return new Promise((resolve, reject) => {
    const c = connect(sock);
    let out = '';
    c.on('data', (d) => (out += d));
    c.on('error', reject);
    c.on('end', () => {
      const rows = out.split('\n').filter((l) => l.startsWith('be,'));
      resolve(new Map(rows.map((l) => l.split(',')).map((f) => [f[1]!, f[17]!])));
    });
    c.write('show stat\n');
  });
}

/** A stream through the balancer from `src`: its GIF frames, and the close. */
async function viewer(port: number, src: string): Promise<{ c: RawClient; gif: () => GifStreamSplitter }> {
  const c = await RawClient.open(port, src);
  c.send('GET /time.gif HTTP/1.1\r\nHost: localhost\r\nUser-Agent: behind-haproxy\r\n\r\n');
  return {
    c,
    gif: () => {
      const g = new GifStreamSplitter();
      if (c.headEnd > 0) g.push(c.data.subarray(c.headEnd));
      return g;
    },
  };
}

specIf(commandMissing('haproxy', ['-v'], 'apt-get install haproxy'), 'haproxy :: two instances behind send-proxy-v2: checks UP, identical frames, the real client in both logs, a blocked client refused', async () => {
  writeFileSync(join(dir, 'block.txt'), '127.66.0.0/16\n');
  const common = ['--proxy-protocol-from', '127.0.0.1', '--blocklist', join(dir, 'block.txt')];
  const a = await startTest([...common, '--access-log', join(dir, 'a.log')]);
  const b = await startTest([...common, '--access-log', join(dir, 'b.log')]);
  const front = await freePort();
  const sock = join(dir, 'admin.sock');
  writeFileSync(join(dir, 'haproxy.cfg'), `global
  stats socket ${sock} mode 600 level admin
  maxconn 2000
defaults
  mode tcp
  timeout connect 2s
  timeout client 60s
  timeout server 60s
frontend fe
  bind 127.0.0.1:${front}
  default_backend be
backend be
  balance roundrobin
  option redispatch
  default-server send-proxy-v2 check check-send-proxy inter 300ms rise 1 fall 2
  server a 127.0.0.1:${a.port}
  server b 127.0.0.1:${b.port}
`);
  const hp = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let hpErr = '';
  hp.stderr!.on('data', (d) => (hpErr += d));
  try {
    let states = new Map<string, string>();
    for (let i = 0; i < 80 && !(states.get('a') === 'UP' && states.get('b') === 'UP'); i++) {
      await sleep(100);
      states = await serverStates(sock).catch(() => new Map());
    }
    assert.is(states.get('a'), 'UP', `server a UP through PROXY v2 health checks (${hpErr.slice(0, 300)})`);
    assert.is(states.get('b'), 'UP', 'server b UP');
    // Two viewers: round robin puts one on each instance.
    const from = nowSecond();
    const v1 = await viewer(front, '127.50.0.1');
    const v2 = await viewer(front, '127.50.0.2');
    await waitFor(() => a.inst.app.viewers === 1 && b.inst.app.viewers === 1, 'one viewer on each instance');
    await v1.c.until(() => v1.gif().frames.length >= 4, 6000, 'four frames on viewer 1');
    await v2.c.until(() => v2.gif().frames.length >= 4, 6000, 'four frames on viewer 2');
    const g1 = v1.gif(), g2 = v2.gif();
    assert.ok(g1.prologue!.equals(g2.prologue!), 'the same prologue from both instances');
    const s1 = secondsShown(g1.gif(), from - 1, nowSecond()), s2 = secondsShown(g2.gif(), from - 1, nowSecond());
    let compared = 0;
    for (let i = 1; i < s1.length; i++) {
      const j = s2.indexOf(s1[i]!);
      if (j > 0) {
        assert.ok(g1.frames[i]!.equals(g2.frames[j]!), `second ${s1[i]}: the same delta bytes from both instances`);
        compared++;
      }
    }
    assert.ok(compared >= 2, `compared ${compared} seconds`);
    // A blocked real client: the balancer connects, the instance refuses after the PROXY header.
    const blocked = await RawClient.open(front, '127.66.0.9');
    blocked.send('GET /time.gif HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await blocked.untilClosed(5000);
    assert.is(blocked.data.length, 0, 'no byte for a blocked real client');
    assert.ok((a.inst.app.metrics.rejects.get('blocked') ?? 0) + (b.inst.app.metrics.rejects.get('blocked') ?? 0) >= 1, 'counted as blocked');
    v1.c.close();
    v2.c.close();
    await waitFor(() => a.inst.app.viewers === 0 && b.inst.app.viewers === 0, 'viewers gone');
  } finally {
    hp.kill();
  }
  await drainAll();
  await sleep(200);
  const logs = readFileSync(join(dir, 'a.log'), 'utf8') + readFileSync(join(dir, 'b.log'), 'utf8');
  assert.match(readFileSync(join(dir, 'a.log'), 'utf8'), /^127\.50\.0\.[12] - - \[.*"GET \/time\.gif HTTP\/1\.1" 200 /m, 'instance a logs the real client');
  assert.match(readFileSync(join(dir, 'b.log'), 'utf8'), /^127\.50\.0\.[12] - - \[.*"GET \/time\.gif HTTP\/1\.1" 200 /m, 'instance b logs the real client');
  assert.not.match(logs, /^127\.0\.0\.1 /m, 'no line with the balancer address');
});

test.run();
