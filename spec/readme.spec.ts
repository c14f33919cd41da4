// The README's option list is the one --help prints: the documentation cannot drift from the code.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { helpText } from '../lib/core/config.js';

test('readme :: lists every option exactly as --help does', () => {
  const readme = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');
  const optionLines = helpText().split('\n').filter((l) => l.startsWith('  --') && !l.startsWith('  --help'));
  assert.ok(optionLines.length >= 19);
  for (const line of optionLines) assert.ok(readme.includes(line + '\n'), `README lacks: ${line.trim()}`);
  assert.ok(readme.includes('make run') && readme.includes('make test'));
});

test.run();
