import type { DataRecord } from '../../../gateway/cli/eval/records';
import { sampleByIdHash, selectExamples } from '../../../gateway/cli/eval/selection';
import { isPositiveLabel, isSkilledPersona, labelFor, taskALabel, taskBLabel, taskCategories } from '../../../gateway/cli/eval/tasks';

let seq = 0;
const rec = (over: Partial<DataRecord>): DataRecord => ({
  text: `text ${seq}`,
  label: 'safe',
  categories: [],
  role: 'user',
  source: 'o/r@c:f',
  task: 'B',
  id: `ds-${String(seq++).padStart(6, '0')}`,
  dataset: 'ds',
  ...over,
});

describe('Task A assembly (SPLITS.md section 2)', () => {
  it("keeps Task A records' own labels", () => {
    expect(taskALabel(rec({ task: 'A', label: 'jailbreak' }))).toBe('jailbreak');
    expect(taskALabel(rec({ task: 'A', label: 'injection', role: 'document' }))).toBe('injection');
  });

  it('makes Task B user, document and tool rows benign, harmful requests included', () => {
    expect(taskALabel(rec({ label: 'unsafe', role: 'user' }))).toBe('benign');
    expect(taskALabel(rec({ role: 'document' }))).toBe('benign');
    expect(taskALabel(rec({ role: 'tool' }))).toBe('benign');
  });

  it('takes assistant rows from benign-chat only', () => {
    expect(taskALabel(rec({ role: 'assistant', dataset: 'benign-chat' }))).toBe('benign');
    expect(taskALabel(rec({ role: 'assistant', dataset: 'gptfuzz', label: 'unsafe' }))).toBeUndefined();
  });

  it('leaves out AILuminate skilled-persona prompts (persona is marked in orig_label)', () => {
    const skilled = rec({ dataset: 'ailuminate-demo', label: 'unsafe', orig_label: 'cse|persona=skilled|locale=en_US' });
    const unskilled = rec({ dataset: 'ailuminate-demo', label: 'unsafe', orig_label: 'cse|persona=unskilled|locale=en_US' });
    expect(isSkilledPersona(skilled)).toBe(true);
    expect(taskALabel(skilled)).toBeUndefined();
    expect(taskALabel(unskilled)).toBe('benign');
    // Task B keeps them.
    expect(taskBLabel(skilled)).toBe('unsafe');
  });
});

describe('Task B assembly (SPLITS.md section 3)', () => {
  it('keeps safe / unsafe, drops unclear and Task A rows', () => {
    expect(taskBLabel(rec({ label: 'unsafe' }))).toBe('unsafe');
    expect(taskBLabel(rec({ label: 'unclear' }))).toBeUndefined();
    expect(taskBLabel(rec({ task: 'A', label: 'jailbreak' }))).toBeUndefined();
  });

  it('keeps only S-codes as categories', () => {
    expect(taskCategories(rec({ categories: ['S1', 'S14', 'misc'] }), 'B')).toEqual(['S1', 'S14']);
    expect(taskCategories(rec({ categories: ['pos:start'] }), 'A')).toEqual(['pos:start']);
  });
});

describe('labels', () => {
  it('treats every label except benign / safe as positive', () => {
    expect(['benign', 'safe', 'injection', 'jailbreak', 'unsafe'].map(isPositiveLabel)).toEqual([false, false, true, true, true]);
  });

  it("uses the record's own label when no task is chosen", () => {
    expect(labelFor(rec({ task: 'A', label: 'jailbreak' }), undefined)).toBe('jailbreak');
  });
});

describe('selectExamples', () => {
  const records = [
    rec({ label: 'safe' }),
    rec({ label: 'unsafe', categories: ['S1'] }),
    rec({ label: 'unclear' }),
    rec({ task: 'A', label: 'jailbreak' }),
    rec({ role: 'assistant', label: 'unsafe', dataset: 'gptfuzz' }),
  ];

  it('skips unclear rows and counts why records were left out', () => {
    const { examples, skipped } = selectExamples(records, {});
    expect(examples.map((e) => [e.label, e.positive])).toEqual([
      ['safe', false],
      ['unsafe', true],
      ['jailbreak', true],
      ['unsafe', true],
    ]);
    expect(skipped).toMatchObject({ unclear: 1, not_in_task: 0 });
  });

  it('assembles the task labels', () => {
    const a = selectExamples(records, { task: 'A' });
    expect(a.examples.map((e) => e.label)).toEqual(['benign', 'benign', 'benign', 'jailbreak']);
    expect(a.skipped.not_in_task).toBe(1);
    const b = selectExamples(records, { task: 'B' });
    expect(b.examples.map((e) => e.label)).toEqual(['safe', 'unsafe', 'unsafe']);
    expect(b.skipped).toMatchObject({ not_in_task: 1, unclear: 1 });
  });

  it('filters by split, role and record label', () => {
    const bySplit = selectExamples(records, { split: 'test', splitOf: (r) => (r === records[1] ? 'test' : 'train') });
    expect(bySplit.examples.map((e) => e.id)).toEqual([records[1].id]);
    expect(bySplit.skipped.other_split).toBe(4);
    const byRole = selectExamples(records, { roles: new Set(['assistant']) });
    expect(byRole.examples).toHaveLength(1);
    const byLabel = selectExamples(records, { labels: new Set(['safe']), task: 'A' });
    expect(byLabel.examples.map((e) => [e.label, e.recordLabel])).toEqual([['benign', 'safe']]);
  });

  it('filters by orig_label prefix (e.g. CoCoNot contrast prompts) and keeps the group', () => {
    const rows = [
      rec({ dataset: 'coconot', orig_label: 'contrast|Requests with safety concerns|dangerous' }),
      rec({ dataset: 'coconot', orig_label: 'pref|Incomplete requests|underspecified' }),
      rec({ dataset: 'coconot' }),
      rec({ dataset: 'synth', group: 'g7', role: 'document', task: 'A', label: 'benign' }),
    ];
    const contrast = selectExamples(rows, { origLabelPrefixes: ['contrast|'] });
    expect(contrast.examples.map((e) => e.id)).toEqual([rows[0].id]);
    expect(contrast.skipped.filtered).toBe(3);
    expect(selectExamples(rows, { task: 'A', roles: new Set(['document']) }).examples[0].group).toBe('g7');
  });

  it('limits to a fixed sample that a larger limit extends', () => {
    const many = Array.from({ length: 50 }, (_, i) => rec({ id: `x-${String(i).padStart(6, '0')}`, dataset: 'x' }));
    const five = sampleByIdHash(many, 5);
    const ten = sampleByIdHash(many, 10);
    expect(five).toHaveLength(5);
    expect(sampleByIdHash(many, 5)).toEqual(five);
    expect(five.every((r) => ten.includes(r))).toBe(true);
    // input order is kept
    expect(five.map((r) => many.indexOf(r))).toEqual([...five.map((r) => many.indexOf(r))].sort((a, b) => a - b));
    expect(selectExamples(many, { limit: 5 }).skipped.over_limit).toBe(45);
  });
});
