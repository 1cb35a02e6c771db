import { buildSegments, chunkCapacity, segmentStarts } from '../../../guards/text/segments';

const segStarts = (segs: number[][]): number[] => segs.map((s) => s[1] - 100);
import { cutIndex, sliceForTokenization, sliceStrippedText } from '../../../guards/text/slices';

describe('sliceForTokenization', () => {
  it('cuts just before a space so each slice starts its first word as the whole text would', () => {
    const text = 'alpha beta gamma delta epsilon';
    const slices = sliceForTokenization(text, 12);
    expect(slices.join('')).toBe(text);
    for (const s of slices.slice(1)) expect(s.startsWith(' ')).toBe(true);
    for (const s of slices) expect(s.length).toBeLessThanOrEqual(12);
  });

  it('hard-cuts text without whitespace, never inside a surrogate pair', () => {
    const text = 'a' + '\u{1F600}'.repeat(20);
    const slices = sliceForTokenization(text, 8);
    expect(slices.join('')).toBe(text);
    for (const s of slices) expect(s).not.toMatch(/^[\uDC00-\uDFFF]|[\uD800-\uDBFF]$/);
  });

  it('returns the whole text when it fits', () => {
    expect(cutIndex('short', 0, 100)).toBe(5);
    expect(sliceForTokenization('', 10)).toEqual([]);
  });
});

describe('sliceStrippedText', () => {
  it('avoids cutting where a space could be restored', () => {
    const text = 'abcdefghij';
    const follows = Uint8Array.from([0, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    const slices = sliceStrippedText(text, follows, 4);
    expect(slices.join('')).toBe(text);
    let offset = 0;
    for (const s of slices) {
      if (offset > 0) expect(follows[offset]).toBe(0);
      offset += s.length;
    }
  });
});

describe('buildSegments', () => {
  const layout = { maxLength: 6, prefix: [1], suffix: [2] };

  it('frames half-overlapping chunks of maxLength - 2 tokens with [CLS] and [SEP]', () => {
    expect(buildSegments([10, 11, 12, 13, 14, 15, 16, 17, 18], layout)).toEqual([
      [1, 10, 11, 12, 13, 2],
      [1, 12, 13, 14, 15, 2],
      [1, 14, 15, 16, 17, 2],
      [1, 16, 17, 18, 2],
    ]);
    // a text that fits is one segment
    expect(buildSegments([10, 11, 12, 13], layout)).toEqual([[1, 10, 11, 12, 13, 2]]);
  });

  it('covers every token, keeps every 255-token span whole in some segment, and no segment exceeds the window', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => i + 100);
    const segs = buildSegments(ids, { maxLength: 512, prefix: [1], suffix: [2] });
    expect(segStarts(segs)).toEqual(segmentStarts(5000, 510));
    expect(segs).toHaveLength(Math.ceil((5000 - 510) / 255) + 1);
    expect(segs.every((s) => s.length <= 512 && s[0] === 1 && s[s.length - 1] === 2)).toBe(true);
    expect(new Set(segs.flatMap((s) => s.slice(1, -1)))).toEqual(new Set(ids));
    // an attack of up to half a window sits whole in one segment wherever it starts
    for (const at of [0, 200, 254, 255, 256, 509, 510, 4744]) {
      const span = ids.slice(at, at + 255);
      expect(segs.some((s) => s.includes(span[0]) && s.includes(span[span.length - 1]))).toBe(true);
    }
  });

  it('mirrors the Python segment starts (train_common.segment_starts)', () => {
    // python: [segment_starts(n, 10) for n in (0, 10, 11, 15, 16, 23)]
    expect([0, 10, 11, 15, 16, 23].map((n) => segmentStarts(n, 10))).toEqual([[0], [0], [0, 5], [0, 5], [0, 5, 10], [0, 5, 10, 15]]);
  });

  it('makes room for template tokens inside the frame', () => {
    expect(chunkCapacity({ maxLength: 512, prefix: [1, 50, 51], suffix: [2] })).toBe(508);
    expect(buildSegments([7, 8, 9], { maxLength: 5, prefix: [1, 50], suffix: [2] })).toEqual([
      [1, 50, 7, 8, 2],
      [1, 50, 8, 9, 2],
    ]);
  });

  it('has no segment for an empty text and refuses a frame that leaves no room', () => {
    expect(buildSegments([], layout)).toEqual([]);
    expect(() => buildSegments([1], { maxLength: 2, prefix: [1], suffix: [2] })).toThrow(/no room/);
  });
});
