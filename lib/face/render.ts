// The finite mode: N seconds of the clock as one complete GIF, for places that cannot hold a stream (image
// proxies, e-mail, READMEs). Same frames as the stream: a keyframe of the first second, then one delta per
// second, but each with the real one-second delay, and no NETSCAPE loop extension, so a viewer that reaches
// the end stays on the last second instead of jumping back in time.
//
//   timegif render --from ISO-8601 --seconds N [--tz ZONE] [--h12] [--scale N] [--theme dark|light] [--loop[=N]] --out FILE|-

import { writeFile } from 'node:fs/promises';
import type { FaceOptions } from './face.js';
import { FaceRing } from './ring.js';
import { defaultFace, FACE_OPTIONS, faceFlag, faceFlagsHelp } from './options.js';
import { didYouMean } from '../core/errors.js';

/** Longest finite GIF: one day of frames (a few MB). */
export const MAX_RENDER_SECONDS = 86400;

/**
 * The GIF of `seconds` seconds starting at `fromUnixSeconds` (floored), one frame per second. `loop`: write the
 * NETSCAPE2.0 extension (0 = repeat forever, N = N more plays); absent, it plays once and stays on the last second.
 */
export function renderFiniteGif(fromUnixSeconds: number, seconds: number, o: FaceOptions, loop?: number): Uint8Array {
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > MAX_RENDER_SECONDS) {
    throw new RangeError(`render: seconds must be an integer in 1..${MAX_RENDER_SECONDS}, got ${seconds}`);
  }
  const from = Math.floor(fromUnixSeconds);
  if (!Number.isFinite(from)) throw new RangeError(`render: not an instant: ${fromUnixSeconds}`);
  // The same assembly as the server's ?seconds=N, from a ring of its own: byte for byte what the URL gets.
  return new FaceRing(o).finite(from, seconds, loop);
}

// ---- the command ------------------------------------------------------------------------------------------

const USAGE = 'usage: timegif render --from ISO-8601 --seconds N [--tz ZONE] [--h12] [--scale N] [--theme dark|light] [--loop[=N]] --out FILE|-';

const VALUE_FLAGS = ['--from', '--seconds', '--out'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];
/** Most repeats `--loop=N` may ask for (the field is 16 bits). */
const MAX_LOOP = 65535;

class ArgError extends Error {}

// 2026-12-31T23:58:55Z, 2026-12-31T23:58:55.250+05:30, 2026-12-31T23:58+0530
const ISO_INSTANT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,]\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** Unix seconds of an ISO-8601 instant with a zone designator (Z or an offset); null if it is not one. */
export function parseInstant(s: string): number | null {
  const m = ISO_INSTANT.exec(s);
  if (m === null) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const offH = m[7] !== undefined ? 0 : Number(m[9]);
  const offM = m[7] !== undefined ? 0 : Number(m[10]);
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 || offH > 23 || offM > 59) return null;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  if (date.getUTCDate() !== day) return null; // 2026-02-30 and the like
  date.setUTCHours(hour, minute, second, 0);
  const offset = (m[8] === '-' ? -1 : 1) * (offH * 60 + offM) * 60;
  return date.getTime() / 1000 - offset;
}

function parseIntIn(flag: string, v: string, min: number, max: number): number {
  const n = /^\d{1,6}$/.test(v) ? Number(v) : NaN;
  if (!(n >= min && n <= max)) throw new ArgError(`${flag}: must be an integer in ${min}..${max}, got ${JSON.stringify(v)}`);
  return n;
}

interface RenderArgs {
  from: number;
  seconds: number;
  face: FaceOptions;
  loop: number | undefined;
  out: string;
}

function parseRenderArgs(argv: string[]): RenderArgs {
  const values = new Map<ValueFlag, string>();
  const face = defaultFace();
  const seen = new Set<string>();
  let loop: number | undefined;
  const once = (flag: string): void => {
    if (seen.has(flag)) throw new ArgError(`${flag}: given more than once`);
    seen.add(flag);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const eq = arg.indexOf('=');
    const name = eq > 0 && arg.startsWith('--') ? arg.slice(0, eq) : arg;
    const inline = eq > 0 && arg.startsWith('--') ? arg.slice(eq + 1) : null;
    const next = (flag: string): string => {
      if (inline !== null) return inline;
      const v = argv[++i];
      if (v === undefined || (v.startsWith('--') && v.length > 2)) throw new ArgError(`${flag}: needs a value`);
      return v;
    };
    if (name === '--loop') {
      once(name);
      loop = inline === null ? 0 : parseIntIn('--loop', inline, 1, MAX_LOOP);
      continue;
    }
    const opt = faceFlag(name);
    if (opt !== undefined) {
      const flag = `--${opt.name}`;
      once(flag);
      // A flag with a bare meaning (--h12) takes the next argument when it is one of its values (--h12 0).
      let v: string;
      const peek = argv[i + 1];
      if (inline !== null || opt.bare === null) v = next(flag);
      else if (peek !== undefined && !peek.startsWith('--') && opt.set(defaultFace(), peek)) v = argv[++i]!;
      else v = opt.bare;
      if (!opt.set(face, v)) throw new ArgError(`${flag}: use ${opt.values}, got ${JSON.stringify(v.slice(0, 80))}`);
      continue;
    }
    if (!(VALUE_FLAGS as readonly string[]).includes(name)) {
      const known = [...VALUE_FLAGS, '--loop', ...FACE_OPTIONS.map((o) => `--${o.name}`)].map((f) => f.slice(2));
      const hint = name.startsWith('--') ? didYouMean(name.slice(2), known) : '';
      throw new ArgError(`${JSON.stringify(arg.slice(0, 80))}: unknown argument${hint}`);
    }
    const flag = name as ValueFlag;
    once(flag);
    values.set(flag, next(flag));
  }
  for (const flag of ['--from', '--seconds', '--out'] as const) {
    if (!values.has(flag)) throw new ArgError(`${flag}: missing`);
  }
  const fromText = values.get('--from')!;
  const from = parseInstant(fromText);
  if (from === null) {
    throw new ArgError(`--from: not an ISO-8601 instant with a zone (like 2026-12-31T23:58:55Z): ${JSON.stringify(fromText.slice(0, 80))}`);
  }
  const seconds = parseIntIn('--seconds', values.get('--seconds')!, 1, MAX_RENDER_SECONDS);
  const out = values.get('--out')!;
  if (out === '') throw new ArgError('--out: needs a file name or - for stdout');
  return { from, seconds, face, loop, out };
}

function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    process.stdout.write(bytes, (err) => (err ? reject(err) : resolve()));
  });
}

/** `timegif render ...` (argv after 'render'). Exit code: 0 written, 2 bad arguments, 1 could not write. */
const RENDER_HELP = `${USAGE}

Writes a finite GIF of N seconds of the clock (a keyframe, then one delta per second, 1 s delays). It plays once
and stays on its last second unless --loop is given.
  --from ISO-8601    first second, with a zone: 2026-12-31T23:59:50Z or 2026-12-31T23:59:50+05:30
  --seconds N        frames, 1..${MAX_RENDER_SECONDS}
${faceFlagsHelp()}  --loop[=N]         repeat forever, or N more times (1..${MAX_LOOP}); the clock jumps back at each repeat
  --out FILE|-       where to write (- for stdout)
  --help             this text
`;

export async function renderCommand(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(RENDER_HELP);
    return 0;
  }
  let args: RenderArgs;
  try {
    args = parseRenderArgs(argv);
  } catch (err) {
    if (!(err instanceof ArgError)) throw err;
    process.stderr.write(`timegif render: ${err.message}\n${USAGE}\n`);
    return 2;
  }
  const gif = renderFiniteGif(args.from, args.seconds, args.face, args.loop);
  try {
    if (args.out === '-') await writeStdout(gif);
    else await writeFile(args.out, gif);
  } catch (err) {
    process.stderr.write(`timegif render: --out: cannot write ${JSON.stringify(args.out)}: ${(err as Error).message}\n`);
    return 1;
  }
  return 0;
}
