// The picture's options, one table: the URL's query parser (routes.ts), the render command's flags (render.ts),
// their --help and README's option table all read FACE_OPTIONS, so a name, a value or a default is written once.
// On the URL an option is `name=value`; in render it is `--name value` or `--name=value`. A bare flag (`h12`,
// `--h12`) means its `bare` value.

import { canonicalTimeZone, DEFAULT_FACE, MAX_SCALE, MIN_SCALE, THEMES, type FaceOptions, type Theme } from './face.js';

export interface FaceOption {
  /** URL parameter and render flag (`--name`). */
  readonly name: 'tz' | 'h12' | 'scale' | 'theme';
  /** Other spellings of the render flag, still accepted. */
  readonly aliases: readonly string[];
  /** The values, as documented. */
  readonly values: string;
  /** The default, as documented. */
  readonly default: string;
  readonly help: string;
  /** What a bare `name` / `--name` means; null: the option needs a value. */
  readonly bare: string | null;
  /** Set `v` (already URL-decoded) on `face`; false when the value is not one of `values`. */
  set(face: FaceOptions, v: string): boolean;
}

const SCALE_VALUE = /^[1-9]$/;

export const FACE_OPTIONS: readonly FaceOption[] = [
  {
    name: 'tz',
    aliases: [],
    values: 'an IANA time zone: Europe/Berlin, America/New_York, Asia/Kolkata, UTC',
    default: DEFAULT_FACE.tz,
    help: 'the zone the clock shows; its offset is drawn beside the time (UTC+05:30)',
    bare: null,
    set(face, v) {
      const tz = canonicalTimeZone(v);
      if (tz === null) return false;
      face.tz = tz;
      return true;
    },
  },
  {
    name: 'h12',
    aliases: ['--hour12'],
    values: '1, true (12-hour clock with AM/PM) or 0, false',
    default: '0',
    help: '12-hour clock with AM/PM; wider by the marker',
    bare: '1',
    set(face, v) {
      if (v === '1' || v === 'true') face.hour12 = true;
      else if (v === '0' || v === 'false') face.hour12 = false;
      else return false;
      return true;
    },
  },
  {
    name: 'scale',
    aliases: [],
    values: `${MIN_SCALE}..${MAX_SCALE}`,
    default: String(DEFAULT_FACE.scale),
    help: 'screen pixels per font pixel; the picture grows in proportion',
    bare: null,
    set(face, v) {
      const n = SCALE_VALUE.test(v) ? Number(v) : 0;
      if (n < MIN_SCALE || n > MAX_SCALE) return false;
      face.scale = n;
      return true;
    },
  },
  {
    name: 'theme',
    aliases: [],
    values: THEMES.join(', '),
    default: DEFAULT_FACE.theme!,
    help: 'dark: light digits on a dark ground; light: dark digits on a light ground',
    bare: null,
    set(face, v) {
      if (!(THEMES as readonly string[]).includes(v)) return false;
      face.theme = v as Theme;
      return true;
    },
  },
];

const BY_NAME = new Map<string, FaceOption>(FACE_OPTIONS.map((o) => [o.name, o]));

/** The option a URL parameter names, or undefined. */
export function faceOption(name: string): FaceOption | undefined {
  return BY_NAME.get(name);
}

/** The option a render flag (`--scale`, `--hour12`) names, or undefined. */
export function faceFlag(flag: string): FaceOption | undefined {
  if (!flag.startsWith('--')) return undefined;
  const o = BY_NAME.get(flag.slice(2));
  return o ?? FACE_OPTIONS.find((f) => f.aliases.includes(flag));
}

/** A fresh, mutable copy of the default face. */
export function defaultFace(): FaceOptions {
  return { ...DEFAULT_FACE };
}

/** The same face as DEFAULT_FACE? (The default face is shared, so routing it allocates nothing.) */
export function isDefaultFace(f: FaceOptions): boolean {
  return f.tz === DEFAULT_FACE.tz && f.hour12 === DEFAULT_FACE.hour12 && f.scale === DEFAULT_FACE.scale && (f.theme ?? 'dark') === DEFAULT_FACE.theme;
}

/** `--help` lines for the render command, one per option. */
export function faceFlagsHelp(): string {
  return FACE_OPTIONS.map((o) => {
    const flag = o.bare === null ? `--${o.name} ${o.name === 'tz' ? 'ZONE' : o.name.toUpperCase()}` : `--${o.name}`;
    return `  ${flag.padEnd(18)} ${o.help} (${o.values}; default ${o.default})\n`;
  }).join('');
}

/** README's option table (Markdown), checked against README by a spec. */
export function faceOptionsMarkdown(): string {
  const rows = FACE_OPTIONS.map((o) => `| \`${o.name}\` | \`--${o.name}\` | ${o.values} | \`${o.default}\` | ${o.help} |`);
  return ['| URL | render | values | default | what it does |', '|---|---|---|---|---|', ...rows].join('\n');
}
