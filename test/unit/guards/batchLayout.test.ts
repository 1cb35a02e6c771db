import { packRows, pickRows, widthGroups } from '../../../guards/onnx/batchLayout';

describe('rows grouped by width (one padded run per group)', () => {
  test('a 512-token segment and short fine windows do not share a run', () => {
    const groups = widthGroups([512, 60, 58, 512, 64, 500]);
    expect(groups).toEqual([
      [0, 3, 5],
      [4, 1, 2],
    ]);
  });

  test('rows within 3/4 of the widest share its run; short rows all share one', () => {
    expect(widthGroups([100, 80, 76, 74])).toEqual([[0, 1, 2], [3]]);
    expect(widthGroups([32, 3, 17, 1])).toEqual([[0, 2, 1, 3]]);
    expect(widthGroups([])).toEqual([]);
    expect(widthGroups([7])).toEqual([[0]]);
  });

  test('every row is in exactly one group', () => {
    const lengths = Array.from({ length: 200 }, (_, i) => 1 + ((i * 7919) % 512));
    const all = widthGroups(lengths).flat().sort((a, b) => a - b);
    expect(all).toEqual(lengths.map((_, i) => i));
  });

  test('pickRows packs the chosen rows on their own, in the order given', () => {
    const packed = packRows([[1, 2, 3], [4], [5, 6]]);
    const picked = pickRows(packed.ids, packed.lengths, [2, 0]);
    expect(Array.from(picked.lengths)).toEqual([2, 3]);
    expect(Array.from(picked.ids)).toEqual([5, 6, 1, 2, 3]);
  });
});
