// Specs that need a tool this machine may lack (a browser, a decoder, openssl, nft, haproxy): on a developer's
// machine they are reported as skipped (uvu counts them apart from passes) with the install hint; with CI=true a
// missing tool is a failing spec, so a CI run can never pass without having run them.

import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { test } from 'uvu';

export const IN_CI = process.env.CI === 'true';

/** Null when `cmd` runs (`cmd args…` exits 0), else why not. */
export function commandMissing(cmd: string, args: string[] = ['--version'], hint = `apt-get install ${cmd}`): string | null {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 15_000 });
    return null;
  } catch {
    return `${cmd} not runnable (${hint})`;
  }
}

/** Null when every path exists, else which one is missing. */
export function filesMissing(paths: string[], hint: string): string | null {
  const gone = paths.filter((p) => !existsSync(p));
  return gone.length === 0 ? null : `${gone.join(', ')} not found (${hint})`;
}

/**
 * Register `name` as a spec when `missing` is null; otherwise as a skip, or as a failure under CI. Returns
 * whether the spec body was registered (so suites can skip their before/after hooks).
 */
export function specIf(missing: string | null, name: string, body: () => void | Promise<void>, t = test): boolean {
  if (missing === null) {
    t(name, body);
    return true;
  }
  if (IN_CI) {
    t(name, () => {
      throw new Error(`${missing}: with CI=true a skipped spec is a failure`);
    });
  } else {
    console.log(`  SKIP ${name}: ${missing}`);
    t.skip(name, body);
  }
  return false;
}

/** Inside a spec that checks with several tools: false (and a note) when this one is missing; throws under CI. */
export function toolPresent(missing: string | null, what: string): boolean {
  if (missing === null) return true;
  if (IN_CI) throw new Error(`${what}: ${missing}: with CI=true a skipped check is a failure`);
  console.log(`  SKIP part of a spec, ${what}: ${missing}`);
  return false;
}

export interface TestLike {
  (name: string, body: () => void | Promise<void>): void;
  before: typeof test.before;
  after: typeof test.after;
  run: typeof test.run;
}

/** uvu's `test` for a file whose every spec needs one tool: each is registered through specIf. */
export function testNeeding(missing: string | null): TestLike {
  const t = ((name: string, body: () => void | Promise<void>) => void specIf(missing, name, body)) as TestLike;
  t.before = test.before;
  t.after = test.after;
  t.run = test.run;
  return t;
}

/** Null when openssl runs (the specs make throwaway certificates with it). */
export const OPENSSL_MISSING = commandMissing('openssl', ['version']);
