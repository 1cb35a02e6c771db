import { mergeAnswerPhases } from '../../../gateway/pipeline/guardChecks';
import { guardFault } from '../../../gateway/pipeline/guardFault';
import { phase, rule, verdict } from '../../support/requestRecords';

/**
 * An answer's bookkeeping (ids, member names, values engines never send) is checked as a text of
 * its own; the two phases become one, rule by rule, so nothing the policy would act on is lost
 * and a content verdict is never turned into a guard fault.
 */
const POLICY = { id: 'p', version: 'v' };
const unsafe = rule('unsafe-answer', 'llama_guard');
const flagged = rule('watch', 'llama_guard', { action: 'flag', threshold: 0.6 });
const shadow = rule('strict', 'llama_guard', { mode: 'shadow', threshold: 0.2 });
const down = verdict('llama_guard', 0, { label: 'error', error: { type: 'timeout', message: 't' } });

describe('mergeAnswerPhases (pure)', () => {
  test('a block in the bookkeeping decides, its verdict recorded for that rule; the answer\'s stand elsewhere', () => {
    const main = phase('output', [[unsafe, verdict('llama_guard', 0.1)], [flagged, verdict('llama_guard', 0.7)]]);
    const side = phase('output', [[unsafe, verdict('llama_guard', 0.97, { worstPath: 'choices[0].bookkeeping' })], [flagged, verdict('llama_guard', 0.3)]]);
    const merged = mergeAnswerPhases([unsafe, flagged], main, side, POLICY);
    expect(merged.decision).toMatchObject({ action: 'block', decidingRule: 'unsafe-answer' });
    expect(merged.verdicts.map((v) => [v.ruleId, v.verdict.score])).toEqual([
      ['unsafe-answer', 0.97],
      ['watch', 0.7],
    ]);
    // The verdicts that did not decide are kept, not dropped.
    expect(merged.otherReadings?.map((v) => [v.ruleId, v.verdict.score])).toEqual([
      ['unsafe-answer', 0.1],
      ['watch', 0.3],
    ]);
  });

  test('a content block beats a guard error at the same severity: a block, not a 503 fault', () => {
    const merged = mergeAnswerPhases([unsafe], phase('output', [[unsafe, down]]), phase('output', [[unsafe, verdict('llama_guard', 0.99)]]), POLICY);
    expect(merged.decision.action).toBe('block');
    expect(guardFault(merged.decision)).toBeUndefined();
    // Both errors: a fault, as either alone would be.
    expect(guardFault(mergeAnswerPhases([unsafe], phase('output', [[unsafe, down]]), phase('output', [[unsafe, down]]), POLICY).decision)).toBeDefined();
  });

  test('equal outcomes keep the answer\'s verdict; a shadow rule keeps what it would do', () => {
    const merged = mergeAnswerPhases(
      [flagged, shadow],
      phase('output', [[flagged, verdict('llama_guard', 0.7)], [shadow, verdict('llama_guard', 0.1)]]),
      phase('output', [[flagged, verdict('llama_guard', 0.95)], [shadow, verdict('llama_guard', 0.4)]]),
      POLICY,
    );
    expect(merged.verdicts.map((v) => [v.ruleId, v.verdict.score])).toEqual([
      ['watch', 0.7],
      ['strict', 0.4],
    ]);
    expect(merged.decision).toMatchObject({ action: 'flag', shadow: [expect.objectContaining({ ruleId: 'strict', action: 'block' })] });
  });
});
