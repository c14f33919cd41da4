// What an operator walk-through found, each on the wire or at the command line: trusted health checks and scrapes
// whatever Host; /metrics passes promtool; a taken port is one line; --version, render --help, `check`; an
// unwritable access log stops the start; list errors name the option; --require-sni refuses in the ClientHello.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnectRaw } from 'node:tls';
import { RawClient, drainAll, startTest } from './wire.js';
import { h2Session, makeCert, waitFor, type CertFiles } from './helpers.js';
import { ROOT, SERVER_JS } from './procs.js';
import { commandMissing, specIf } from './tools.js';

const node = (args: string[]) => spawnSync(process.execPath, [SERVER_JS, ...args], { encoding: 'utf8', timeout: 20_000 });
const tmp = mkdtempSync(join(tmpdir(), 'timegif-operator-'));

test('operator :: /healthz and /metrics answer trusted callers whatever Host they send; others get the unknown-host answer', async () => {
  const { port } = await startTest(['--hosts', 'time.example.org', '--metrics-token', 't0ken']);
  const ask = async (path: string, host: string, src = '127.0.0.1', auth = ''): Promise<number> => {
    const c = await RawClient.open(port, src);
    c.send(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n${auth}\r\n`);
    await c.untilClosed();
    return c.status;
  };
  assert.is(await ask('/healthz', 'localhost'), 200, 'curl http://localhost/healthz from the machine');
  assert.is(await ask('/metrics', '127.0.0.1:9090'), 200, 'a local Prometheus scrape');
  assert.is(await ask('/', 'localhost'), 421, 'the page still needs a configured Host');
  await drainAll();
});

specIf(commandMissing('promtool', ['--version'], 'apt-get install prometheus'), 'operator :: promtool check metrics accepts /metrics', async () => {
  const { inst } = await startTest([]);
  const text = inst.app.metricsText();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.is(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
  assert.is(r.stdout.trim() + r.stderr.trim(), '', 'not even a lint warning');
  assert.not.match(text, 'timegif_rss_bytes', 'no duplicate of resident_memory_bytes');
  await drainAll();
});

test('operator :: a taken port is one line naming the address, exit 1', async () => {
  const { port } = await startTest([]);
  const r = node(['--listen', `127.0.0.1:${port}`]);
  assert.is(r.status, 1);
  assert.is(r.stderr.trim(), `timegif: cannot listen on 127.0.0.1:${port}: address already in use`);
  await drainAll();
});

test('operator :: --version, render --help (exit 0, every flag), check', () => {
  const v = node(['--version']);
  assert.is(v.status, 0);
  assert.match(v.stdout, /^timegif \d+\.\d+\.\d+ \(Node v\d+/);
  const h = node(['render', '--help']);
  assert.is(h.status, 0);
  for (const flag of ['--from', '--seconds', '--tz', '--h12', '--scale', '--theme', '--loop', '--out']) assert.match(h.stdout, flag);
  const good = join(tmp, 'good.json');
  writeFileSync(join(tmp, 'block.txt'), '192.0.2.0/24\n');
  writeFileSync(good, JSON.stringify({ listen: ['127.0.0.1:0'], blocklist: [join(tmp, 'block.txt')] }));
  const ok = node(['check', '--config', good]);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /^ok: .*1 blocked ranges/);
  // The config the old `--help` check passed, that then failed at start: a bad CIDR, a missing certificate.
  writeFileSync(join(tmp, 'bad.txt'), '192.0.2.0/24\n10.0.0.0/99\n');
  writeFileSync(join(tmp, 'bad.json'), JSON.stringify({ blocklist: [join(tmp, 'bad.txt')] }));
  const bad = node(['check', '--config', join(tmp, 'bad.json')]);
  assert.is(bad.status, 2);
  assert.match(bad.stderr, `timegif: blocklist ${join(tmp, 'bad.txt')}:2: bad IPv4 prefix length`);
  writeFileSync(join(tmp, 'nocert.json'), JSON.stringify({ 'tls-listen': ['127.0.0.1:0'], cert: join(tmp, 'none.pem'), key: join(tmp, 'none.key') }));
  const nocert = node(['check', '--config', join(tmp, 'nocert.json')]);
  assert.is(nocert.status, 2);
  assert.match(nocert.stderr, 'none.pem');
});

test('operator :: --help lists every command; each command has its own --help (exit 0, no side effects)', () => {
  const top = node(['--help']);
  assert.is(top.status, 0);
  for (const cmd of ['timegif [serve]', 'timegif render', 'timegif check', 'timegif nft', '--version', 'COMMAND --help']) assert.match(top.stdout, cmd);
  const want: Record<string, string> = { serve: '--max-viewers', render: '--from', check: '--no-bind', nft: 'nftables' };
  for (const [cmd, text] of Object.entries(want)) {
    const r = node([cmd, '--help']);
    assert.is(r.status, 0, `${cmd} --help: ${r.stderr}`);
    assert.match(r.stdout, text, `${cmd} --help describes ${cmd}`);
    assert.is(r.stderr, '', `${cmd} --help: nothing on stderr`);
  }
  const check = node(['check', '--help', '--access-log', join(tmp, 'help-made-this.log')]);
  assert.not.match(check.stdout, /^ok:/m, 'check --help does not run the check');
});

// A name lookup would ask the machine's resolver (off loopback): it runs in a network namespace of its own, where
// the query cannot leave and getaddrinfo fails as it does for a name that does not exist.
const UNSHARE_MISSING = process.getuid?.() === 0 ? commandMissing('unshare', ['--version'], 'apt-get install util-linux') : 'not root: unshare -n needs root';
specIf(UNSHARE_MISSING, 'operator :: check and serve: a listen host that does not resolve is one line, exit 1', () => {
  for (const cmd of ['check', 'serve']) {
    const r = spawnSync('unshare', ['-n', process.execPath, SERVER_JS, cmd, '--listen', 'no-such-host.invalid:8080'], { encoding: 'utf8', timeout: 20_000 });
    assert.is(r.status, 1, `${cmd}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, `${cmd}: one line, no stack trace: ${r.stderr}`);
    assert.match(r.stderr, /^timegif: cannot listen on no-such-host\.invalid:8080: the host name does not resolve \(E[A-Z_]+\)\n$/);
  }
});

test('operator :: check fails where serve would, one line each: a taken port, an address not on the machine', async () => {
  const { port } = await startTest([]);
  const cases: [string, string][] = [
    [`127.0.0.1:${port}`, `cannot listen on 127.0.0.1:${port}: address already in use`],
    ['192.0.2.1:8080', 'cannot listen on 192.0.2.1:8080: no such address on this machine'],
  ];
  for (const [addr, line] of cases) {
    for (const cmd of [['check'], ['serve']]) {
      const r = node([...cmd, '--listen', addr]);
      assert.is(r.status, 1, `${cmd[0]} --listen ${addr}: ${r.stderr}`);
      assert.is(r.stderr.trim().split('\n').length, 1, `${cmd[0]} --listen ${addr}: one line, no stack trace: ${r.stderr}`);
      assert.match(r.stderr, `timegif: ${line}`);
    }
  }
  const ok = node(['check', '--listen', '127.0.0.1:0', '--listen', '[::1]:0']);
  assert.is(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, '2 listeners (2 bound and released)');
  const nobind = node(['check', '--no-bind', '--listen', `127.0.0.1:${port}`]);
  assert.is(nobind.status, 0, `--no-bind leaves the (taken) port alone: ${nobind.stderr}`);
  await drainAll();
});

test('operator :: check creates no file: the access log is checked, not opened', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timegif-log-'));
  const log = join(dir, 'access.log');
  const r = node(['check', '--listen', '127.0.0.1:0', '--access-log', log]);
  assert.is(r.status, 0, r.stderr);
  assert.not.ok(existsSync(log), 'no access.log left behind');
  const missing = node(['check', '--listen', '127.0.0.1:0', '--access-log', join(dir, 'no', 'such', 'access.log')]);
  assert.is(missing.status, 2);
  assert.match(missing.stderr, `access-log ${join(dir, 'no', 'such', 'access.log')}: cannot open for appending (ENOENT)`);
});

specIf(process.getuid?.() === 0 ? commandMissing('runuser', ['--version'], 'apt-get install util-linux') : 'not root: check --user needs root', 'operator :: check --user NAME sees the files as that user does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'timegif-user-'));
  chmodSync(dir, 0o755);
  // The program itself where that user can read it (the checkout may sit in a directory only root may enter).
  for (const sub of ['dist/server.js', 'dist/lib', 'dist/encoder', 'package.json']) cpSync(join(ROOT, sub), join(dir, 'app', sub), { recursive: true });
  for (const d of ['app', 'app/dist']) chmodSync(join(dir, d), 0o755);
  const node = (args: string[]) => spawnSync(process.execPath, [join(dir, 'app', 'dist', 'server.js'), ...args], { encoding: 'utf8', timeout: 20_000 });
  const list = join(dir, 'blocklist.txt');
  writeFileSync(list, '192.0.2.0/24\n');
  chmodSync(list, 0o600); // root's only
  const asRoot = node(['check', '--no-bind', '--blocklist', list]);
  assert.is(asRoot.status, 0, asRoot.stderr);
  const asNobody = node(['check', '--user', 'nobody', '--no-bind', '--blocklist', list]);
  assert.is(asNobody.status, 2, `nobody cannot read it: ${asNobody.stdout}${asNobody.stderr}`);
  assert.match(asNobody.stderr, `blocklist ${list}: cannot read (EACCES)`);
  chmodSync(list, 0o644);
  const readable = node(['check', '--user', 'nobody', '--listen', '127.0.0.1:0', '--blocklist', list]);
  assert.is(readable.status, 0, readable.stderr);
  assert.match(readable.stdout, 'ok: 1 listeners bound and released');
  const unknown = node(['check', '--user', 'no-such-user-here', '--no-bind']);
  assert.ok(unknown.status !== 0, 'an unknown user fails');
  const notAName = node(['check', '--user', '../../etc', '--no-bind']);
  assert.is(notAName.status, 2);
  assert.match(notAName.stderr, 'check --user: not a user name');
});

test('operator :: config mistakes answered with where and a likely fix: JSON line:column, a misspelt key, redirect-https without TLS', () => {
  const broken = join(tmp, 'broken.json');
  writeFileSync(broken, '{\n  "listen": ["127.0.0.1:0"],\n  "workers": 2,\n}\n');
  const b = node(['check', '--config', broken]);
  assert.is(b.status, 2);
  assert.match(b.stderr, `timegif: ${broken}:4:1: not valid JSON`);
  writeFileSync(broken, '{ "listen": ["127.0.0.1:0"], "workers": tru }');
  assert.match(node(['check', '--config', broken]).stderr, `${broken}:1:41: not valid JSON`);
  const typo = join(tmp, 'typo.json');
  writeFileSync(typo, JSON.stringify({ 'max-viewer': 10 }));
  assert.match(node(['check', '--config', typo]).stderr, 'unknown option key "max-viewer" (did you mean max-viewers?)');
  assert.match(node(['check', '--max-viewer', '10']).stderr, 'unknown option --max-viewer (did you mean --max-viewers?)');
  const redirect = node(['check', '--hosts', 'time.example', '--redirect-https']);
  assert.is(redirect.status, 2);
  assert.match(redirect.stderr, '--redirect-https needs a TLS listener with --cert and --key');
});

test('operator :: render takes --name value for every option, bare flags included', () => {
  const out = join(tmp, 'r.gif');
  for (const args of [['--h12', '1'], ['--h12', 'true'], ['--h12', '0'], ['--h12=0'], ['--h12'], ['--scale', '2', '--h12'], ['--theme', 'light', '--tz', 'Asia/Kolkata']]) {
    const r = node(['render', '--from', '2026-12-31T23:59:58Z', '--seconds', '2', ...args, '--out', out]);
    assert.is(r.status, 0, `render ${args.join(' ')}: ${r.stderr}`);
  }
  const width = (args: string[]): number => {
    node(['render', '--from', '2026-12-31T23:59:58Z', '--seconds', '1', ...args, '--out', out]);
    return readFileSync(out).readUInt16LE(6);
  };
  assert.ok(width(['--h12', '1']) > width(['--h12', '0']), '--h12 1 is the 12-hour face, --h12 0 the 24-hour one');
  assert.is(width(['--h12', 'true']), width(['--h12']));
  const typo = node(['render', '--from', '2026-12-31T23:59:58Z', '--seconds', '1', '--scael', '2', '--out', out]);
  assert.is(typo.status, 2);
  assert.match(typo.stderr, '"--scael": unknown argument (did you mean --scale?)');
});

specIf(commandMissing('npm', ['--version'], 'install Node.js with npm'), 'operator :: npm install -g --prefix DIR . puts a working timegif command in DIR/bin', () => {
  const prefix = mkdtempSync(join(tmpdir(), 'timegif-prefix-'));
  const i = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--no-audit', '--no-fund', '--offline', ROOT], { encoding: 'utf8', timeout: 60_000 });
  assert.is(i.status, 0, i.stdout + i.stderr);
  const v = spawnSync(join(prefix, 'bin', 'timegif'), ['--version'], { encoding: 'utf8' });
  assert.is(v.status, 0, v.stderr);
  assert.match(v.stdout, /^timegif \d+\.\d+\.\d+ \(Node v\d+/);
  const h = spawnSync(join(prefix, 'bin', 'timegif'), ['check', '--help'], { encoding: 'utf8' });
  assert.match(h.stdout, 'Usage: timegif check');
});

test('operator :: an unwritable --access-log stops the start, naming it', () => {
  const r = node(['--listen', '127.0.0.1:0', '--access-log', '/proc/no/such/dir/access.log']);
  assert.is(r.status, 2);
  assert.is(r.stderr.trim(), 'timegif: access-log /proc/no/such/dir/access.log: cannot open for appending (ENOENT)');
});

test('operator :: a config file error names the file and the key as written there', () => {
  const f = join(tmp, 'neg.json');
  writeFileSync(f, JSON.stringify({ 'max-viewers': -3 }));
  const r = node(['check', '--config', f]);
  assert.is(r.status, 2);
  assert.is(r.stderr.trim(), `timegif: ${f}: config key "max-viewers": expected a whole number from 0 to 10000000, got -3`);
});

specIf(commandMissing('openssl', ['version']), 'operator :: an HTTP/2 stream’s access-log line counts every byte sent, the trailer included', async () => {
  cert ??= makeCert(['time.example']);
  const log = join(tmp, 'h2.log');
  const { inst } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key, '--access-log', log]);
  const port = (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;
  const session = await h2Session(port);
  const st = session.request({ ':path': '/time.gif', ':authority': 'localhost' });
  let got = 0;
  st.on('data', (d: Buffer) => (got += d.length));
  await waitFor(() => got > 600, 'the intro and a frame');
  const ended = new Promise((r) => st.once('end', r));
  await inst.drain();
  await ended;
  session.destroy();
  await drainAll();
  const line = readFileSync(log, 'utf8').trim().split('\n').find((l) => l.includes('HTTP/2.0'))!;
  const body = Number(/" 200 (\d+) /.exec(line)![1]);
  assert.is(body, got, `logged ${body} B, received ${got} B (${line})`);
});

specIf(commandMissing('openssl', ['version']), 'operator :: --redirect-https keeps the TLS listener’s port', async () => {
  cert ??= makeCert(['time.example']);
  const { inst, port } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key, '--hosts', 'time.example', '--redirect-https']);
  // Port 0 asks the OS for one: the redirect names the configured port, so configure a fixed one in this check.
  inst.app.cfg.tlsListen[0]!.port = 8443;
  const c = await RawClient.open(port);
  c.send('GET /?tz=UTC HTTP/1.1\r\nHost: time.example\r\nConnection: close\r\n\r\n');
  await c.untilClosed();
  assert.is(c.status, 308);
  assert.match(c.text, 'Location: https://time.example:8443/?tz=UTC\r\n');
  await drainAll();
});

test('operator :: a missing allowlist is named as the allowlist', () => {
  const r = node(['--listen', '127.0.0.1:0', '--allowlist', join(tmp, 'absent.txt')]);
  assert.is(r.status, 2);
  assert.match(r.stderr, `timegif: allowlist ${join(tmp, 'absent.txt')}: cannot read (ENOENT)`);
});

let cert: CertFiles | null = null;
specIf(commandMissing('openssl', ['version']), 'operator :: --require-sni refuses a nameless ClientHello before any certificate is sent', async () => {
  cert ??= makeCert(['time.example']);
  const { inst } = await startTest(['--tls-listen', '127.0.0.1:0', '--cert', cert.cert, '--key', cert.key, '--hosts', 'time.example', '--require-sni']);
  const port = (inst.listeners.find((l) => l.tls)!.server.address() as { port: number }).port;
  const s = tlsConnectRaw({ host: '127.0.0.1', port, rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] }); // an IP: no SNI
  let sawCert = false;
  s.on('secureConnect', () => (sawCert = true));
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => s.once('error', resolve));
  assert.match(String(err.code ?? err.message), /ALERT|NO_APPLICATION_PROTOCOL|ECONNRESET/);
  assert.not.ok(sawCert, 'no handshake completed');
  assert.is(s.getPeerCertificate()?.subject, undefined, 'the certificate never reached the client');
  assert.is(inst.app.metrics.rejects.get('no-sni'), 1);
  // A named hello still works.
  const ok = tlsConnectRaw({ host: '127.0.0.1', port, servername: 'time.example', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
  await new Promise<void>((resolve, reject) => (ok.once('secureConnect', () => resolve()), ok.once('error', reject)));
  assert.is(ok.alpnProtocol, 'http/1.1');
  ok.destroy();
  await drainAll();
});

specIf(commandMissing('goaccess', ['--version'], 'apt-get install goaccess'), 'operator :: GoAccess reads the access log as the guide says, with every /time.gif request in one row', async () => {
  const log = join(tmp, 'access.log');
  const { port } = await startTest(['--access-log', log]);
  for (const [target, version] of [['/time.gif', '1.1'], ['/time.gif?tz=Asia/Tokyo', '1.1'], ['/time.gif?tz=Europe/Berlin&h12=1', '1.1'], ['/time.gif', '1.0'], ['/', '1.1']]) {
    const c = await RawClient.open(port);
    c.send(`GET ${target} HTTP/${version}\r\nHost: localhost\r\n\r\n`);
    await c.until(() => c.headEnd > 0, 3000, 'a head');
    c.close();
  }
  await drainAll();
  const guide = readFileSync(new URL('../../deploy/README.md', import.meta.url), 'utf8');
  const flags = ["--log-format='%h %^[%d:%t %^] \"%r\" %s %b \"%R\" \"%u\" %^ %T'", '--date-format=%d/%b/%Y --time-format=%T -q --all-static-files --http-protocol=no'];
  for (const f of flags) assert.ok(guide.includes(f), `the guide's invocation has ${f}`);
  const out = join(tmp, 'report.json');
  const r = spawnSync('goaccess', [log, '--log-format=%h %^[%d:%t %^] "%r" %s %b "%R" "%u" %^ %T', '--date-format=%d/%b/%Y', '--time-format=%T', '-q', '--all-static-files', '--http-protocol=no', '-o', out], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const report = JSON.parse(readFileSync(out, 'utf8')) as Record<string, { data: { data: string; hits: { count: number } }[] }>;
  const rows = (panel: string) => (report[panel]?.data ?? []).map((x) => [x.data, x.hits.count]);
  assert.equal(rows('static_requests'), [['/time.gif', 4]], 'the four streams in one row, HTTP/1.0 and 1.1 alike');
  assert.equal(rows('requests'), [['/', 1]]);
  assert.is((report.general as unknown as { valid_requests: number }).valid_requests, 5, 'every line parsed');
});

test.after(() => cert?.remove());
test.run();
