/**
 * Rules that act on text findings (`findings:`): the pure decision, the schema that accepts them,
 * and the list of names kept equal to what the guards report.
 */
import { TEXT_FINDINGS } from '../../../guards/text/findings';
import type { Verdict } from '../../../guards/types';
import { decide, evaluateRule, expandFindings } from '../../../policies/evaluate';
import { FINDING_GROUPS, PolicyFile, Rule, TEXT_FINDING_NAMES } from '../../../policies/schema';
import { semanticProblems } from '../../../policies/semantics';

const policy = { id: 'p', version: 'abc123abc123' };
const verdict = (over: Partial<Verdict> = {}): Verdict => ({ guard: 'g', model: 'm', label: 'x', score: 0.1, categories: [], latencyMs: 1, segmentsScanned: 1, ...over });
const rule = (over: Record<string, unknown> & { id: string }) => Rule.parse({ guard: 'g', ...over });

describe('a rule with findings and no threshold', () => {
  const hidden = rule({ id: 'hidden', findings: ['hidden_characters', 'mixed_scripts'], action: 'flag' });

  test('fires on a listed finding whatever the score', () => {
    const outcome = evaluateRule(hidden, verdict({ score: 0, categories: ['invisible_characters'] }));
    expect(outcome).toMatchObject({ action: 'flag', effective: 'flag', reason: 'finding invisible_characters' });
    expect(outcome.threshold).toBeUndefined();
    expect(evaluateRule(hidden, verdict({ score: 0.2, categories: ['S1', 'mixed_scripts'] })).action).toBe('flag');
  });

  test('allows a verdict without any of them, however high its score', () => {
    const outcome = evaluateRule(hidden, verdict({ score: 1, categories: ['S1', 'encoded_base64'] }));
    expect(outcome).toMatchObject({ action: 'allow', reason: 'no finding of hidden_characters, mixed_scripts' });
  });

  test('decides a request on its own, and blocks when told to', () => {
    const block = rule({ id: 'b', findings: ['encoded_payload'] });
    const d = decide('input', [block], new Map([['b', verdict({ score: 0.01, categories: ['encoded_rot13'] })]]), policy);
    expect(d).toMatchObject({ action: 'block', decidingRule: 'b', reason: 'b: finding encoded_rot13' });
  });

  test('still follows on_error when the guard failed', () => {
    expect(evaluateRule(hidden, verdict({ error: { type: 'timeout', message: 't' } })).action).toBe('block');
  });
});

describe('a rule with findings and a threshold', () => {
  const obfuscated = rule({ id: 'obf', findings: ['homoglyphs', 'leetspeak'], threshold: 0.5 });

  test('needs both: one of the findings and the score', () => {
    expect(evaluateRule(obfuscated, verdict({ score: 0.6, categories: ['homoglyphs'] }))).toMatchObject({
      action: 'block',
      reason: 'finding homoglyphs; score 0.6 >= threshold 0.5',
    });
    expect(evaluateRule(obfuscated, verdict({ score: 0.4, categories: ['homoglyphs'] }))).toMatchObject({
      action: 'allow',
      reason: 'finding homoglyphs; score 0.4 < threshold 0.5',
    });
    expect(evaluateRule(obfuscated, verdict({ score: 0.99 })).action).toBe('allow');
  });
});

describe('findings among hazard categories', () => {
  test('per-category actions apply to hazard codes only, never to findings', () => {
    const r = rule({ id: 'r', threshold: 0.5, categories: { S6: 'flag' } });
    // Before findings were kept apart, `unicode_tags` counted as an unlisted category (-> block).
    expect(evaluateRule(r, verdict({ score: 0.8, categories: ['S6', 'unicode_tags'] }))).toMatchObject({ action: 'flag', reason: 'score 0.8 >= threshold 0.5; category S6 -> flag' });
  });

  test('a plain threshold rule ignores findings', () => {
    const r = rule({ id: 'r', threshold: 0.9 });
    expect(evaluateRule(r, verdict({ score: 0.2, categories: ['unicode_tags', 'mixed_scripts'] })).action).toBe('allow');
  });
});

describe('the schema', () => {
  test('a rule needs a threshold, findings, or both', () => {
    expect(Rule.safeParse({ id: 'r', guard: 'g' }).error?.issues).toEqual([
      expect.objectContaining({ path: ['threshold'], message: 'missing required field `threshold` (or `findings`, to act on text findings alone)' }),
    ]);
    expect(Rule.safeParse({ id: 'r', guard: 'g', findings: ['mixed_scripts'] }).success).toBe(true);
    expect(Rule.safeParse({ id: 'r', guard: 'g', findings: [] }).success).toBe(false);
    expect(Rule.safeParse({ id: 'r', guard: 'g', findings: ['mixed_script'] }).success).toBe(false);
  });

  test("knows exactly the findings the guards report, and groups name only those", () => {
    expect([...TEXT_FINDING_NAMES]).toEqual([...TEXT_FINDINGS]);
    for (const members of Object.values(FINDING_GROUPS)) for (const m of members) expect(TEXT_FINDINGS).toContain(m);
  });

  test('groups expand to their members', () => {
    expect([...expandFindings(['hidden_characters', 'leetspeak'])].sort()).toEqual(['bidi_controls', 'control_characters', 'invisible_characters', 'leetspeak', 'unicode_tags']);
    expect(expandFindings(['encoded_payload']).size).toBe(5);
  });
});

describe('unreachable rules with findings', () => {
  const problems = (input: unknown[]) =>
    semanticProblems(PolicyFile.parse({ id: 'p', guards: { pg: { type: 'prompt_guard', model: '/m' } }, input })).map((p) => p.message);

  test('a findings rule is not covered by a threshold rule, nor the other way round', () => {
    expect(problems([{ id: 'a', guard: 'pg', threshold: 0.9 }, { id: 'b', guard: 'pg', findings: ['mixed_scripts'] }])).toEqual([]);
    expect(problems([{ id: 'b', guard: 'pg', findings: ['mixed_scripts'] }, { id: 'a', guard: 'pg', threshold: 0.9 }])).toEqual([]);
  });

  test('a findings rule covers a later one on a subset of its findings', () => {
    const [message] = problems([
      { id: 'a', guard: 'pg', findings: ['hidden_characters'] },
      { id: 'b', guard: 'pg', findings: ['unicode_tags'], threshold: 0.5 },
    ]);
    expect(message).toMatch(/^unreachable rule `b`: rule `a` .* \(findings: hidden_characters\) with `block`/);
  });
});
