// encoder/png.ts: every palette size at its bit depth, odd widths that leave a partial last byte in a row,
// decoded by pngjs (CRCs and the zlib stream checked) and by ImageMagick and Pillow; the chunk layout byte by
// byte; the clock's pictures at every scale; bad input named in the error.

import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bitDepthFor, encodePng, PNG } from '../encoder/png.js';
import { DEFAULT_FACE, faceSize, paletteFor, renderFace, TRANSPARENT_INDEX } from '../lib/face/face.js';
import { cliDecoders, decodePngjs, firstDifference, indicesToRgba, rgbaToRgb } from './decoders.js';
import { mulberry32 } from './random.js';
import { toolPresent } from './tools.js';

function randomPicture(seed: number, width: number, height: number, colors: number): { indices: Uint8Array; palette: Uint8Array } {
  const rnd = mulberry32(seed);
  const palette = new Uint8Array(colors * 3).map(() => Math.floor(rnd() * 256));
  // runs and repeated rows, like a drawn picture, with noise
  const indices = new Uint8Array(width * height);
  for (let y = 0; y < height; y++) {
    if (y > 0 && rnd() < 0.4) indices.copyWithin(y * width, (y - 1) * width, y * width);
    else for (let x = 0; x < width; x++) indices[y * width + x] = x > 0 && rnd() < 0.6 ? indices[y * width + x - 1]! : Math.floor(rnd() * colors);
  }
  return { indices, palette };
}

const CASES: [colors: number, depth: number, width: number, height: number][] = [
  [1, 1, 1, 1], [2, 1, 9, 3], [2, 1, 8, 8], [3, 2, 7, 5], [4, 2, 255, 33], [5, 4, 3, 7], [16, 4, 17, 4], [17, 8, 5, 5], [256, 8, 31, 9],
];

for (const [colors, depth, width, height] of CASES) {
  test(`png :: ${colors} colours at ${depth} bits, ${width}x${height}: pngjs reads back every pixel`, () => {
    const { indices, palette } = randomPicture(colors * 1000 + width, width, height, colors);
    assert.is(bitDepthFor(colors), depth);
    const png = encodePng({ width, height, indices, palette });
    const got = decodePngjs(png);
    assert.equal([got.width, got.height, got.bitDepth], [width, height, depth]);
    assert.is(firstDifference(got.rgba, indicesToRgba(indices, palette)), -1);
  });
}

test('png :: chunk layout: signature, IHDR, PLTE, one IDAT, IEND, nothing else', () => {
  const { indices, palette } = randomPicture(7, 10, 4, 3);
  const png = Buffer.from(encodePng({ width: 10, height: 4, indices, palette }));
  assert.ok(png.subarray(0, 8).equals(Buffer.from(PNG.SIGNATURE)));
  const chunks: [string, number][] = [];
  for (let at = 8; at < png.length; at += 12 + png.readUInt32BE(at)) chunks.push([png.toString('latin1', at + 4, at + 8), png.readUInt32BE(at)]);
  assert.equal(chunks.map(([t]) => t), ['IHDR', 'PLTE', 'IDAT', 'IEND']);
  assert.equal(chunks[0], ['IHDR', 13]);
  assert.equal(chunks[1], ['PLTE', 9], 'three colours, nothing padded');
  assert.equal([...png.subarray(16, 29)], [0, 0, 0, 10, 0, 0, 0, 4, 2, PNG.COLOR_TYPE_PALETTE, 0, 0, 0], 'IHDR: 10x4, 2 bits, palette, deflate, adaptive, no interlace');
  assert.equal([...png.subarray(-12)], [0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82], 'IEND and its CRC');
});

test('png :: the clock at every scale, both themes: the picture of the second, at two bits', () => {
  const t = Date.UTC(2026, 11, 31, 23, 59, 59) / 1000;
  for (let scale = 1; scale <= 8; scale++) {
    for (const theme of ['dark', 'light'] as const) {
      const face = { ...DEFAULT_FACE, scale, theme };
      const { width, height } = faceSize(face);
      const palette = paletteFor(face).subarray(0, TRANSPARENT_INDEX * 3);
      const indices = renderFace(t, face);
      const got = decodePngjs(encodePng({ width, height, indices, palette }));
      assert.is(got.bitDepth, 2, `scale ${scale} ${theme}`);
      assert.is(firstDifference(got.rgba, indicesToRgba(indices, paletteFor(face))), -1, `scale ${scale} ${theme}`);
    }
  }
});

test('png :: ImageMagick and Pillow decode the same pixels', () => {
  const cases = [randomPicture(3, 33, 7, 2), randomPicture(4, 255, 33, 3), randomPicture(5, 13, 6, 200)];
  for (const d of cliDecoders()) {
    if (!d.reads.includes('png') || !toolPresent(d.missing, d.name)) continue;
    for (const [k, { indices, palette }] of cases.entries()) {
      const width = [33, 255, 13][k]!, height = [7, 33, 6][k]!;
      const [rgb] = d.decodeRgb(encodePng({ width, height, indices, palette }), width, height);
      assert.is(firstDifference(rgb!, rgbaToRgb(indicesToRgba(indices, palette))), -1, `${d.name}: case ${k}`);
    }
  }
});

test('png :: bad input throws a RangeError or TypeError naming what is wrong', () => {
  const ok = { width: 2, height: 2, indices: new Uint8Array(4), palette: new Uint8Array(6) };
  const rows: [string, Record<string, unknown>, RegExp][] = [
    ['zero width', { width: 0, indices: new Uint8Array(0) }, /width/],
    ['fractional height', { height: 1.5 }, /height/],
    ['too few indices', { indices: new Uint8Array(3) }, /3 indices, expected 2x2/],
    ['indices not bytes', { indices: [0, 0, 0, 0] }, /Uint8Array/],
    ['palette not triplets', { palette: new Uint8Array(5) }, /triplets/],
    ['empty palette', { palette: new Uint8Array(0) }, /1\.\.256/],
    ['index past the palette', { indices: Uint8Array.of(0, 1, 2, 0) }, /index 2 at pixel 2 .* 2-colour/],
  ];
  for (const [name, over, re] of rows) {
    assert.throws(() => encodePng({ ...ok, ...over } as never), (e: Error) => (e instanceof RangeError || e instanceof TypeError) && re.test(e.message), name);
  }
});

test.run();
