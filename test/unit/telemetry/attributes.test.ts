import { leadingOutcome, outcomeAttributes, SECURITY, verdictAttributes } from '../../../gateway/telemetry/attributes';
import { evaluateRule } from '../../../policies/evaluate';
import { rule, verdict } from '../../support/requestRecords';

describe('gen_ai.security attributes', () => {
  test('a verdict maps to the guardrail and verdict attributes', () => {
    const attrs = verdictAttributes(verdict('llama_guard', 0.9, { categories: ['S1', 'S10'], error: undefined }), 'output');
    expect(attrs).toEqual({
      [SECURITY.GUARDRAIL_NAME]: 'llama_guard',
      [SECURITY.GUARDRAIL_MODEL]: 'llama_guard-model',
      [SECURITY.DIRECTION]: 'output',
      [SECURITY.VERDICT_LABEL]: 'unsafe',
      [SECURITY.VERDICT_SCORE]: 0.9,
      [SECURITY.VERDICT_CATEGORIES]: ['S1', 'S10'],
      [SECURITY.SEGMENTS_SCANNED]: 1,
      [SECURITY.LATENCY_MS]: 3.25,
    });
    expect(verdictAttributes(verdict('g', 0, { error: { type: 'timeout', message: 'slow' } }), 'input')[SECURITY.ERROR_TYPE]).toBe('timeout');
  });

  test('a rule outcome adds rule, action, mode and policy', () => {
    const outcome = evaluateRule(rule('r1', 'g', { mode: 'shadow' }), verdict('g', 0.9));
    expect(outcomeAttributes(outcome, { id: 'p', version: 'v1' })).toMatchObject({
      [SECURITY.RULE_ID]: 'r1',
      [SECURITY.RULE_ACTION]: 'block',
      [SECURITY.ACTION]: 'allow',
      [SECURITY.MODE]: 'shadow',
      [SECURITY.POLICY_ID]: 'p',
      [SECURITY.POLICY_VERSION]: 'v1',
    });
  });

  test('of rules sharing a run, the most severe enforced outcome leads, then the most severe shadow one', () => {
    const allow = evaluateRule(rule('low', 'g', { threshold: 0.95 }), verdict('g', 0.9));
    const shadowBlock = evaluateRule(rule('shadow', 'g', { mode: 'shadow' }), verdict('g', 0.9));
    const flag = evaluateRule(rule('flag', 'g', { action: 'flag' }), verdict('g', 0.9));
    expect(leadingOutcome([allow, shadowBlock])?.ruleId).toBe('shadow');
    expect(leadingOutcome([allow, shadowBlock, flag])?.ruleId).toBe('flag');
    expect(leadingOutcome([])).toBeUndefined();
  });

  test('every name lives in its namespace', () => {
    for (const name of Object.values(SECURITY)) expect(name.startsWith('gen_ai.security.')).toBe(true);
  });
});
