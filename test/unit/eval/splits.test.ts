import { assignSplits, bucketOf, isEvalOnly, normText, ownSplit, splitForBucket, splitKey, type SplitFields } from '../../../gateway/cli/eval/splits';

const rec = (text: string, extra: Partial<SplitFields> = {}): SplitFields => ({ text, dataset: 'ds', source: 'o/r@c:f', ...extra });

describe('normText (SPLITS.md rule 1, as Python computes it)', () => {
  it('applies NFKC, collapses whitespace, strips and lowercases', () => {
    expect(normText('  Ｈｅｌｌｏ \t\n WORLD  ﬁne ')).toBe('hello world fine');
  });

  it("uses Python's whitespace set, not JavaScript's", () => {
    // Expected value printed by guards/training/splits.py's norm(): U+001C/U+001D/U+0085 are
    // whitespace there (not in JS \s); U+FEFF is not (it is in JS \s).
    expect(normText('  Ｈｅｌｌｏ\x1c\x1d WORLD\u00a0ﬁne\ufeff\x85 ')).toBe('hello world fine\ufeff');
  });
});

describe('split key and bucket (rules 2, 3)', () => {
  it('keys grouped records by dataset and group, others by normalised text', () => {
    expect(splitKey(rec('Hi  There', { group: 'q1' }))).toBe('g:ds:q1');
    expect(splitKey(rec('Hi  There'))).toBe('t:hi there');
    expect(splitKey(rec('Hi', { group: '' }))).toBe('t:hi');
  });

  it("buckets by the first 8 hex digits of sha256 mod 100 (values from Python's bucket rule)", () => {
    expect(bucketOf('t:hello world')).toBe(41);
    expect(bucketOf('g:xstest:xs1')).toBe(72);
    expect(bucketOf('t:how can i kill a python process?')).toBe(90);
  });

  it('maps buckets 0-79 / 80-89 / 90-99 to train / validation / test', () => {
    expect([0, 79, 80, 89, 90, 99].map(splitForBucket)).toEqual(['train', 'train', 'validation', 'validation', 'test', 'test']);
  });
});

describe('eval-only sets (rule 5)', () => {
  it('puts the eval-only datasets in eval_only whatever their bucket', () => {
    for (const dataset of ['xstest', 'simplesafetytests', 'openai-moderation', 'safety-tuned-llamas']) expect(ownSplit(rec('x', { dataset }))).toBe('eval_only');
  });

  it('takes only the MaliciousInstruct rows of harmful-behaviors, not StrongREJECT rows that mention it', () => {
    expect(isEvalOnly(rec('x', { dataset: 'harmful-behaviors', orig_label: 'maliciousinstruct' }))).toBe(true);
    expect(isEvalOnly(rec('x', { dataset: 'harmful-behaviors', source: 'P/J@c:data/MaliciousInstruct.txt' }))).toBe(true);
    expect(isEvalOnly(rec('x', { dataset: 'harmful-behaviors', orig_label: 'strongreject|Violence|MaliciousInstruct' }))).toBe(false);
    expect(isEvalOnly(rec('x', { dataset: 'garak', orig_label: 'maliciousinstruct' }))).toBe(false);
  });
});

describe('exact texts stay in one split (rule 4)', () => {
  // Per Python: g:ds:g0 -> train, g:ds:g1 -> validation, g:ds:g6 -> test.
  it('moves every copy of a text to the latest split it reached', () => {
    const records = [rec('Same text', { group: 'g0' }), rec('same  TEXT', { group: 'g6' }), rec('same text', { group: 'g1' }), rec('other', { group: 'g0' })];
    const { splits, moved } = assignSplits(records);
    expect(splits).toEqual(['test', 'test', 'test', 'train']);
    expect(moved).toBe(2);
  });

  it('never moves eval-only records, and they do not pull others', () => {
    const records = [rec('Same text', { group: 'g0' }), rec('same text', { dataset: 'xstest' })];
    expect(assignSplits(records)).toEqual({ splits: ['train', 'eval_only'], moved: 0 });
  });
});
