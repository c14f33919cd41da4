// `timegif nft`: the script itself (checked by nft -c, the real parser), and in a private network namespace
// (unshare -n, as root) what the kernel then does: blocked sources get no TCP connection and cost the server
// nothing, allowed ones stream, a reload takes effect, a malformed list changes nothing.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CidrSet } from '../lib/guard/cidr.js';
import { nftScript } from '../lib/guard/nft.js';
import { commandMissing, specIf } from './tools.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/netns-nft.js', import.meta.url));
const set = (text: string): CidrSet => CidrSet.fromText([{ source: 'spec', text }]).set;

test('nft :: elements are the merged ranges; IPv4-mapped ranges land in the IPv4 set; allowlist rules come first', () => {
  const s = nftScript({ blocklist: set('10.0.0.0/9\n10.128.0.0/9\n::ffff:192.0.2.0/120\n2001:db8::/32\n198.51.100.7\n'), allowlist: set('10.9.9.0/24'), ports: [80, 443] });
  assert.match(s, '10.0.0.0-10.255.255.255, 192.0.2.0-192.0.2.255, 198.51.100.7\n', 'adjacent ranges merged, the mapped one in IPv4');
  assert.match(s, '2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff');
  assert.match(s, 'type filter hook prerouting priority raw; policy accept;');
  const rules = s.split('\n').filter((l) => l.includes('tcp dport'));
  assert.equal(rules.map((l) => l.trim().split(' ').slice(-2).join(' ')), ['@allow4 accept', '@allow6 accept', 'counter drop', 'counter drop']);
  assert.ok(rules.every((l) => l.includes('tcp dport { 80, 443 }')), 'the server ports only');
  assert.ok(s.indexOf('table inet timegif\ndelete table inet timegif\n') >= 0, 'create-then-delete: idempotent in one transaction');
});

test('nft :: no ports is an error; empty lists make empty sets', () => {
  assert.throws(() => nftScript({ blocklist: set(''), allowlist: set(''), ports: [] }), /no ports/);
  const s = nftScript({ blocklist: set(''), allowlist: set(''), ports: [8080] });
  assert.not.match(s, 'elements');
  assert.match(s, 'tcp dport 8080 ip saddr @block4 counter drop');
});

specIf(commandMissing('nft', ['--version'], 'apt-get install nftables'), 'nft :: nft -c accepts the script for thousands of mixed ranges', () => {
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) lines.push(`${1 + (i % 200)}.${(i * 7) & 255}.${(i * 13) & 255}.0/24`, `2a0${i % 10}:${i.toString(16)}::/48`);
  const dir = mkdtempSync(join(tmpdir(), 'timegif-nft-'));
  const path = join(dir, 't.nft');
  writeFileSync(path, nftScript({ blocklist: set(lines.join('\n')), allowlist: set('127.0.0.1'), ports: [80, 443] }));
  const r = spawnSync('nft', ['-c', '-f', path], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
});

function netnsMissing(): string | null {
  const nft = commandMissing('nft', ['--version'], 'apt-get install nftables');
  if (nft !== null) return nft;
  const r = spawnSync('unshare', ['-n', 'true']);
  return r.status === 0 ? null : 'unshare -n failed (needs root: CI runs as root)';
}

specIf(netnsMissing(), 'nft :: in a private network namespace: 50,000 ranges loaded; blocked sources never connect and cost nothing; reload; a bad list changes nothing', () => {
  const out = execFileSync('unshare', ['-n', process.execPath, FIXTURE], { encoding: 'utf8', timeout: 120_000, maxBuffer: 1 << 24 });
  const r = JSON.parse(out.trim().split('\n').at(-1)!) as Record<string, any>;
  assert.is(r.genStatus, 0);
  assert.ok(r.idempotent, 'applying the same script twice leaves the same table');
  assert.is(r.blocked.result, 'timeout', 'a blocked source gets no TCP connection at all');
  assert.is(r.mapped.result, 'timeout', 'an IPv4-mapped rule drops the IPv4 source');
  assert.is(r.acceptedForBlocked, 0, 'the server saw nothing of them');
  assert.is(r.allowed.result, 'connected');
  assert.ok(r.allowed.bytes > 300, `an allowed source streams (${r.allowed.bytes} B)`);
  assert.ok(Number(r.counter) >= 2, `the drop rule counted the SYNs (${r.counter})`);
  assert.is(r.afterReloadOld.result, 'connected', 'after the reload 127.77/16 reaches the server (whose own list still refuses it)');
  assert.is(r.afterReloadOld.bytes, 0, 'the in-process list still drops it without a byte');
  assert.is(r.afterReloadNew.result, 'timeout', 'and 127.88/16 is dropped in the kernel');
  assert.is(r.badStatus, 2);
  assert.match(r.badStderr, /bad\.txt:2: bad IPv4 prefix length/);
  assert.is(r.badStdout, 0, 'nothing printed for nft to apply');
  assert.ok(r.unchangedAfterBad, 'the kernel table is unchanged');
  console.log(`  nft -f: 50,000 ranges ${r.applyMs50k.toFixed(0)} ms, again ${r.applyAgainMs.toFixed(0)} ms, 5,000 ranges ${r.applyMs5k.toFixed(0)} ms`);
});

test.run();
