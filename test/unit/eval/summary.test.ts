import type { GuardOutcome } from '../../../gateway/cli/eval/runGuard';
import type { EvalExample } from '../../../gateway/cli/eval/selection';
import { categorySummaries, naturalCompare, summarize } from '../../../gateway/cli/eval/summary';

const ex = (id: string, dataset: string, label: string, categories: string[] = [], role: EvalExample['role'] = 'user'): EvalExample => ({
  id,
  dataset,
  role,
  text: '',
  label,
  recordLabel: label,
  positive: label !== 'safe' && label !== 'benign',
  categories,
});
const ok = (score: number): GuardOutcome => ({ score, label: 'x', categories: [] });

describe('summarize', () => {
  const examples = [
    ex('a-1', 'a', 'safe'),
    ex('a-2', 'a', 'safe'),
    ex('b-1', 'b', 'unsafe', ['S1', 'S10']),
    ex('b-2', 'b', 'unsafe', ['S2']),
    ex('b-3', 'b', 'unsafe'),
    ex('b-4', 'b', 'unsafe', ['S1'], 'assistant'),
  ];
  const outcomes: GuardOutcome[] = [ok(0.1), ok(0.4), ok(0.35), ok(0.8), { error: { type: 'timeout', message: 'slow' } }, ok(0.9)];
  const { summary, curves } = summarize(examples, outcomes, (e) => (e.role === 'assistant' ? 0.5 : 0.3));

  it('excludes guard errors from the metrics and counts them', () => {
    expect(summary.n).toBe(5);
    expect(summary.errors).toEqual({ count: 1, by_type: { timeout: 1 }, samples: [{ id: 'b-3', type: 'timeout', message: 'slow' }] });
  });

  it('computes the headline figures with per-role thresholds', () => {
    // negatives 0.1, 0.4; positives 0.35, 0.8, 0.9 -> pairs won: 0.35>0.1, 0.8, 0.9 beat both -> 5/6
    expect(summary.auroc).toBeCloseTo(5 / 6, 12);
    expect(summary.confusion).toEqual({ tp: 3, fp: 1, tn: 1, fn: 0 });
    expect(summary.threshold).toBeNull();
    expect(summary.thresholds).toEqual({ user: 0.3, assistant: 0.5 });
    expect(summary.precision).toBeCloseTo(0.75, 12);
    expect(summary.recall).toBe(1);
    expect(summary.fpr).toBe(0.5);
    // threshold 0.8 flags two positives and no negative; 0.35 would add a false alarm out of 2 negatives
    expect(summary.recall_at_1pct_fpr).toBeCloseTo(2 / 3, 12);
    expect(summary.threshold_at_1pct_fpr).toBe(0.8);
    expect(curves.roc?.[0]).toEqual({ threshold: Infinity, fpr: 0, tpr: 0 });
  });

  it("counts a record another rule flagged as flagged at the threshold; the ranking figures stay on the run's score", () => {
    const two = [ex('u-1', 'u', 'safe'), ex('u-2', 'u', 'safe'), ex('u-3', 'u', 'jailbreak'), ex('u-4', 'u', 'jailbreak')];
    // u-2 and u-4 score under 0.5 but the other rule fires on them.
    const { summary: alone } = summarize(two, [ok(0.1), ok(0.2), ok(0.9), ok(0.3)], () => 0.5);
    const { summary: both } = summarize(two, [ok(0.1), ok(0.2), ok(0.9), ok(0.3)], () => 0.5, (i) => i === 1 || i === 3);
    expect(alone).toMatchObject({ recall: 0.5, fpr: 0, confusion: { tp: 1, fp: 0, tn: 2, fn: 1 } });
    expect(both).toMatchObject({ recall: 1, fpr: 0.5, confusion: { tp: 2, fp: 1, tn: 1, fn: 0 } });
    expect(both.by_source.u).toMatchObject({ tp: 2, fp: 1 });
    expect(both.auroc).toBe(alone.auroc);
    expect(both.recall_at_1pct_fpr).toBe(alone.recall_at_1pct_fpr);
  });

  it('breaks down by a guess at the language, English first, with over-blocking per language', () => {
    const texts = ['How do I bake bread?', '¿Cuál es la capital de Francia?', 'What is the capital of France?', 'Какая столица Австралии?'];
    const langExamples = texts.map((text, i) => ({ ...ex(`l-${i}`, 'l', 'safe'), text }));
    const { summary: bl } = summarize(langExamples, [ok(0.1), ok(0.9), ok(0.2), ok(0.95)], () => 0.5);
    expect(Object.keys(bl.by_language)).toEqual(['English', 'Spanish', 'Cyrillic']);
    expect(bl.by_language.English).toMatchObject({ n: 2, negatives: 2, fp: 0, fpr: 0 });
    expect(bl.by_language.Spanish).toMatchObject({ n: 1, fp: 1, fpr: 1 });
    expect(bl.by_language.Cyrillic).toMatchObject({ n: 1, fp: 1, fpr: 1 });
  });

  it('breaks down by source, role, label and category', () => {
    expect(Object.keys(summary.by_source)).toEqual(['a', 'b']);
    expect(summary.by_source.a).toMatchObject({ n: 2, positives: 0, negatives: 2, recall: null, fpr: 0.5, auroc: null, auprc: null });
    // positives only: AP would be a meaningless 1 (sklearn), so it is undefined like AUROC
    expect(summary.by_source.b).toMatchObject({ n: 3, positives: 3, recall: 1, fpr: null, auroc: null, auprc: null });
    expect(summary.by_role.assistant).toMatchObject({ n: 1, tp: 1 });
    expect(Object.keys(summary.by_label)).toEqual(['safe', 'unsafe']);
    expect(summary.by_category).toEqual([
      { category: 'S1', positives: 2, detected: 2, recall: 1 },
      { category: 'S2', positives: 1, detected: 1, recall: 1 },
      { category: 'S10', positives: 1, detected: 1, recall: 1 },
    ]);
  });

  it('reports one threshold when every role uses the same', () => {
    expect(summarize(examples, outcomes, () => 0.5).summary.threshold).toBe(0.5);
  });

  it('survives one class only and all-error runs with nulls', () => {
    const single = summarize([ex('a-1', 'a', 'safe')], [ok(0.2)], () => 0.5).summary;
    expect(single).toMatchObject({ n: 1, auroc: null, auprc: null, recall_at_1pct_fpr: null, precision: null, recall: null, f1: null, fpr: 0 });
    const failed = summarize([ex('a-1', 'a', 'safe')], [{ error: { type: 'model_error', message: 'x' } }], () => 0.5).summary;
    expect(failed).toMatchObject({ n: 0, auroc: null, fpr: null, threshold: 0.5, errors: { count: 1 } });
    expect(JSON.stringify(failed)).not.toMatch(/NaN/);
  });
});

describe('category breakdown', () => {
  it('counts positives without categories under none, last', () => {
    const items = [
      { score: 0.9, positive: true, threshold: 0.5, flagged: true, example: ex('1', 'x', 'jailbreak') },
      { score: 0.1, positive: true, threshold: 0.5, flagged: false, example: ex('2', 'x', 'jailbreak', ['pos:start']) },
      { score: 0.9, positive: false, threshold: 0.5, flagged: true, example: ex('3', 'x', 'benign', ['S1']) },
    ];
    expect(categorySummaries(items)).toEqual([
      { category: 'pos:start', positives: 1, detected: 0, recall: 0 },
      { category: 'none', positives: 1, detected: 1, recall: 1 },
    ]);
  });

  it('sorts S-codes numerically', () => {
    expect(['S10', 'S2', 'S1', 'S14'].sort(naturalCompare)).toEqual(['S1', 'S2', 'S10', 'S14']);
  });
});
