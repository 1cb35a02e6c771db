import { detectVariant, labelFor, scoreFromProbabilities, scoreKindFor } from '../../../guards/promptGuard/scoring';

const V1 = detectVariant(['BENIGN', 'INJECTION', 'JAILBREAK']);
const V2 = detectVariant(['BENIGN', 'MALICIOUS']);

describe('variant from id2label', () => {
  it('v1 from the three label names, in whatever order', () => {
    expect(V1).toEqual({ version: 1, benign: 0, injection: 1, jailbreak: 2 });
    expect(detectVariant(['jailbreak', 'benign', 'injection'])).toEqual({ version: 1, benign: 1, injection: 2, jailbreak: 0 });
  });

  it('v2 from two labels, index 1 malicious whatever its name', () => {
    expect(V2).toEqual({ version: 2, malicious: 1 });
    expect(detectVariant(['LABEL_0', 'LABEL_1'])).toEqual({ version: 2, malicious: 1 });
  });

  it('refuses anything else and says what was expected', () => {
    expect(() => detectVariant(['A', 'B', 'C'])).toThrow(/BENIGN, INJECTION and JAILBREAK/);
    expect(() => detectVariant(['A'])).toThrow(/1 labels/);
  });
});

describe('which score applies', () => {
  it('v1: what the app or its user wrote for jailbreaks, third-party content for injection', () => {
    for (const s of ['user', 'system', 'developer', 'assistant'] as const) expect(scoreKindFor(V1, s)).toBe('jailbreak');
    for (const s of ['tool', 'document', 'tool_schema', 'tool_call'] as const) expect(scoreKindFor(V1, s)).toBe('injection');
  });

  it('v2: malicious for all', () => {
    expect(scoreKindFor(V2, 'user')).toBe('malicious');
    expect(scoreKindFor(V2, 'tool')).toBe('malicious');
  });
});

describe('scores (Meta reference formulas)', () => {
  const p = [0.1, 0.3, 0.6];
  it('v1 jailbreak = p[JAILBREAK]; injection = p[INJECTION] + p[JAILBREAK]', () => {
    expect(scoreFromProbabilities(V1, 'jailbreak', p)).toBeCloseTo(0.6, 12);
    expect(scoreFromProbabilities(V1, 'injection', p)).toBeCloseTo(0.9, 12);
  });

  it('v2 = p[1]', () => {
    expect(scoreFromProbabilities(V2, 'malicious', [0.25, 0.75])).toBe(0.75);
  });

  it('clamps rounding overshoot to a probability', () => {
    expect(scoreFromProbabilities(V1, 'injection', [0, 0.6, 0.40000000001])).toBe(1);
  });
});

describe('labels', () => {
  it('names what the score measures from 0.5 on, else BENIGN', () => {
    expect(labelFor('jailbreak', 0.5)).toBe('JAILBREAK');
    expect(labelFor('injection', 0.7)).toBe('INJECTION');
    expect(labelFor('malicious', 0.99)).toBe('MALICIOUS');
    expect(labelFor('injection', 0.49)).toBe('BENIGN');
  });
});
