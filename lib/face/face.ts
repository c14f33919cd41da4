// The clock face: (instant, options) -> palette indices, a pure function, so every worker and every machine
// renders the same bytes for the same second.
//
//   [pad] HH:MM:SS [gap] PM [gap] UTC+05:30 [pad]
//
// The time is drawn at `scale`; the AM/PM marker and the zone label at one step smaller, bottom-aligned with
// the digits, the label in a dimmer colour. Everything whose content changes with the instant (digits, AM/PM,
// the zone's offset) has a fixed width, and every zone is labelled by its current offset ("UTC+00:00",
// "UTC+05:30", which changes with DST), so the canvas size depends on scale and 12/24 h only, never on the
// zone: an embedder can reserve the box.
//
// Four palette entries (minimum LZW code size 2): background, ink, dim ink, and a transparent index that is
// never drawn, reserved for the unchanged pixels of delta frames. The theme picks the three colours.

import { drawGlyph, drawText, glyphFor, GLYPH_HEIGHT, textWidth, type Glyph } from './font.js';

export type Theme = 'dark' | 'light';
export const THEMES: readonly Theme[] = ['dark', 'light'];

export interface FaceOptions {
  /** IANA time zone, 'UTC' by default. */
  tz: string;
  hour12: boolean;
  /** Integer pixel scale of the digits, 1..8. */
  scale: number;
  /** Light digits on a dark ground (the default) or dark digits on a light ground. */
  theme?: Theme;
}

export const DEFAULT_FACE: FaceOptions = Object.freeze({ tz: 'UTC', hour12: false, scale: 3, theme: 'dark' });

export const MIN_SCALE = 1;
export const MAX_SCALE = 8;
/** Longest time zone name accepted; the longest IANA name is 32 characters. */
export const MAX_TZ_LENGTH = 64;

/** Palette indices the face draws with. */
export const FACE_INDEX = { BACKGROUND: 0, INK: 1, DIM: 2 } as const;
const BACKGROUND = FACE_INDEX.BACKGROUND;
const INK = FACE_INDEX.INK;
const DIM = FACE_INDEX.DIM;
export const TRANSPARENT_INDEX = 3;

// prettier-ignore
const PALETTES: Readonly<Record<Theme, Uint8Array>> = {
  dark: Uint8Array.of(
    0x12, 0x16, 0x1c, // background: near-black blue-grey
    0xf2, 0xf0, 0xe6, // ink: warm white
    0x7d, 0x8a, 0x99, // dim ink: the zone label
    0xff, 0x00, 0xff, // transparent (never drawn; magenta so a mistake shows)
  ),
  light: Uint8Array.of(
    0xf6, 0xf4, 0xee, // background: paper
    0x16, 0x19, 0x1e, // ink: near-black
    0x5c, 0x68, 0x75, // dim ink: the zone label (4.9:1 on the paper)
    0xff, 0x00, 0xff,
  ),
};

/** The dark theme's palette (the default face's). */
export const PALETTE: Uint8Array = PALETTES.dark;

/** The palette (RGB triples, four entries) a face is drawn with. */
export function paletteFor(o: FaceOptions): Uint8Array {
  return PALETTES[o.theme ?? 'dark'];
}

// ---- time zones -------------------------------------------------------------------------------------------

const ZONE_NAME = /^[A-Za-z0-9_+\-/]+$/;
/** Input spelling -> canonical name or null. Bounded: cleared when full, so a flood of names cannot grow it. */
const canonicalCache = new Map<string, string | null>();
const CANONICAL_CACHE_MAX = 1024;
/** One formatter per canonical zone (a few hundred at most: the keys are canonical names only). */
const formatters = new Map<string, Intl.DateTimeFormat>();

/** The canonical IANA name of `tz` as Intl knows it ('utc' -> 'UTC', 'US/Eastern' -> 'America/New_York'); null if unknown or malformed. */
export function canonicalTimeZone(tz: string): string | null {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > MAX_TZ_LENGTH || !ZONE_NAME.test(tz)) return null;
  const known = canonicalCache.get(tz);
  if (known !== undefined) return known;
  let name: string | null;
  try {
    name = new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    name = null;
  }
  if (canonicalCache.size >= CANONICAL_CACHE_MAX) canonicalCache.clear();
  canonicalCache.set(tz, name);
  return name;
}

/**
 * The IANA names of the zones that ICU (so V8's Intl, in Node and in Chromium) lists and resolves under an older
 * name kept by CLDR: `Intl.supportedValuesOf('timeZone')` has Asia/Calcutta, not Asia/Kolkata. Both spellings
 * draw the same clock; this is for what people read (the page's zone picker).
 */
export const IANA_ZONE_NAMES: Readonly<Record<string, string>> = Object.freeze({
  'Africa/Asmera': 'Africa/Asmara',
  'America/Buenos_Aires': 'America/Argentina/Buenos_Aires',
  'America/Catamarca': 'America/Argentina/Catamarca',
  'America/Coral_Harbour': 'America/Atikokan',
  'America/Cordoba': 'America/Argentina/Cordoba',
  'America/Godthab': 'America/Nuuk',
  'America/Indianapolis': 'America/Indiana/Indianapolis',
  'America/Jujuy': 'America/Argentina/Jujuy',
  'America/Louisville': 'America/Kentucky/Louisville',
  'America/Mendoza': 'America/Argentina/Mendoza',
  'Asia/Calcutta': 'Asia/Kolkata',
  'Asia/Katmandu': 'Asia/Kathmandu',
  'Asia/Rangoon': 'Asia/Yangon',
  'Asia/Saigon': 'Asia/Ho_Chi_Minh',
  'Atlantic/Faeroe': 'Atlantic/Faroe',
  'Europe/Kiev': 'Europe/Kyiv',
  'Pacific/Enderbury': 'Pacific/Kanton',
  'Pacific/Ponape': 'Pacific/Pohnpei',
  'Pacific/Truk': 'Pacific/Chuuk',
});

function formatterFor(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** Wall-clock time of one instant in one zone. Reused by renderFace: no allocation per call for UTC. */
interface WallClock {
  hour: number;
  minute: number;
  second: number;
  /** Seconds east of UTC. */
  offset: number;
}

const wall: WallClock = { hour: 0, minute: 0, second: 0, offset: 0 };

function readWallClock(t: number, zone: string, w: WallClock): void {
  const utcDayS = ((t % 86400) + 86400) % 86400;
  if (zone === 'UTC') {
    w.hour = Math.floor(utcDayS / 3600);
    w.minute = Math.floor(utcDayS / 60) % 60;
    w.second = utcDayS % 60;
    w.offset = 0;
    return;
  }
  const date = new Date(t * 1000);
  let day = 0;
  for (const p of formatterFor(zone).formatToParts(date)) {
    if (p.type === 'hour') w.hour = Number(p.value) % 24;
    else if (p.type === 'minute') w.minute = Number(p.value);
    else if (p.type === 'second') w.second = Number(p.value);
    else if (p.type === 'day') day = Number(p.value);
  }
  // Offset = local - UTC; the local date is the UTC date or one day either side of it.
  const utcDay = date.getUTCDate();
  const dayShift = day === utcDay ? 0 : day === utcDay + 1 || (day === 1 && utcDay >= 28) ? 1 : -1;
  w.offset = dayShift * 86400 + w.hour * 3600 + w.minute * 60 + w.second - utcDayS;
}

// ---- layout -----------------------------------------------------------------------------------------------

interface Layout {
  readonly zone: string;
  readonly hour12: boolean;
  readonly scale: number;
  readonly width: number;
  readonly height: number;
  /** Top-left of the time. */
  readonly timeX: number;
  readonly timeY: number;
  /** Scale, top and left of the small text (AM/PM, zone label); -1 where absent. */
  readonly smallScale: number;
  readonly smallY: number;
  readonly meridiemX: number;
  readonly labelX: number;
}

/** The zone label's shape: every digit, '+' and '-' have one width, so this is every offset's width. */
const OFFSET_LABEL_SHAPE = 'UTC+00:00';
const UTC_LABEL = 'UTC';

const layouts = new Map<string, Layout>();
const LAYOUT_CACHE_MAX = 256;

function checkScale(scale: number): void {
  if (!Number.isInteger(scale) || scale < MIN_SCALE || scale > MAX_SCALE) {
    throw new RangeError(`face: scale must be an integer in ${MIN_SCALE}..${MAX_SCALE}, got ${scale}`);
  }
}

function layoutFor(o: FaceOptions): Layout {
  checkScale(o.scale);
  const zone = canonicalTimeZone(o.tz);
  if (zone === null) throw new RangeError(`face: unknown time zone ${JSON.stringify(String(o.tz).slice(0, MAX_TZ_LENGTH))}`);
  const key = `${zone}/${o.hour12 ? 12 : 24}/${o.scale}`;
  const cached = layouts.get(key);
  if (cached !== undefined) return cached;

  const s = o.scale;
  const small = Math.max(1, s - 1);
  const padX = 3 * s;
  const padY = 2 * s;
  const gap = 2 * s;
  const timeW = textWidth('00:00:00', s);
  let x = padX + timeW;
  let meridiemX = -1;
  if (o.hour12) {
    meridiemX = x + gap;
    x = meridiemX + textWidth('AM', small);
  }
  const labelX = x + gap;
  x = labelX + textWidth(OFFSET_LABEL_SHAPE, small);
  const layout: Layout = {
    zone,
    hour12: o.hour12,
    scale: s,
    width: x + padX,
    height: padY + GLYPH_HEIGHT * s + padY,
    timeX: padX,
    timeY: padY,
    smallScale: small,
    smallY: padY + GLYPH_HEIGHT * (s - small),
    meridiemX,
    labelX,
  };
  if (layouts.size >= LAYOUT_CACHE_MAX) layouts.clear();
  layouts.set(key, layout);
  return layout;
}

/** Canvas size for these options; the same for every instant and every zone. */
export function faceSize(o: FaceOptions): { width: number; height: number } {
  const l = layoutFor(o);
  return { width: l.width, height: l.height };
}

/** Canonical key of a distinct rendering, e.g. 'UTC/24/3/dark' or 'Asia/Calcutta/12/2/light'. */
export function faceKey(o: FaceOptions): string {
  return `${canonicalTimeZone(o.tz) ?? o.tz}/${o.hour12 ? 12 : 24}/${o.scale}/${o.theme ?? 'dark'}`;
}

// ---- drawing ----------------------------------------------------------------------------------------------

const DIGITS: readonly Glyph[] = Array.from({ length: 10 }, (_, d) => glyphFor(String(d)));
const COLON = glyphFor(':');
const SPACE = glyphFor(' ');
const PLUS = glyphFor('+');
const MINUS = glyphFor('-');

function drawPair(out: Uint8Array, stride: number, x: number, y: number, n: number, s: number, c: number, blankZero: boolean): number {
  const tens = Math.floor(n / 10);
  x = drawGlyph(out, stride, x, y, blankZero && tens === 0 ? SPACE : DIGITS[tens]!, s, c);
  return drawGlyph(out, stride, x, y, DIGITS[n % 10]!, s, c);
}

/**
 * The face at `unixSeconds` (floored to the second) as palette indices, width * height, row-major.
 * Writes into `out` when given (it must be exactly that size), else into a new array.
 * Throws RangeError for a bad scale or an unknown zone.
 */
export function renderFace(unixSeconds: number, o: FaceOptions, out?: Uint8Array): Uint8Array {
  const l = layoutFor(o);
  const size = l.width * l.height;
  if (out === undefined) out = new Uint8Array(size);
  else if (out.length !== size) throw new RangeError(`face: out must hold ${size} pixels, has ${out.length}`);
  const t = Math.floor(unixSeconds);
  if (!Number.isFinite(t)) throw new RangeError(`face: not an instant: ${unixSeconds}`);
  readWallClock(t, l.zone, wall);

  out.fill(BACKGROUND);
  const s = l.scale;
  const w = l.width;
  let x = l.timeX;
  const y = l.timeY;
  const hour = l.hour12 ? wall.hour % 12 || 12 : wall.hour;
  x = drawPair(out, w, x, y, hour, s, INK, l.hour12);
  x = drawGlyph(out, w, x, y, COLON, s, INK);
  x = drawPair(out, w, x, y, wall.minute, s, INK, false);
  x = drawGlyph(out, w, x, y, COLON, s, INK);
  drawPair(out, w, x, y, wall.second, s, INK, false);

  const ss = l.smallScale;
  const sy = l.smallY;
  if (l.hour12) drawText(out, w, l.meridiemX, sy, wall.hour < 12 ? 'AM' : 'PM', ss, INK);
  x = drawText(out, w, l.labelX, sy, UTC_LABEL, ss, DIM);
  const off = wall.offset;
  const abs = Math.floor(Math.abs(off) / 60);
  x = drawGlyph(out, w, x, sy, off < 0 ? MINUS : PLUS, ss, DIM);
  x = drawPair(out, w, x, sy, Math.floor(abs / 60), ss, DIM, false);
  x = drawGlyph(out, w, x, sy, COLON, ss, DIM);
  drawPair(out, w, x, sy, abs % 60, ss, DIM, false);
  return out;
}
