// The clock's bitmap font: hand-drawn 7-row glyphs as string art ('#' ink, '.' paper), compiled once at load
// into one Uint8Array per glyph. Digits, space, '+' and '-' share one width (tabular), so a line of text
// built from them keeps its width whatever the digits are; letters are only what the labels need.
// Drawing is integer scaling only: every font pixel becomes a scale x scale block, so the face stays crisp.

/** Rows in every glyph. */
export const GLYPH_HEIGHT = 7;
/** Font pixels of paper between two glyphs. */
export const GLYPH_GAP = 1;

const ART: Readonly<Record<string, readonly string[]>> = {
  '0': ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  '1': ['..#..', '.##..', '#.#..', '..#..', '..#..', '..#..', '#####'],
  '2': ['.###.', '#...#', '....#', '...#.', '..#..', '.#...', '#####'],
  '3': ['.###.', '#...#', '....#', '..##.', '....#', '#...#', '.###.'],
  '4': ['...#.', '..##.', '.#.#.', '#..#.', '#####', '...#.', '...#.'],
  '5': ['#####', '#....', '####.', '....#', '....#', '#...#', '.###.'],
  '6': ['..##.', '.#...', '#....', '####.', '#...#', '#...#', '.###.'],
  '7': ['#####', '....#', '...#.', '..#..', '.#...', '.#...', '.#...'],
  '8': ['.###.', '#...#', '#...#', '.###.', '#...#', '#...#', '.###.'],
  '9': ['.###.', '#...#', '#...#', '.####', '....#', '...#.', '.##..'],
  ':': ['...', '...', '.#.', '...', '.#.', '...', '...'],
  ' ': ['.....', '.....', '.....', '.....', '.....', '.....', '.....'],
  '+': ['.....', '..#..', '..#..', '#####', '..#..', '..#..', '.....'],
  '-': ['.....', '.....', '.....', '#####', '.....', '.....', '.....'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  C: ['.###.', '#...#', '#....', '#....', '#....', '#...#', '.###.'],
  G: ['.###.', '#...#', '#....', '#.###', '#...#', '#...#', '.####'],
  M: ['#...#', '##.##', '#.#.#', '#.#.#', '#...#', '#...#', '#...#'],
  P: ['####.', '#...#', '#...#', '####.', '#....', '#....', '#....'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  U: ['#...#', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
};

export interface Glyph {
  readonly width: number;
  /** width * GLYPH_HEIGHT font pixels, row-major, 1 = ink. */
  readonly bits: Uint8Array;
}

/** Glyphs by char code (ASCII only); undefined where the font has no glyph. */
const GLYPHS: (Glyph | undefined)[] = new Array<Glyph | undefined>(128).fill(undefined);

for (const [ch, rows] of Object.entries(ART)) {
  if (rows.length !== GLYPH_HEIGHT) throw new Error(`font: glyph ${ch} has ${rows.length} rows`);
  const width = rows[0]!.length;
  const bits = new Uint8Array(width * GLYPH_HEIGHT);
  rows.forEach((row, y) => {
    if (row.length !== width) throw new Error(`font: glyph ${ch} row ${y} is not ${width} wide`);
    for (let x = 0; x < width; x++) bits[y * width + x] = row[x] === '#' ? 1 : 0;
  });
  GLYPHS[ch.charCodeAt(0)] = { width, bits };
}

/** The glyph for one character; throws for a character the font does not have. */
export function glyphFor(ch: string): Glyph {
  const g = GLYPHS[ch.charCodeAt(0)];
  if (g === undefined || ch.length !== 1) throw new RangeError(`font: no glyph for ${JSON.stringify(ch)}`);
  return g;
}

/** Width in canvas pixels of `text` at `scale`, gaps between glyphs included (none after the last). */
export function textWidth(text: string, scale: number): number {
  let w = 0;
  for (let i = 0; i < text.length; i++) w += glyphFor(text[i]!).width + (i > 0 ? GLYPH_GAP : 0);
  return w * scale;
}

/**
 * Draw the ink of `g` into `out` (a canvas `stride` pixels wide) with its top-left corner at (x, y), each
 * font pixel a scale x scale block of `colour`. Paper pixels are left as they are. Returns the x just past
 * the glyph and its trailing gap.
 */
export function drawGlyph(
  out: Uint8Array,
  stride: number,
  x: number,
  y: number,
  g: Glyph,
  scale: number,
  colour: number,
): number {
  const { width, bits } = g;
  for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
    for (let gx = 0; gx < width; gx++) {
      if (bits[gy * width + gx] === 0) continue;
      let row = (y + gy * scale) * stride + x + gx * scale;
      for (let sy = 0; sy < scale; sy++, row += stride) out.fill(colour, row, row + scale);
    }
  }
  return x + (width + GLYPH_GAP) * scale;
}

/** Draw `text` left to right from (x, y); returns the x just past its last glyph's trailing gap. */
export function drawText(
  out: Uint8Array,
  stride: number,
  x: number,
  y: number,
  text: string,
  scale: number,
  colour: number,
): number {
  for (let i = 0; i < text.length; i++) x = drawGlyph(out, stride, x, y, glyphFor(text[i]!), scale, colour);
  return x;
}
