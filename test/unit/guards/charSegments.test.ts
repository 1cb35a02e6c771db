import { charSegments, charWindows, estimateTokens, offsetAtTokens, pieces, SEGMENT_TOKENS } from '../../../guards/promptGuard/charSegments';

function prose(words: number): string {
  const w = ['the', 'weather', 'is', 'fine', 'today', 'and', 'tomorrow', 'we', 'go', 'out'];
  return Array.from({ length: words }, (_, i) => w[(i * 7) % w.length] + ((i + 1) % 9 === 0 ? '.' : '') + ((i + 1) % 36 === 0 ? '\n' : '')).join(' ');
}

describe('segments by characters (Prompt Guard on a classification server)', () => {
  test('the estimate errs long: letters 0.28, digits 0.5, other ASCII 0.6, anything else a whole token', () => {
    expect(estimateTokens('abcd')).toBeCloseTo(1.12);
    expect(estimateTokens('1234')).toBeCloseTo(2);
    expect(estimateTokens('{}')).toBeCloseTo(1.2);
    expect(estimateTokens('日本語')).toBe(3);
    expect(estimateTokens('😀')).toBe(1);
  });

  test('a short text is one segment; an empty one none', () => {
    expect(charSegments('hello world')).toEqual([{ start: 0, end: 11 }]);
    expect(charSegments('')).toEqual([]);
  });

  test('a long text: half-overlapping segments under the estimate, covering everything, cut at whitespace', () => {
    const text = prose(6_000);
    const segs = charSegments(text);
    expect(segs[0]!.start).toBe(0);
    expect(segs[segs.length - 1]!.end).toBe(text.length);
    for (let i = 0; i < segs.length; i++) {
      const s = segs[i]!;
      expect(estimateTokens(text, s.start, s.end)).toBeLessThanOrEqual(SEGMENT_TOKENS);
      if (i > 0) {
        // Each starts where the previous one's second half starts.
        expect(s.start).toBeGreaterThan(segs[i - 1]!.start);
        expect(s.start).toBeLessThan(segs[i - 1]!.end);
      }
      if (s.end < text.length) expect(text[s.end - 1]).toMatch(/\s/);
    }
  });

  test('a text that grows at its end keeps its earlier segments (so their cached scores are reused)', () => {
    const text = prose(3_000);
    const grown = `${text} ${prose(500)}`;
    const before = charSegments(text).map((s) => text.slice(s.start, s.end));
    const after = new Set(charSegments(grown).map((s) => grown.slice(s.start, s.end)));
    const kept = before.filter((s) => after.has(s)).length;
    expect(kept).toBeGreaterThanOrEqual(before.length - 1);
  });

  test('dense text without spaces is still cut under the estimate, never inside a surrogate pair', () => {
    const text = '😀'.repeat(2000);
    for (const s of pieces(text, 100)) {
      expect(estimateTokens(text, s.start, s.end)).toBeLessThanOrEqual(100);
      expect(s.start % 2).toBe(0);
    }
    expect(offsetAtTokens(text, 10) % 2).toBe(0);
  });

  test('fine windows: whole lines and sentences within the size, half overlapping; none for a short text', () => {
    const text = prose(400);
    const windows = charWindows(text, 64);
    expect(windows.length).toBeGreaterThan(4);
    for (const w of windows) expect(estimateTokens(text, w.start, w.end)).toBeLessThanOrEqual(64 + 1);
    expect(charWindows('one short sentence.', 64)).toEqual([]);
    expect(charWindows(text, 0)).toEqual([]);
  });
});
