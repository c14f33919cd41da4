// Error types with stable codes. Client faults are not errors here: they are close reasons (see http1-conn.ts).

/** A bad option, config key or input file. The message names the key or file:line; the process exits 2 at start. */
export class ConfigError extends Error {
  readonly code = 'ERR_TIMEGIF_CONFIG';
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Edit distance (insert, delete, replace one character), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

/** ` (did you mean --max-viewers?)` for a name close to one in `known` (a typo, a missing or extra letter or s), else ''. */
export function didYouMean(name: string, known: readonly string[], prefix = '--'): string {
  let best = '';
  let bestD = Infinity;
  for (const k of known) {
    const d = distance(name.toLowerCase(), k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return bestD <= Math.max(2, Math.floor(name.length / 4)) ? ` (did you mean ${prefix}${best}?)` : '';
}
