import { createHash } from 'node:crypto';

/**
 * The fixed train / validation / test / eval_only splits of ../shared/data/SPLITS.md, section 1,
 * bit for bit as guards/training/splits.py computes them: a model trained on Python's train split
 * must be evaluated on exactly the records Python held out, so every detail below mirrors Python.
 */

export type Split = 'train' | 'validation' | 'test' | 'eval_only';
export type BucketSplit = Exclude<Split, 'eval_only'>;

export const SPLITS: readonly Split[] = ['train', 'validation', 'test', 'eval_only'];

/** Rule 4's order: a text seen in several splits goes to the latest. */
const SPLIT_ORDER: Record<BucketSplit, number> = { train: 0, validation: 1, test: 2 };

/** Rule 5: sets never trained on. */
export const EVAL_ONLY_DATASETS: ReadonlySet<string> = new Set([
  'xstest',
  'simplesafetytests',
  'openai-moderation',
  'safety-tuned-llamas',
  'dices',
]);

/**
 * Python's `\s` (and str.strip()) for str patterns: the characters str.isspace() accepts. JS's
 * `\s` differs (it adds U+FEFF and lacks U+001C-U+001F and U+0085), which would move records
 * whose text contains them into another bucket.
 */
const PY_WHITESPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const WHITESPACE_RUN = new RegExp(`[${PY_WHITESPACE}]+`, 'g');
const EDGE_WHITESPACE = new RegExp(`^[${PY_WHITESPACE}]+|[${PY_WHITESPACE}]+$`, 'g');

/** Rule 1 (`common.norm`): NFKC, whitespace runs to one space, strip, lowercase. */
export function normText(text: string): string {
  return text.normalize('NFKC').replace(WHITESPACE_RUN, ' ').replace(EDGE_WHITESPACE, '').toLowerCase();
}

export interface SplitFields {
  text: string;
  group?: string;
  dataset: string;
  orig_label?: string;
  source: string;
}

/** Rule 2: records sharing a group stay together; otherwise the text decides. */
export function splitKey(record: Pick<SplitFields, 'text' | 'group' | 'dataset'>, normed?: string): string {
  if (record.group !== undefined && record.group !== '') return `g:${record.dataset}:${record.group}`;
  return `t:${normed ?? normText(record.text)}`;
}

/** Rule 3: the first 8 hex digits of sha256(key) as an integer, mod 100. */
export function bucketOf(key: string): number {
  const hex = createHash('sha256').update(key, 'utf8').digest('hex');
  return parseInt(hex.slice(0, 8), 16) % 100;
}

export function splitForBucket(bucket: number): BucketSplit {
  if (bucket < 80) return 'train';
  if (bucket < 90) return 'validation';
  return 'test';
}

/**
 * MaliciousInstruct rows of harmful-behaviors (no license) are eval-only. StrongREJECT rows whose
 * orig_label merely ends in `|MaliciousInstruct` are StrongREJECT's own and stay in the splits.
 */
export function isMaliciousInstruct(record: Pick<SplitFields, 'orig_label' | 'source'>): boolean {
  return record.orig_label === 'maliciousinstruct' || record.source.endsWith(':data/MaliciousInstruct.txt');
}

/** Rule 5. */
export function isEvalOnly(record: SplitFields): boolean {
  if (EVAL_ONLY_DATASETS.has(record.dataset)) return true;
  return record.dataset === 'harmful-behaviors' && isMaliciousInstruct(record);
}

/** Rules 1-3 and 5 for one record, without rule 4's look at the other records. */
export function ownSplit(record: SplitFields, normed?: string): Split {
  if (isEvalOnly(record)) return 'eval_only';
  return splitForBucket(bucketOf(splitKey(record, normed)));
}

export interface SplitAssignment {
  /** One split per record, in input order. */
  splits: Split[];
  /** How many records rule 4 moved. */
  moved: number;
}

/**
 * All five rules over a whole collection. Rule 4 needs every loaded set at once: the same text in
 * two datasets can land in different buckets, and a test copy must not have a train twin.
 */
export function assignSplits(records: readonly SplitFields[]): SplitAssignment {
  const norms = records.map((r) => normText(r.text));
  const splits = records.map((r, i) => ownSplit(r, norms[i]));
  const latest = new Map<string, BucketSplit>();
  splits.forEach((split, i) => {
    if (split === 'eval_only') return;
    const seen = latest.get(norms[i]);
    if (seen === undefined || SPLIT_ORDER[split] > SPLIT_ORDER[seen]) latest.set(norms[i], split);
  });
  let moved = 0;
  const final = splits.map((split, i) => {
    if (split === 'eval_only') return split;
    const target = latest.get(norms[i]) as BucketSplit;
    if (target !== split) moved += 1;
    return target;
  });
  return { splits: final, moved };
}
