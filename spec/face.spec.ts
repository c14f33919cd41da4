import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { glyphFor, GLYPH_HEIGHT } from '../lib/face/font.js';
import {
  canonicalTimeZone,
  DEFAULT_FACE,
  FACE_INDEX,
  faceKey,
  faceSize,
  PALETTE,
  paletteFor,
  renderFace,
  TRANSPARENT_INDEX,
  type FaceOptions,
} from '../lib/face/face.js';

const at = (iso: string): number => Date.parse(iso) / 1000;
const face = (tz: string, hour12 = false, scale = 3): FaceOptions => ({ tz, hour12, scale });

// ---- a tiny reader: the pixels back to text ---------------------------------------------------------------
// Splits the ink of one colour into glyphs at runs of empty columns, checks every font pixel is a solid
// scale x scale block, and matches each glyph against the font. A change of scale reads as a space, so the
// ink of a 12-hour face reads '3:08:47 PM'.

const CHARSET = '0123456789:+-ACGMPTU';

interface Cell {
  x0: number;
  x1: number;
  top: number;
  bottom: number;
}

function readLine(px: Uint8Array, width: number, height: number, colour: number): string {
  const cells: Cell[] = [];
  let cur: Cell | null = null;
  for (let x = 0; x <= width; x++) {
    let top = -1;
    let bottom = -1;
    for (let y = 0; x < width && y < height; y++) {
      if (px[y * width + x] === colour) {
        if (top < 0) top = y;
        bottom = y;
      }
    }
    if (top >= 0) {
      if (cur === null) cur = { x0: x, x1: x + 1, top, bottom };
      else {
        cur.x1 = x + 1;
        cur.top = Math.min(cur.top, top);
        cur.bottom = Math.max(cur.bottom, bottom);
      }
    } else if (cur !== null) {
      cells.push(cur);
      cur = null;
    }
  }
  let text = '';
  let lineTop = -1;
  let scale = 0;
  for (const c of cells) {
    // a glyph of the current line (':', '+' and '-' are shorter than the line), else the first of a new line
    const inLine = scale > 0 && c.top >= lineTop && c.bottom < lineTop + GLYPH_HEIGHT * scale;
    const ch = inLine ? matchCell(px, width, c, lineTop, scale, colour) : '?';
    if (ch !== '?') {
      text += ch;
      continue;
    }
    const h = c.bottom - c.top + 1;
    if (h % GLYPH_HEIGHT !== 0) return text + '?';
    if (text !== '') text += ' ';
    scale = h / GLYPH_HEIGHT;
    lineTop = c.top;
    text += matchCell(px, width, c, lineTop, scale, colour);
  }
  return text;
}

/** The character whose inked columns the cell shows at (top, scale); '?' if none. */
function matchCell(px: Uint8Array, width: number, c: Cell, top: number, s: number, colour: number): string {
  const w = (c.x1 - c.x0) / s;
  if (!Number.isInteger(w)) return '?';
  const ink: number[] = [];
  for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
    for (let gx = 0; gx < w; gx++) {
      const corner = px[(top + gy * s) * width + c.x0 + gx * s];
      for (let sy = 0; sy < s; sy++) {
        for (let sx = 0; sx < s; sx++) {
          if (px[(top + gy * s + sy) * width + c.x0 + gx * s + sx] !== corner) return '?'; // not a crisp block
        }
      }
      ink.push(corner === colour ? 1 : 0);
    }
  }
  for (const ch of CHARSET) {
    const g = glyphFor(ch);
    let first = g.width;
    let last = -1;
    for (let i = 0; i < g.bits.length; i++) {
      if (g.bits[i] === 1) {
        first = Math.min(first, i % g.width);
        last = Math.max(last, i % g.width);
      }
    }
    if (last - first + 1 !== w) continue;
    let same = true;
    for (let gy = 0; gy < GLYPH_HEIGHT && same; gy++) {
      for (let gx = 0; gx < w && same; gx++) same = ink[gy * w + gx] === g.bits[gy * g.width + first + gx];
    }
    if (same) return ch;
  }
  return '?';
}

function read(unixSeconds: number, o: FaceOptions): { time: string; label: string } {
  const { width, height } = faceSize(o);
  const px = renderFace(unixSeconds, o);
  return { time: readLine(px, width, height, FACE_INDEX.INK), label: readLine(px, width, height, FACE_INDEX.DIM) };
}

// ---- specs ------------------------------------------------------------------------------------------------

test('face :: reads HH:MM:SS and the UTC+00:00 label at a known instant, at every scale', () => {
  for (let scale = 1; scale <= 8; scale++) {
    assert.equal(read(at('2026-11-21T12:34:56Z'), face('UTC', false, scale)), { time: '12:34:56', label: 'UTC+00:00' }, `scale ${scale}`);
  }
  assert.equal(read(at('2026-11-21T09:08:07Z'), DEFAULT_FACE), { time: '09:08:07', label: 'UTC+00:00' });
  assert.equal(read(at('1970-01-01T00:00:00Z'), DEFAULT_FACE), { time: '00:00:00', label: 'UTC+00:00' });
  assert.equal(read(at('2026-12-31T23:59:59Z'), DEFAULT_FACE), { time: '23:59:59', label: 'UTC+00:00' });
});

test('face :: a digit is drawn exactly as designed, in scale x scale blocks', () => {
  // the 4 of 12:34:56, written out here independently of lib/face/font.ts
  const four = ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'];
  const o = face('UTC', false, 2);
  const { width, height } = faceSize(o);
  const px = renderFace(at('2026-11-21T12:34:56Z'), o);
  // find the 4th digit: the columns of ink runs, left to right
  const runs: number[] = [];
  for (let x = 0, inRun = false; x < width; x++) {
    let ink = false;
    for (let y = 0; y < height; y++) if (px[y * width + x] === FACE_INDEX.INK) ink = true;
    if (ink && !inRun) runs.push(x);
    inRun = ink;
  }
  // 1 2 : 3 4 : 5 6 -> the 4 is the fifth run
  const x0 = runs[4]!;
  let top = height;
  for (let y = 0; y < height; y++) for (let x = x0; x < x0 + 10; x++) if (px[y * width + x] === FACE_INDEX.INK) top = Math.min(top, y);
  for (let gy = 0; gy < 7; gy++) {
    for (let gx = 0; gx < 5; gx++) {
      const want = four[gy]![gx] === '#' ? FACE_INDEX.INK : FACE_INDEX.BACKGROUND;
      for (let sy = 0; sy < 2; sy++) {
        for (let sx = 0; sx < 2; sx++) {
          assert.is(px[(top + gy * 2 + sy) * width + x0 + gx * 2 + sx], want, `font pixel ${gx},${gy} block ${sx},${sy}`);
        }
      }
    }
  }
});

test('face :: canvas size depends on scale and 12/24 h only, never on the zone or the instant', () => {
  const zones = ['UTC', 'Asia/Kolkata', 'America/New_York', 'Pacific/Chatham', 'America/St_Johns', 'Australia/Lord_Howe'];
  const start = at('2026-01-01T00:00:00Z');
  for (const tz of zones) {
    for (const hour12 of [false, true]) {
      for (const scale of [1, 3]) {
        const o = face(tz, hour12, scale);
        const size = faceSize(o);
        // every ~5 days and 7 hours through a year: both DST states, AM and PM, one- and two-digit 12 h hours
        // and what is drawn stays inside the layout: the padding (3 x scale columns at each side, 2 x scale
        // rows at top and bottom) is background at every instant, so a wider label cannot spill over
        const padX = 3 * scale, padY = 2 * scale;
        for (let t = start; t < start + 366 * 86400; t += 5 * 86400 + 7 * 3600 + 13) {
          const px = renderFace(t, o);
          for (let y = 0; y < size.height; y++)
            for (let x = 0; x < size.width; x++) {
              const inPad = x < padX || x >= size.width - padX || y < padY || y >= size.height - padY;
              if (inPad && px[y * size.width + x] !== 0) assert.unreachable(`${tz} ${hour12} x${scale} at ${t}: pixel ${x},${y} drawn in the padding`);
            }
        }
      }
    }
  }
  const base = faceSize(face('UTC', false, 3));
  assert.ok(faceSize(face('UTC', true, 3)).width > base.width, 'AM/PM makes it wider');
  for (const tz of zones) for (const h12 of [false, true]) for (let scale = 1; scale <= 8; scale++) {
    assert.equal(faceSize(face(tz, h12, scale)), faceSize(face('UTC', h12, scale)), `${tz} ${h12 ? 12 : 24} h x${scale}: the size of UTC's`);
    assert.equal(faceSize({ ...face(tz, h12, scale), theme: 'light' }), faceSize(face('UTC', h12, scale)), 'the theme does not change the size');
  }
  assert.ok(faceSize(face('UTC', false, 4)).width > base.width, 'a larger scale is larger');
  assert.ok(faceSize(face('UTC', false, 4)).height > base.height, 'a larger scale is taller');
});

test('face :: Asia/Kolkata is UTC+05:30', () => {
  assert.equal(read(at('2026-11-21T09:38:47Z'), face('Asia/Kolkata')), { time: '15:08:47', label: 'UTC+05:30' });
  assert.equal(read(at('2026-11-21T18:30:00Z'), face('Asia/Kolkata')), { time: '00:00:00', label: 'UTC+05:30' });
  assert.equal(read(at('2026-06-21T18:29:59Z'), face('Asia/Kolkata')), { time: '23:59:59', label: 'UTC+05:30' });
});

test('face :: America/New_York across both DST changes of 2026', () => {
  const ny = face('America/New_York');
  assert.equal(read(at('2026-03-08T06:59:59Z'), ny), { time: '01:59:59', label: 'UTC-05:00' });
  assert.equal(read(at('2026-03-08T07:00:00Z'), ny), { time: '03:00:00', label: 'UTC-04:00' });
  assert.equal(read(at('2026-11-01T05:59:59Z'), ny), { time: '01:59:59', label: 'UTC-04:00' });
  assert.equal(read(at('2026-11-01T06:00:00Z'), ny), { time: '01:00:00', label: 'UTC-05:00' });
});

test('face :: agrees with Intl for zones with odd offsets and dates', () => {
  const zones = ['Pacific/Kiritimati', 'Pacific/Chatham', 'America/St_Johns', 'Asia/Kathmandu', 'Etc/GMT+12', 'Europe/London', 'Australia/Lord_Howe'];
  const instants = ['2026-01-01T00:00:00Z', '2026-02-28T23:59:59Z', '2026-07-01T10:15:30Z', '2024-02-29T13:14:15Z', '2026-12-31T12:00:00Z'];
  for (const tz of zones) {
    const time = new Intl.DateTimeFormat('en-GB', { timeZone: tz, hourCycle: 'h23', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    const offset = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' });
    for (const iso of instants) {
      const d = new Date(iso);
      const name = offset.formatToParts(d).find((p) => p.type === 'timeZoneName')!.value;
      const label = name === 'GMT' ? 'UTC+00:00' : name.replace('GMT', 'UTC');
      assert.equal(read(d.getTime() / 1000, face(tz)), { time: time.format(d), label }, `${tz} ${iso}`);
    }
  }
});

test('face :: 12-hour mode', () => {
  const cases: [string, string][] = [
    ['2026-11-21T00:05:09Z', '12:05:09 AM'],
    ['2026-11-21T01:00:00Z', '1:00:00 AM'],
    ['2026-11-21T11:59:59Z', '11:59:59 AM'],
    ['2026-11-21T12:00:00Z', '12:00:00 PM'],
    ['2026-11-21T13:05:09Z', '1:05:09 PM'],
    ['2026-11-21T23:59:59Z', '11:59:59 PM'],
  ];
  for (const [iso, want] of cases) assert.is(read(at(iso), face('UTC', true)).time, want, iso);
  // the blank leading digit keeps the place of a digit: 1:00:00 starts right where 10:00:00's 0 does
  const o = face('UTC', true, 2);
  const { width, height } = faceSize(o);
  const firstInk = (px: Uint8Array): number => {
    for (let x = 0; x < width; x++) for (let y = 0; y < height; y++) if (px[y * width + x] === FACE_INDEX.INK) return x;
    return -1;
  };
  const one = renderFace(at('2026-11-21T01:00:00Z'), o);
  const ten = renderFace(at('2026-11-21T10:00:00Z'), o);
  assert.is(firstInk(one), firstInk(ten) + 6 * 2, 'one digit width plus a gap');
  assert.equal(read(at('2026-11-21T06:30:00Z'), face('Asia/Kolkata', true)), { time: '12:00:00 PM', label: 'UTC+05:30' });
});

test('face :: time zone names: canonical, or null when bad', () => {
  assert.is(canonicalTimeZone('UTC'), 'UTC');
  assert.is(canonicalTimeZone('utc'), 'UTC');
  assert.is(canonicalTimeZone('Etc/UTC'), 'UTC');
  assert.is(canonicalTimeZone('US/Eastern'), 'America/New_York');
  assert.is(canonicalTimeZone('Asia/Kolkata'), canonicalTimeZone('Asia/Calcutta'));
  assert.ok(canonicalTimeZone('Asia/Kolkata') !== null);
  for (const bad of ['', 'Mars/Base', 'Europe/Nowhere', '../../etc/passwd', 'UTC; rm -rf /', 'Asia/Kolkata\n', 'x'.repeat(65), 'A/'.repeat(5000), '+05:30']) {
    assert.is(canonicalTimeZone(bad), null, JSON.stringify(bad.slice(0, 20)));
  }
  assert.is(canonicalTimeZone(undefined as unknown as string), null);
  assert.is(canonicalTimeZone(42 as unknown as string), null);
  assert.throws(() => renderFace(0, face('Mars/Base')), (e: unknown) => e instanceof RangeError && /time zone/.test(e.message));
  assert.throws(() => faceSize(face('Mars/Base')), RangeError);
  for (const scale of [0, 9, 2.5, NaN, -1]) assert.throws(() => faceSize(face('UTC', false, scale)), RangeError, `scale ${scale}`);
  assert.throws(() => renderFace(0, DEFAULT_FACE, new Uint8Array(10)), RangeError);
});

test('face :: same instant and options give the same bytes', () => {
  const t = at('2026-11-21T09:38:47Z');
  for (const o of [DEFAULT_FACE, face('Asia/Kolkata', true, 2), face('America/New_York', false, 1)]) {
    const a = renderFace(t, o);
    renderFace(t + 12345, o); // other renders in between leave no trace
    renderFace(t, face('Pacific/Chatham', true, 5));
    const b = renderFace(t, o);
    const out = new Uint8Array(a.length).fill(7);
    assert.is(renderFace(t + 0.999, o, out), out, 'writes into out');
    assert.equal(b, a);
    assert.equal(out, a);
    assert.not.equal(renderFace(t + 1, o), a, 'the next second differs');
  }
});

test('face :: four palette entries, and the transparent one is never drawn', () => {
  assert.is(PALETTE.length, 4 * 3);
  assert.ok(TRANSPARENT_INDEX >= 0 && TRANSPARENT_INDEX < 4);
  for (const v of Object.values(FACE_INDEX)) assert.is.not(v, TRANSPARENT_INDEX);
  const seen = new Set<number>();
  for (const o of [DEFAULT_FACE, face('Asia/Kolkata', true, 1), face('America/St_Johns', true, 4)]) {
    for (let t = at('2026-11-21T00:00:00Z'); t < at('2026-11-22T00:00:00Z'); t += 997) {
      for (const v of renderFace(t, o)) seen.add(v);
    }
  }
  assert.ok(!seen.has(TRANSPARENT_INDEX));
  assert.equal([...seen].sort(), [FACE_INDEX.BACKGROUND, FACE_INDEX.INK, FACE_INDEX.DIM].sort());
});

test('face :: faceKey names one rendering', () => {
  assert.is(faceKey(DEFAULT_FACE), `UTC/24/${DEFAULT_FACE.scale}/dark`);
  assert.is(faceKey(face('utc', false, 2)), 'UTC/24/2/dark');
  assert.is(faceKey(face('Asia/Kolkata', true, 2)), faceKey(face('Asia/Calcutta', true, 2)));
  assert.is(faceKey({ ...face('UTC', false, 2), theme: 'dark' }), faceKey(face('UTC', false, 2)), 'no theme is the dark theme');
  const keys = new Set(
    [face('UTC', false, 2), face('UTC', true, 2), face('UTC', false, 3), face('Asia/Kolkata', false, 2), { ...face('UTC', false, 2), theme: 'light' as const }].map(faceKey),
  );
  assert.is(keys.size, 5);
});

test('face :: the light theme draws the same pixels in its own palette: dark ink on a light ground', () => {
  const t = at('2026-11-21T12:34:56Z');
  const dark = face('Asia/Kolkata', true, 2);
  const light = { ...dark, theme: 'light' as const };
  assert.equal(renderFace(t, light), renderFace(t, dark), 'the same palette indices');
  const lum = (p: Uint8Array, i: number): number => 0.2126 * p[i * 3]! + 0.7152 * p[i * 3 + 1]! + 0.0722 * p[i * 3 + 2]!;
  const pd = paletteFor(dark), pl = paletteFor(light);
  assert.is(pd, PALETTE, 'dark is the default palette');
  assert.ok(lum(pd, FACE_INDEX.INK) > lum(pd, FACE_INDEX.BACKGROUND) + 150, 'dark: light ink on a dark ground');
  assert.ok(lum(pl, FACE_INDEX.INK) + 150 < lum(pl, FACE_INDEX.BACKGROUND), 'light: dark ink on a light ground');
  for (const p of [pd, pl]) {
    const dim = lum(p, FACE_INDEX.DIM);
    assert.ok(dim > Math.min(lum(p, 0), lum(p, 1)) && dim < Math.max(lum(p, 0), lum(p, 1)), 'dim ink sits between ground and ink');
  }
});

test.run();
