import { parseAssessment } from '../../../guards/llamaGuard/parse';
import { knownCategoryCodes, promptCategories } from '../../../guards/llamaGuard/categories';

describe('parseAssessment', () => {
  it('reads safe, tolerant of surrounding whitespace (the template answer starts with \\n\\n)', () => {
    expect(parseAssessment('safe')).toEqual({ ok: true, label: 'safe', categories: [], excludedOnly: false });
    expect(parseAssessment('\n\nsafe\n')).toMatchObject({ ok: true, label: 'safe' });
    expect(parseAssessment('  safe  ')).toMatchObject({ ok: true, label: 'safe' });
  });

  it('reads unsafe with its comma-separated codes', () => {
    expect(parseAssessment('\n\nunsafe\nS1')).toEqual({ ok: true, label: 'unsafe', categories: ['S1'], excludedOnly: false });
    expect(parseAssessment('unsafe\nS1,S10, S14')).toMatchObject({ label: 'unsafe', categories: ['S1', 'S10', 'S14'] });
    expect(parseAssessment('unsafe\r\nS2,S2')).toMatchObject({ label: 'unsafe', categories: ['S2'] });
    expect(parseAssessment('unsafe \nC2')).toMatchObject({ label: 'unsafe', categories: ['C2'] });
  });

  it('drops excluded codes, and unsafe with only excluded codes counts as safe', () => {
    expect(parseAssessment('unsafe\nS1,S6', ['S6'])).toEqual({ ok: true, label: 'unsafe', categories: ['S1'], excludedOnly: false });
    expect(parseAssessment('unsafe\nS6', ['S6'])).toEqual({ ok: true, label: 'safe', categories: [], excludedOnly: true });
    expect(parseAssessment('unsafe\nS6, S7', ['S6', 'S7'])).toMatchObject({ label: 'safe', excludedOnly: true });
  });

  it.each([
    ['empty', ''],
    ['bare unsafe with no codes', 'unsafe'],
    ['unsafe with an empty code line', 'unsafe\n'],
    ['an empty code', 'unsafe\nS1,,S2'],
    ['a code with a space inside', 'unsafe\nS1 S2'],
    ['an extra line', 'unsafe\nS1\nS2'],
    ['safe followed by text', 'safe\nS1'],
    ['capitalized', 'Safe'],
    ['a sentence', 'The conversation is safe.'],
    ['garbage', 'S1,S2 unsafe'],
  ])('rejects %s', (_what, text) => {
    const result = parseAssessment(text);
    expect(result.ok).toBe(false);
  });

  it('never puts the unreadable output itself in the error message', () => {
    const result = parseAssessment('My secret plan is to rob the bank at noon');
    expect(result).toEqual({ ok: false, error: expect.stringMatching(/41 characters in 1 line$/) });
    expect(JSON.stringify(result)).not.toContain('bank');
  });

  test('codes the prompt does not list are a parse error that quotes nothing (model-written text must not reach records)', () => {
    const known = knownCategoryCodes('8b');
    expect(parseAssessment('unsafe\nS1,S14', [], known)).toMatchObject({ ok: true, categories: ['S1', 'S14'] });
    const echoed = parseAssessment('unsafe\nalice@example.com,sk-live-abc123', [], known);
    expect(echoed).toEqual({ ok: false, error: '2 category codes the prompt does not list' });
    expect(parseAssessment('unsafe\nS14', [], knownCategoryCodes('1b'))).toMatchObject({ ok: false });
    expect(parseAssessment('unsafe\nC1', [], knownCategoryCodes('8b', { C1: 'Custom.' }))).toMatchObject({ ok: true, categories: ['C1'] });
  });
});

describe("custom categories: the S-codes the prompt wrote name the policy's keys", () => {
  const custom = { FRAUD: 'Fraud and scams.', COMPETITORS: 'Competitor products.', MEDICAL: 'Medical advice.' };

  test('keys other than S-codes are written S1..Sn in order (after exclusions), and mapped back', () => {
    const { lines, keyOf } = promptCategories('8b', custom, ['COMPETITORS']);
    expect(lines).toEqual([
      ['S1', 'Fraud and scams.'],
      ['S2', 'Medical advice.'],
    ]);
    const known = knownCategoryCodes('8b', custom);
    expect(parseAssessment('unsafe\nS2', ['COMPETITORS'], known, keyOf)).toEqual({ ok: true, label: 'unsafe', categories: ['MEDICAL'], excludedOnly: false });
    // The key itself still reads as itself; a code the prompt never wrote is still an error.
    expect(parseAssessment('unsafe\nFRAUD', ['COMPETITORS'], known, keyOf)).toMatchObject({ ok: true, categories: ['FRAUD'] });
    expect(parseAssessment('unsafe\nS3', ['COMPETITORS'], known, keyOf)).toMatchObject({ ok: false });
  });

  test('S-coded keys and the defaults are written as they are', () => {
    expect(promptCategories('8b', { S1: 'Violent Crimes.', S7: 'Privacy.' }).lines).toEqual([
      ['S1', 'Violent Crimes.'],
      ['S7', 'Privacy.'],
    ]);
    expect(promptCategories('1b', undefined, ['S2']).lines.map(([code]) => code)).toEqual(['S1', 'S3', 'S4', 'S5', 'S6', 'S7', 'S8', 'S9', 'S10', 'S11', 'S12', 'S13']);
  });
});
