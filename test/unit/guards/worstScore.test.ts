import { pickWorst, worstView } from '../../../guards/encoder/worst';

/** A model that overflows scores NaN; that must fail closed, whatever its position. */
describe('the worst of several scores', () => {
  const text = (path: string, score: number) => ({ path, score, label: 'x', segments: 1 });

  test('a NaN text is the worst, first or not, and is reported as 1', () => {
    expect(pickWorst([text('a', 0.1), text('b', NaN)])).toMatchObject({ path: 'b', score: 1 });
    expect(pickWorst([text('a', NaN), text('b', 0.99)])).toMatchObject({ path: 'a', score: 1 });
    expect(pickWorst([text('a', 0.2), text('b', 0.7)])).toMatchObject({ path: 'b', score: 0.7 });
  });

  test('a NaN segment or window is the worst view', () => {
    expect(worstView([0.1, NaN, 0.5], [undefined, { start: 3, end: 9 }, undefined])).toEqual({ score: 1, span: { start: 3, end: 9 } });
    expect(worstView([NaN, 0.99], [undefined, undefined])).toEqual({ score: 1 });
    expect(worstView([0.3, 0.6], [undefined, { start: 0, end: 4 }])).toEqual({ score: 0.6, span: { start: 0, end: 4 } });
  });
});
