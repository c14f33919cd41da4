// Options: unknown keys and bad values are ConfigErrors naming the key (command line and config file), the
// command line wins over the file, `--help` lists every option, and the binary exits 2 with the message.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { OPTIONS, helpText, loadConfigFile, parseArgs } from '../lib/core/config.js';
import { ConfigError } from '../lib/core/errors.js';
import { SERVER_JS, tmpDir } from './procs.js';

const dir = tmpDir('config');
let n = 0;
function file(obj: unknown): string {
  const path = join(dir, `c${n++}.json`);
  writeFileSync(path, typeof obj === 'string' ? obj : JSON.stringify(obj));
  return path;
}

/** The ConfigError message parseArgs throws for `argv`. */
function errorOf(argv: string[]): string {
  try {
    parseArgs(argv);
  } catch (err) {
    assert.instance(err, ConfigError);
    return (err as Error).message;
  }
  assert.unreachable(`no error for ${argv.join(' ')}`);
  return '';
}

test('config :: unknown options on the command line and in the file are errors naming them', () => {
  assert.match(errorOf(['--max-viewer', '5']), /unknown option --max-viewer/);
  assert.match(errorOf(['--config', file({ 'max-viewer': 5 })]), /unknown option key "max-viewer"/);
  assert.match(errorOf(['--config', file({ listen: ['127.0.0.1:1'], config: 'x.json' })]), /key "config" is not allowed/);
  assert.match(errorOf(['stray']), /unexpected argument "stray"/);
});

const BAD: [string, unknown, RegExp][] = [
  ['max-viewers', -1, /max-viewers.*whole number/],
  ['max-viewers', 'lots', /max-viewers.*whole number/],
  ['max-viewers', 1.5, /max-viewers.*whole number/],
  ['workers', 0, /workers.*whole number from 1 to 64/],
  ['workers', 65, /workers.*whole number from 1 to 64/],
  ['memory-limit-mb', 1, /memory-limit-mb/],
  ['listen', 'localhost', /listen"?: expected HOST:PORT/],
  ['listen', '127.0.0.1:70000', /listen"?: expected HOST:PORT/],
  ['tls-listen', '[::1]', /tls-listen"?: expected HOST:PORT/],
  ['access-log', '', /access-log"?: expected a non-empty string/],
  ['hosts', [], /hosts"?: expected at least one value/],
];

test('config :: bad values are errors naming the key, from the file and from the command line', () => {
  for (const [key, value, re] of BAD) {
    const inFile = errorOf(['--config', file({ [key]: value })]);
    assert.match(inFile, re, `file ${key}=${JSON.stringify(value)}: ${inFile}`);
    assert.match(inFile, new RegExp(`config key "${key}"`));
    if (typeof value === 'object') continue; // lists on the command line are comma-separated strings
    const onCli = errorOf([`--${key}`, String(value)]);
    assert.match(onCli, re, `--${key} ${String(value)}: ${onCli}`);
    assert.match(onCli, new RegExp(`--${key}`));
  }
  // A bool in the file must be a JSON boolean.
  assert.match(errorOf(['--config', file({ 'require-sni': 'yes' })]), /config key "require-sni": expected true or false/);
  // Whole-file problems name the file.
  const broken = file('{"listen": ');
  assert.match(errorOf(['--config', broken]), new RegExp(`${broken}:\\d+:\\d+: not valid JSON`));
  assert.match(errorOf(['--config', file([1, 2])]), /expected a JSON object/);
  assert.match(errorOf(['--config', join(dir, 'missing.json')]), /missing\.json: ENOENT/);
  assert.match(errorOf(['--tls-listen', '127.0.0.1:0']), /--tls-listen needs --cert and --key/);
  assert.match(errorOf(['--workers']), /--workers: missing value N/);
});

test('config :: the command line wins over the file, key by key', () => {
  const path = file({ 'max-viewers': 100, workers: 3, hosts: ['A.example', 'b.example'], listen: ['127.0.0.1:81'], 'access-log': '/tmp/a.log' });
  const fromFile = parseArgs(['--config', path]).config;
  assert.is(fromFile.maxViewers, 100);
  assert.is(fromFile.workers, 3);
  assert.equal(fromFile.hosts, ['a.example', 'b.example']);
  assert.equal(fromFile.listen, [{ host: '127.0.0.1', port: 81 }]);
  assert.is(fromFile.configFile, path);
  // Order on the command line does not matter; lists from the command line replace the file's.
  for (const argv of [
    ['--config', path, '--max-viewers', '7', '--hosts', 'c.example', '--listen', '127.0.0.1:0'],
    ['--max-viewers=7', '--hosts=c.example', '--listen', '127.0.0.1:0', '--config', path],
  ]) {
    const c = parseArgs(argv).config;
    assert.is(c.maxViewers, 7);
    assert.equal(c.hosts, ['c.example']);
    assert.equal(c.listen, [{ host: '127.0.0.1', port: 0 }]);
    assert.is(c.workers, 3, 'keys not on the command line come from the file');
    assert.is(c.accessLog, '/tmp/a.log');
  }
  // Defaults when neither says anything.
  const bare = parseArgs([]).config;
  assert.equal(bare.listen, [{ host: '127.0.0.1', port: 8080 }]);
  assert.is(bare.workers, 1);
  assert.is(loadConfigFile(file({})).workers, 1);
});

test('config :: --help lists every option with its argument', () => {
  const text = helpText();
  for (const [name, def] of Object.entries(OPTIONS)) {
    const line = text.split('\n').find((l) => l.startsWith(`  --${name} `) || l === `  --${name}` || l.startsWith(`  --${name}  `));
    assert.ok(line !== undefined, `--${name} listed`);
    if ('arg' in def) assert.ok(line!.includes(`--${name} ${def.arg}`), `--${name} shows ${def.arg}`);
    assert.ok(line!.includes(def.help.slice(0, 20)), `--${name} has its help`);
  }
  assert.match(text, /^  --help /m);
  const r = spawnSync(process.execPath, [SERVER_JS, '--help'], { encoding: 'utf8' });
  assert.is(r.status, 0);
  assert.is(r.stdout, text, 'the binary prints the same text');
});

test('config :: the binary exits 2 with the message for a bad option or file', () => {
  const r = spawnSync(process.execPath, [SERVER_JS, 'serve', '--workers', '0'], { encoding: 'utf8' });
  assert.is(r.status, 2);
  assert.match(r.stderr, /^timegif: --workers: expected a whole number from 1 to 64, got "0"\n$/);
  const f = spawnSync(process.execPath, [SERVER_JS, 'serve', '--config', file({ 'max-viewer': 5 })], { encoding: 'utf8' });
  assert.is(f.status, 2);
  assert.match(f.stderr, /unknown option key "max-viewer"/);
});

test.run();
