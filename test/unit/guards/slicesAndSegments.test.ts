import { buildSegments, chunkCapacity } from '../../../guards/text/segments';
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

  it('frames consecutive chunks of maxLength - 2 tokens with [CLS] and [SEP]', () => {
    expect(buildSegments([10, 11, 12, 13, 14, 15, 16, 17, 18], layout)).toEqual([
      [1, 10, 11, 12, 13, 2],
      [1, 14, 15, 16, 17, 2],
      [1, 18, 2],
    ]);
  });

  it('covers every token exactly once, and no segment exceeds the window', () => {
    const ids = Array.from({ length: 5000 }, (_, i) => i + 100);
    const segs = buildSegments(ids, { maxLength: 512, prefix: [1], suffix: [2] });
    expect(segs).toHaveLength(Math.ceil(5000 / 510));
    expect(segs.every((s) => s.length <= 512 && s[0] === 1 && s[s.length - 1] === 2)).toBe(true);
    expect(segs.flatMap((s) => s.slice(1, -1))).toEqual(ids);
  });

  it('makes room for template tokens inside the frame', () => {
    expect(chunkCapacity({ maxLength: 512, prefix: [1, 50, 51], suffix: [2] })).toBe(508);
    expect(buildSegments([9, 9, 9], { maxLength: 5, prefix: [1, 50], suffix: [2] })).toEqual([
      [1, 50, 9, 9, 2],
      [1, 50, 9, 2],
    ]);
  });

  it('has no segment for an empty text and refuses a frame that leaves no room', () => {
    expect(buildSegments([], layout)).toEqual([]);
    expect(() => buildSegments([1], { maxLength: 2, prefix: [1], suffix: [2] })).toThrow(/no room/);
  });
});
