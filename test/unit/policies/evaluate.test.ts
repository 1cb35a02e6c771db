import type { Verdict } from '../../../guards/types';
import { combinedAction, combinedActionOf, decide, evaluateRule, type Decision } from '../../../policies/evaluate';
import { Rule } from '../../../policies/schema';

const policy = { id: 'p', version: 'abc123abc123' };
const verdict = (over: Partial<Verdict> = {}): Verdict => ({ guard: 'g', model: 'm', label: 'x', score: 0.5, categories: [], latencyMs: 1, segmentsScanned: 1, ...over });
const rule = (over: Partial<Rule> & { id: string }) => Rule.parse({ guard: 'g', threshold: 0.9, ...over });

describe('evaluateRule', () => {
  test('score under the threshold allows, at or over applies the action', () => {
    expect(evaluateRule(rule({ id: 'r' }), verdict({ score: 0.89 })).action).toBe('allow');
    const hit = evaluateRule(rule({ id: 'r' }), verdict({ score: 0.9 }));
    expect(hit.action).toBe('block');
    expect(hit.reason).toBe('score 0.9 >= threshold 0.9');
    expect(evaluateRule(rule({ id: 'r', action: 'flag' }), verdict({ score: 0.95 })).action).toBe('flag');
  });

  test('guard errors follow on_error, closed by default', () => {
    const err = verdict({ error: { type: 'timeout', message: 't' } });
    expect(evaluateRule(rule({ id: 'r' }), err)).toMatchObject({ action: 'block', errorType: 'timeout' });
    expect(evaluateRule(rule({ id: 'r', on_error: 'allow' }), err).action).toBe('allow');
  });

  test('per-category actions: the most severe listed category wins, unlisted use the rule action', () => {
    const r = rule({ id: 'r', threshold: 0.5, categories: { S6: 'flag', S8: 'allow' } });
    expect(evaluateRule(r, verdict({ score: 0.8, categories: ['S8'] })).action).toBe('allow');
    expect(evaluateRule(r, verdict({ score: 0.8, categories: ['S6', 'S8'] })).action).toBe('flag');
    expect(evaluateRule(r, verdict({ score: 0.8, categories: ['S6', 'S1'] })).action).toBe('block');
  });

  test('a threshold under the guard\'s unsafe cut: the leanings from the threshold up take their categories\' actions', () => {
    const r = rule({ id: 'r', threshold: 0.2, categories: { S2: 'allow', S6: 'flag' } });
    // "How do lock picks work?" at 0.238, pointing at S2: allowed like the worse phrasing above 0.5.
    expect(evaluateRule(r, verdict({ score: 0.238, leanings: { S2: 0.238 } }))).toMatchObject({ action: 'allow', categories: ['S2'] });
    // A second text pointing at S1 from 0.21 up: S1 has no exception, so the rule's action.
    expect(evaluateRule(r, verdict({ score: 0.3, leanings: { S2: 0.3, S1: 0.21 } })).action).toBe('block');
    // One pointing at S1 under the threshold does not count.
    expect(evaluateRule(r, verdict({ score: 0.3, leanings: { S2: 0.3, S1: 0.15 } })).action).toBe('allow');
    // Without leanings (a guard that names categories only when unsafe), the rule's action.
    expect(evaluateRule(r, verdict({ score: 0.3 })).action).toBe('block');
    // A rule at 0.5 and up never reads them: the verdict's own categories decide.
    expect(evaluateRule(rule({ id: 'hi', threshold: 0.5, categories: { S2: 'allow' } }), verdict({ score: 0.6, categories: ['S1'], leanings: { S2: 0.4 } })).action).toBe('block');
  });

  test("a category code that names a built-in object member (the model wrote it) gets the rule's action", () => {
    const r = rule({ id: 'r', threshold: 0.5, categories: { S6: 'allow', S7: 'flag' } });
    for (const code of ['toString', 'constructor', '__proto__', 'hasOwnProperty']) {
      expect(evaluateRule(r, verdict({ score: 0.99, categories: [code] }))).toMatchObject({ action: 'block', effective: 'block' });
      expect(decide('input', [r], new Map([['r', verdict({ score: 0.99, categories: [code, 'S6'] })]]), { id: 'p', version: 'v' }).action).toBe('block');
    }
  });

  test("a block a verdict earned decides over an earlier rule's guard error at the same severity (a content block, not a failed guard)", () => {
    const rules = [rule({ id: 'a', guard: 'pg' }), rule({ id: 'b', guard: 'lg' })];
    const verdicts = new Map([
      ['a', verdict({ guard: 'pg', error: { type: 'timeout', message: 't' } })],
      ['b', verdict({ guard: 'lg', score: 0.99 })],
    ]);
    expect(decide('input', rules, verdicts, policy)).toMatchObject({ action: 'block', decidingRule: 'b' });
    // Errors alone: the first still decides (the pipeline turns that into a 503 guard fault).
    const bothFail = new Map([...verdicts, ['b', verdict({ guard: 'lg', error: { type: 'timeout', message: 't' } })]]);
    expect(decide('input', rules, bothFail, policy)).toMatchObject({ action: 'block', decidingRule: 'a' });
    // A stricter action still wins over order and origin: a flag by content does not hide an error's block.
    const flagged = [rule({ id: 'a', guard: 'pg' }), rule({ id: 'b', guard: 'lg', action: 'flag' })];
    expect(decide('input', flagged, verdicts, policy)).toMatchObject({ action: 'block', decidingRule: 'a' });
  });

  test('shadow mode records the would-be action but changes nothing', () => {
    const outcome = evaluateRule(rule({ id: 'r', mode: 'shadow' }), verdict({ score: 0.99 }));
    expect(outcome).toMatchObject({ action: 'block', effective: 'allow' });
  });
});

describe('decide', () => {
  test('the most severe enforced outcome decides and is named', () => {
    const rules = [rule({ id: 'a', action: 'flag' }), rule({ id: 'b' }), rule({ id: 'c', mode: 'shadow' })];
    const d = decide('input', rules, new Map([['a', verdict({ score: 0.95 })], ['b', verdict({ score: 0.97 })], ['c', verdict({ score: 0.99 })]]), policy);
    expect(d.action).toBe('block');
    expect(d.decidingRule).toBe('b');
    expect(d.shadow.map((s) => s.ruleId)).toEqual(['c']);
    expect(d.policy).toEqual(policy);
  });

  test('a rule without a verdict counts as a guard error, never as silently allowed', () => {
    const d = decide('input', [rule({ id: 'a' })], new Map(), policy);
    expect(d.action).toBe('block');
    expect(d.outcomes[0].errorType).toBe('unavailable');
  });

  test('nothing over threshold allows', () => {
    const d = decide('output', [rule({ id: 'a' })], new Map([['a', verdict({ score: 0.1 })]]), policy);
    expect(d).toMatchObject({ action: 'allow', decidingRule: undefined, reason: 'all rules allowed' });
  });
});

describe('the action of several decisions', () => {
  const decision = (action: Decision['action']): Decision => ({ direction: 'output', action, reason: '', outcomes: [], shadow: [], policy: { id: 'p', version: '1' } });

  test('the strictest wins, whatever the order; none is an allow', () => {
    expect(combinedAction(decision('flag'), undefined, decision('block'), decision('allow'))).toBe('block');
    expect(combinedAction(decision('allow'), decision('flag'))).toBe('flag');
    expect(combinedAction()).toBe('allow');
  });

  test('a list longer than a call takes as arguments (a text completion of 2,048 prompts x 64 choices)', () => {
    const many = Array.from({ length: 131_072 }, () => decision('allow'));
    many[100_000] = decision('block');
    expect(combinedActionOf(many)).toBe('block');
  });
});
