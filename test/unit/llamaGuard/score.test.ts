import { unsafeProbability, unsafeProbabilityFromTop } from '../../../guards/llamaGuard/score';
import { assessmentVerdict } from '../../../guards/llamaGuard/verdict';

describe('unsafeProbability', () => {
  it('is the softmax over [safe, unsafe]', () => {
    const s = 1.3;
    const u = -0.4;
    expect(unsafeProbability(s, u)).toBeCloseTo(Math.exp(u) / (Math.exp(s) + Math.exp(u)), 12);
    expect(unsafeProbability(2, 2)).toBe(0.5);
  });

  it('does not overflow on large logits', () => {
    expect(unsafeProbability(1000, -1000)).toBe(0);
    expect(unsafeProbability(-1000, 1000)).toBe(1);
    expect(unsafeProbability(-Infinity, 3)).toBe(1);
  });
});

describe('unsafeProbabilityFromTop', () => {
  it('compares the two logprobs like logits', () => {
    const p = unsafeProbabilityFromTop([
      { token: 'safe', logprob: Math.log(0.6) },
      { token: 'unsafe', logprob: Math.log(0.3) },
      { token: 'S', logprob: Math.log(0.1) },
    ]);
    expect(p).toBeCloseTo(1 / 3, 10);
  });

  it('bounds a missing token by the lowest listed logprob', () => {
    const p = unsafeProbabilityFromTop([
      { token: 'safe', logprob: Math.log(0.9) },
      { token: 'Safe', logprob: Math.log(0.05) },
      { token: 'The', logprob: Math.log(0.01) },
    ]);
    expect(p).toBeCloseTo(0.01 / 0.91, 10);
  });

  it('bounds it by what the listed tokens leave when that is tighter (a server listing only the chosen token)', () => {
    // safe alone at -0.0005: the rest of the distribution holds 0.0005, so unsafe cannot be an even chance.
    const p = unsafeProbabilityFromTop([{ token: 'safe', logprob: -0.0005 }]);
    expect(p).toBeCloseTo((1 - Math.exp(-0.0005)) / 1, 6);
    expect(p!).toBeLessThan(0.001);
    // Everything listed: nothing is left, the missing token has no mass.
    expect(unsafeProbabilityFromTop([{ token: 'safe', logprob: 0 }])).toBe(0);
  });

  it('returns undefined when neither token is listed', () => {
    expect(unsafeProbabilityFromTop([{ token: 'The', logprob: -0.1 }])).toBeUndefined();
    expect(unsafeProbabilityFromTop([])).toBeUndefined();
  });
});

describe('assessmentVerdict', () => {
  const base = { guard: 'lg', model: 'm', latencyMs: 3 };
  it('scores with P(unsafe) and carries label and categories', () => {
    expect(assessmentVerdict({ ...base, pUnsafe: 0.93, assessment: { ok: true, label: 'unsafe', categories: ['S1'], excludedOnly: false } })).toEqual({
      guard: 'lg',
      model: 'm',
      label: 'unsafe',
      score: 0.93,
      categories: ['S1'],
      latencyMs: 3,
      segmentsScanned: 1,
    });
  });

  it('falls back to 0 / 1 from the label without a measured probability', () => {
    expect(assessmentVerdict({ ...base, pUnsafe: undefined, assessment: { ok: true, label: 'unsafe', categories: ['S2'], excludedOnly: false } }).score).toBe(1);
    expect(assessmentVerdict({ ...base, pUnsafe: undefined, assessment: { ok: true, label: 'safe', categories: [], excludedOnly: false } }).score).toBe(0);
  });

  it('scores 0 when only excluded categories were flagged', () => {
    const v = assessmentVerdict({ ...base, pUnsafe: 0.97, assessment: { ok: true, label: 'safe', categories: [], excludedOnly: true } });
    expect(v).toMatchObject({ label: 'safe', score: 0, categories: [] });
  });

  it('turns a parse failure into a parse_error verdict, never safe', () => {
    const v = assessmentVerdict({ ...base, pUnsafe: 0.1, assessment: { ok: false, error: 'bad' } });
    expect(v).toMatchObject({ label: 'error', error: { type: 'parse_error', message: 'bad' } });
  });
});
