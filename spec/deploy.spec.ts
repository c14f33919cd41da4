// deploy/: the systemd units pass `systemd-analyze verify`, carry the settings the guide relies on, the example
// config and sysctl drop-in are valid, and a socket-activated server (systemd-socket-activate, fds named
// http and https) serves /time.gif on both fds, in one process and with --workers 2.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../lib/core/config.js';
import { ROOT, SERVER_JS, freePorts, get, has, run, tmpDir, walkGif, type Stream } from './procs.js';
import { makeCert } from './helpers.js';
import { specIf } from './tools.js';

const DEPLOY = join(ROOT, 'deploy');
const UNITS = ['timegif.service', 'timegif-nosocket.service', 'timegif.socket', 'timegif-https.socket', 'timegif-firewall.service'];

/** `Key=value` lines of a unit, by key (repeated keys keep every value). Sections are not told apart. */
function unitSettings(name: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of readFileSync(join(DEPLOY, name), 'utf8').split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const k = line.slice(0, eq);
    map.set(k, [...(map.get(k) ?? []), line.slice(eq + 1)]);
  }
  return map;
}
const one = (u: Map<string, string[]>, k: string): string | undefined => u.get(k)?.at(-1);

specIf(has('systemd-analyze') ? null : 'systemd-analyze not installed (apt-get install systemd)', 'deploy :: systemd-analyze verify accepts the units', () => {
  // verify checks that ExecStart's binary exists: point it at this node in a copy; everything else as shipped.
  const dir = tmpDir('units');
  for (const name of UNITS) {
    const text = readFileSync(join(DEPLOY, name), 'utf8');
    assert.ok(!name.endsWith('.service') || text.includes('/usr/bin/node /opt/timegif/dist/server.js '), name);
    writeFileSync(join(dir, name), text.replaceAll('/usr/bin/node ', `${process.execPath} `));
  }
  const r = spawnSync('systemd-analyze', ['verify', ...UNITS.map((n) => join(dir, n))], { encoding: 'utf8' });
  assert.is(r.stderr.trim(), '', 'no warnings');
  assert.is(r.status, 0);
  // …and the check can fail: verify exits 0 on a misspelt key but reports it, which the first assertion catches.
  writeFileSync(join(dir, 'timegif.service'), readFileSync(join(dir, 'timegif.service'), 'utf8').replace('ProtectSystem=', 'ProtectSytem='));
  const bad = spawnSync('systemd-analyze', ['verify', ...UNITS.map((n) => join(dir, n))], { encoding: 'utf8' });
  assert.match(bad.stderr, /Unknown key 'ProtectSytem'/);
});

test('deploy :: the socket-activated unit has the limits and hardening the guide promises', () => {
  const s = unitSettings('timegif.service');
  const want: Record<string, string> = {
    LimitNOFILE: '1048576', DynamicUser: 'yes', NoNewPrivileges: 'yes', ProtectSystem: 'strict', ProtectHome: 'yes',
    PrivateTmp: 'yes', PrivateDevices: 'yes', ProtectKernelTunables: 'yes', ProtectKernelModules: 'yes',
    ProtectKernelLogs: 'yes', RestrictAddressFamilies: 'AF_INET AF_INET6 AF_UNIX', Restart: 'on-failure',
    ExecReload: '/bin/kill -HUP $MAINPID', StateDirectory: 'timegif', LogsDirectory: 'timegif', KillMode: 'mixed',
    CapabilityBoundingSet: '', Sockets: 'timegif.socket timegif-https.socket',
  };
  for (const [k, v] of Object.entries(want)) assert.is(one(s, k), v, k);
  assert.ok(s.get('SystemCallFilter')!.includes('@system-service'));
  assert.match(one(s, 'MemoryMax')!, /^\d+[MG]$/);
  assert.match(one(s, 'MemoryHigh')!, /^\d+[MG]$/);
  assert.match(one(s, 'ExecStart')!, /^\/usr\/bin\/node \/opt\/timegif\/dist\/server\.js serve --config \/etc\/timegif\/timegif\.json$/);
  // The draining bound (3 s) plus the primary's margin fits in the stop timeout.
  assert.ok(parseInt(one(s, 'TimeoutStopSec')!, 10) >= 6);
});

test('deploy :: sockets on 80 and 443 are named http and https, and the variant without them binds with one capability', () => {
  const http = unitSettings('timegif.socket');
  const https = unitSettings('timegif-https.socket');
  assert.is(one(http, 'ListenStream'), '80');
  assert.is(one(http, 'FileDescriptorName'), 'http');
  assert.is(one(https, 'ListenStream'), '443');
  assert.is(one(https, 'FileDescriptorName'), 'https');
  assert.is(one(https, 'Service'), 'timegif.service');
  const ns = unitSettings('timegif-nosocket.service');
  assert.is(one(ns, 'AmbientCapabilities'), 'CAP_NET_BIND_SERVICE');
  assert.is(one(ns, 'CapabilityBoundingSet'), 'CAP_NET_BIND_SERVICE');
  assert.is(one(ns, 'Sockets'), undefined);
  assert.match(one(ns, 'Conflicts')!, /timegif\.service/);
  // Otherwise the same hardening as the socket-activated unit.
  const s = unitSettings('timegif.service');
  for (const k of ['DynamicUser', 'NoNewPrivileges', 'ProtectSystem', 'LimitNOFILE', 'MemoryMax', 'SystemCallFilter'])
    assert.equal(ns.get(k), s.get(k), k);
});

test('deploy :: the example configs load, match the units paths, and differ only by TLS', () => {
  const plain = loadConfigFile(join(DEPLOY, 'timegif.json'));
  const tls = loadConfigFile(join(DEPLOY, 'timegif-tls.json'));
  assert.equal(plain.listen, [{ host: '::', port: 80 }]);
  assert.equal(plain.tlsListen, []);
  assert.equal([plain.cert, plain.key, plain.redirectHttps], [null, null, false], 'no TLS before the first certificate, so no redirect to it');
  assert.equal(tls.listen, [{ host: '::', port: 80 }]);
  assert.equal(tls.tlsListen, [{ host: '::', port: 443 }]);
  assert.ok(tls.redirectHttps);
  assert.ok(tls.cert!.startsWith('/etc/timegif/tls/') && tls.key!.startsWith('/etc/timegif/tls/'));
  for (const cfg of [plain, tls]) {
    assert.ok(cfg.workers >= 1);
    // The access log lives in the unit's LogsDirectory, the only writable place besides the state directory.
    assert.ok(cfg.accessLog!.startsWith(`/var/log/${one(unitSettings('timegif.service'), 'LogsDirectory')}/`));
  }
  const same = (c: typeof plain) => ({ ...c, tlsListen: [], cert: null, key: null, redirectHttps: false, configFile: null });
  assert.equal(same(tls), same(plain), 'every other key the same');
});

specIf(has('systemd-analyze') ? null : 'systemd-analyze not installed (apt-get install systemd)', 'deploy :: systemd-analyze security: every service at 4.0 or less', () => {
  for (const name of UNITS.filter((n) => n.endsWith('.service'))) {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', join(DEPLOY, name)], { encoding: 'utf8' });
    const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
    assert.ok(m !== null, `${name}: ${r.stdout.slice(-300)}${r.stderr}`);
    assert.ok(Number(m![1]) <= 4.0, `${name}: exposure ${m![1]}`);
  }
});

// The firewall unit runs nft as a transient user holding CAP_NET_ADMIN only (no root): the same identity, made by
// setpriv, applies timegif's own table in a network namespace of this spec's.
specIf(process.getuid?.() === 0 && has('setpriv') && has('unshare') && has('nft') ? null : 'needs root, setpriv, unshare and nft (apt-get install util-linux nftables)', 'deploy :: the firewall unit\'s identity (a plain user with CAP_NET_ADMIN) applies the table; without the capability it cannot', () => {
  const u = unitSettings('timegif-firewall.service');
  assert.equal([one(u, 'DynamicUser'), one(u, 'AmbientCapabilities'), one(u, 'CapabilityBoundingSet')], ['yes', 'CAP_NET_ADMIN', 'CAP_NET_ADMIN']);
  const dir = tmpDir('fw');
  writeFileSync(join(dir, 'block.txt'), '192.0.2.0/24\n2001:db8::/32\n');
  const script = spawnSync(process.execPath, [SERVER_JS, 'nft', '--blocklist', join(dir, 'block.txt'), '--ports', '80,443'], { encoding: 'utf8' });
  assert.is(script.status, 0, script.stderr);
  writeFileSync(join(dir, 'nft.conf'), script.stdout);
  chmodSync(dir, 0o755); // the unprivileged user reads it
  chmodSync(join(dir, 'nft.conf'), 0o644);
  const as = (caps: string[]) => spawnSync('unshare', ['-n', 'sh', '-c', `setpriv --reuid=65534 --regid=65534 --clear-groups ${caps.join(' ')} nft -f ${join(dir, 'nft.conf')} && nft list table inet timegif`], { encoding: 'utf8' });
  const ok = as(['--inh-caps=+net_admin', '--ambient-caps=+net_admin']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, '192.0.2.0/24');
  const denied = as([]);
  assert.ok(denied.status !== 0 && /Operation not permitted/.test(denied.stderr), `without the capability: ${denied.stderr}`);
});

test('deploy :: every sysctl in the drop-in exists, parses and says why', () => {
  const lines = readFileSync(join(DEPLOY, 'sysctl.d', '60-timegif.conf'), 'utf8').split('\n');
  const keys = new Map<string, string>();
  lines.forEach((line, i) => {
    if (line.trim() === '' || line.startsWith('#')) return;
    const m = /^([a-z0-9_.-]+) = ([0-9 ]+)$/.exec(line);
    assert.ok(m !== null, `line ${i + 1}: ${line}`);
    assert.ok(lines[i - 1]!.startsWith('# '), `${m![1]} has a comment saying why`);
    keys.set(m![1]!, m![2]!);
    const proc = `/proc/sys/${m![1]!.replaceAll('.', '/')}`;
    if (existsSync('/proc/sys/net/ipv4')) assert.ok(existsSync(proc), `${m![1]} is a kernel setting`);
  });
  for (const k of ['net.core.somaxconn', 'net.ipv4.tcp_max_syn_backlog', 'net.ipv4.tcp_mem', 'net.ipv4.tcp_wmem',
    'net.ipv4.ip_local_port_range', 'fs.file-max', 'net.ipv4.tcp_fin_timeout', 'fs.nr_open'])
    assert.ok(keys.has(k), k);
  const [lo, pressure, hi] = keys.get('net.ipv4.tcp_mem')!.split(' ').map(Number);
  assert.ok(lo! < pressure! && pressure! < hi!, 'tcp_mem is min < pressure < max');
  assert.ok(hi! * 4096 <= 1024 ** 3, 'TCP memory stays under 1 GiB of a 2 GiB machine');
  assert.ok(Number(keys.get('fs.nr_open')) >= Number(one(unitSettings('timegif.service'), 'LimitNOFILE')));
  assert.ok(Number(keys.get('fs.file-max')) > Number(keys.get('fs.nr_open')));
});

/** Wait until the stream holds a whole first frame (the intro may arrive in several reads, e.g. over TLS). */
async function wholeFrame(s: Stream): Promise<void> {
  for (let n = 64; ; n += 64) {
    await s.bodyAtLeast(n);
    if (walkGif(s.body()!).frames.length >= 1) return;
  }
}

async function socketActivated(extra: string[]): Promise<void> {
  const dir = tmpDir('sa');
  const { cert, key } = makeCert(['localhost'], dir);
  const [p1, p2] = await freePorts(2);
  const p = run('systemd-socket-activate', [
    '-l', `127.0.0.1:${p1}`, '-l', `127.0.0.1:${p2}`, '--fdname=http:https',
    process.execPath, SERVER_JS, 'serve', '--cert', cert, '--key', key, ...extra,
  ]);
  try {
    await p.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${p2}`));
    // The tool starts the server on the first connection; that connection waits in the backlog meanwhile.
    const plain = get(p1!, '/time.gif');
    await wholeFrame(plain);
    const tls = get(p2!, '/time.gif', { tls: true });
    await wholeFrame(tls);
    for (const [name, s] of [['plain', plain], ['tls', tls]] as const) {
      assert.match(s.head()!, /^HTTP\/1\.1 200 OK\r\n/, name);
      assert.match(s.head()!, /\r\nContent-Type: image\/gif\r\n/i, name);
      assert.ok(walkGif(s.body()!).frames.length >= 1, `${name}: a whole first frame`);
      s.socket.destroy();
    }
    // The server took both fds from systemd (it prints them), not some listener of its own.
    await p.waitFor(new RegExp(`listening on http://127\\.0\\.0\\.1:${p1}`));
    await p.waitFor(new RegExp(`listening on https://127\\.0\\.0\\.1:${p2}`));
    // The plain fd does not speak TLS.
    const wrong = get(p1!, '/time.gif', { tls: true });
    await wrong.closed;
    assert.is(wrong.head(), null);
    p.child.kill('SIGTERM');
    assert.is((await p.exited).code, 0);
  } finally {
    p.kill();
  }
}

specIf(has('systemd-socket-activate') && has('openssl') ? null : 'systemd-socket-activate or openssl not installed (apt-get install systemd openssl)', 'deploy :: systemd-socket-activate: /time.gif on the http fd and the https fd', async () => {
  await socketActivated([]);
});

specIf(has('systemd-socket-activate') && has('openssl') ? null : 'systemd-socket-activate or openssl not installed (apt-get install systemd openssl)', 'deploy :: systemd-socket-activate with --workers 2: both fds served through the primary', async () => {
  await socketActivated(['--workers', '2']);
});

specIf(has('promtool') ? null : 'promtool not installed (apt-get install prometheus)', 'deploy :: the alert rules pass promtool check rules and their own promtool test rules', () => {
  const check = spawnSync('promtool', ['check', 'rules', join(DEPLOY, 'timegif.rules.yml')], { encoding: 'utf8' });
  assert.is(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, 'SUCCESS: 8 rules found');
  const t = spawnSync('promtool', ['test', 'rules', join(DEPLOY, 'timegif.rules.test.yml')], { encoding: 'utf8' });
  assert.is(t.status, 0, t.stdout + t.stderr);
  assert.match(t.stdout, 'SUCCESS');
});

test('deploy :: the alert rules name metrics /metrics exports and reject reasons the code counts', async () => {
  const rules = readFileSync(join(DEPLOY, 'timegif.rules.yml'), 'utf8');
  const { start } = await import('../lib/run/start.js');
  const { parseArgs } = await import('../lib/core/config.js');
  const inst = await start(parseArgs(['--listen', '127.0.0.1:0']).config, { manualClock: true });
  const text = inst.app.metricsText();
  await inst.drain();
  const names = new Set([...rules.matchAll(/\b(timegif_[a-z_]+?)(?:_bucket)?\b/g)].map((m) => m[1]!));
  assert.ok(names.size >= 6, [...names].join(' '));
  for (const n of names) assert.ok(text.includes(`# TYPE ${n} `), `${n} is exported`);
  const reasons = new Set([...rules.matchAll(/reason=~?"([^"]+)"/g)].flatMap((m) => m[1]!.split('|')));
  const source = ['run/app.ts', 'http/tls.ts', 'guard/admission.ts'].map((f) => readFileSync(join(ROOT, 'lib', f), 'utf8')).join('\n');
  for (const r of reasons) assert.ok(source.includes(`'${r}'`), `reject reason ${r} is counted somewhere`);
});

test('deploy :: units are plain text without tabs or trailing spaces', () => {
  for (const name of [...UNITS, 'sysctl.d/60-timegif.conf']) {
    const text = readFileSync(join(DEPLOY, name), 'utf8');
    assert.not.match(text, /[ \t]+\n/, `${name}: trailing whitespace`);
    assert.ok(text.endsWith('\n'), `${name}: ends with a newline`);
  }
});

test.run();
