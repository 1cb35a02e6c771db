import * as fs from 'node:fs';
import * as path from 'node:path';
import { assembleWindows, packWindows, textUnits } from '../../../guards/text/fineWindows';

/**
 * The runtime's fine windows must be the ones the bundled models were trained on:
 * test/fixtures/fine-windows/cases.json is written by guards/training/fine_windows.py
 * (`--fixture`), with the units, their token counts and the packed windows Python computed.
 * (The fixture texts are BMP-only, where Python's code-point offsets equal JS's UTF-16 ones.)
 */
interface FixtureCase {
  text: string;
  units: [number, number][];
  unit_lengths: number[];
  windows: [number, number, [number, number] | null][];
}
const fixture = JSON.parse(fs.readFileSync(path.join(__dirname, '../../fixtures/fine-windows/cases.json'), 'utf8')) as {
  max_tokens: number;
  cases: FixtureCase[];
};

describe('fine windows match guards/training/fine_windows.py', () => {
  it.each(fixture.cases.map((c, i) => [i, c] as const))('case %i: units and windows', (_i, c) => {
    expect(textUnits(c.text).map((u) => [u.start, u.end])).toEqual(c.units);
    const total = c.unit_lengths.reduce((a, b) => a + b, 0);
    const packed = total > fixture.max_tokens ? packWindows(c.unit_lengths, fixture.max_tokens) : [];
    expect(packed.map((w) => [w.firstUnit, w.endUnit, w.chunk ? [w.chunk.start, w.chunk.end] : null])).toEqual(c.windows);
  });
});

describe('textUnits', () => {
  it('ends units at newlines and at sentence ends followed by whitespace, trimmed', () => {
    const text = 'First one. Second one!\n  third line  \nv1.2 stays whole? yes';
    expect(textUnits(text).map((u) => text.slice(u.start, u.end))).toEqual(['First one.', 'Second one!', 'third line', 'v1.2 stays whole?', 'yes']);
  });

  it('splits CJK sentences without whitespace and drops blank units', () => {
    const text = '你好。再见！\n\n\n  ';
    expect(textUnits(text).map((u) => text.slice(u.start, u.end))).toEqual(['你好。', '再见！']);
  });
});

describe('packWindows / assembleWindows', () => {
  it('packs units up to the budget, each window starting half-way into the previous one', () => {
    // units of 10 tokens, budget 32: three units a window, next starts at the second unit
    expect(packWindows([10, 10, 10, 10, 10], 32).map((w) => [w.firstUnit, w.endUnit])).toEqual([
      [0, 3],
      [2, 5],
    ]);
  });

  it('cuts an over-long unit into half-overlapping chunks and moves on', () => {
    expect(packWindows([5, 70, 5], 32)).toEqual([
      { firstUnit: 0, endUnit: 1 },
      { firstUnit: 1, endUnit: 2, chunk: { start: 0, end: 32 } },
      { firstUnit: 1, endUnit: 2, chunk: { start: 16, end: 48 } },
      { firstUnit: 1, endUnit: 2, chunk: { start: 32, end: 64 } },
      { firstUnit: 1, endUnit: 2, chunk: { start: 48, end: 70 } },
      { firstUnit: 2, endUnit: 3 },
    ]);
  });

  it('names each window by the characters it covers and concatenates its units ids', () => {
    const text = 'aa bb. cc dd.\nee ff.';
    const units = textUnits(text);
    const ids = [[1, 2], [3, 4], [5, 6]];
    const windows = assembleWindows(units, ids, 4);
    expect(windows.map((w) => [text.slice(w.start, w.end), w.ids])).toEqual([
      ['aa bb. cc dd.', [1, 2, 3, 4]],
      ['cc dd.\nee ff.', [3, 4, 5, 6]],
    ]);
  });

  it('names a chunk of one over-long line by its share of the line, not the whole line', () => {
    // One 40-character line of 20 tokens, windows of 8: chunks at tokens 0-8, 4-12, 8-16, 12-20.
    const text = 'a'.repeat(40);
    const windows = assembleWindows(textUnits(text), [Array.from({ length: 20 }, (_, i) => i)], 8);
    expect(windows.map((w) => [w.start, w.end, w.ids.length])).toEqual([
      [0, 18, 8],
      [6, 26, 8],
      [14, 34, 8],
      [22, 40, 8],
    ]);
  });

  it('gives a text that fits one window no windows (its segment is already that small)', () => {
    const units = textUnits('one. two.');
    expect(assembleWindows(units, [[1], [2]], 4)).toEqual([]);
  });

  it('refuses a window size that is not a positive integer', () => {
    expect(() => packWindows([1], 0)).toThrow(/positive integer/);
  });
});
