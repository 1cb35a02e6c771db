import { createHash } from 'node:crypto';
import type { DataRecord, RecordRole } from './records';
import type { Split } from './splits';
import { isPositiveLabel, labelFor, taskCategories, UNSCORED_LABELS, type EvalTask } from './tasks';

/** A record as evaluated: its label for the chosen task and whether the guard should flag it. */
export interface EvalExample {
  id: string;
  dataset: string;
  role: RecordRole;
  text: string;
  /** The label for the task (Task A / B assembly) or the record's own label. */
  label: string;
  /** The record's own label, before task assembly. */
  recordLabel: string;
  positive: boolean;
  categories: string[];
  /** The record's group (a clean carrier and its injected copy share one). */
  group?: string;
}

export interface SelectionOptions {
  task?: EvalTask;
  /** Keep only records in this split; needs `splitOf`. */
  split?: Split;
  splitOf?: (record: DataRecord) => Split;
  /** Keep only these roles / these record labels (before task assembly). */
  roles?: ReadonlySet<string>;
  labels?: ReadonlySet<string>;
  /** Keep only records whose orig_label starts with one of these (e.g. CoCoNot's `contrast|`). */
  origLabelPrefixes?: readonly string[];
  limit?: number;
}

/** Why records were left out, so the report can account for every input line. */
export interface SkipCounts {
  not_in_task: number;
  unclear: number;
  other_split: number;
  filtered: number;
  over_limit: number;
}

export function emptySkips(): SkipCounts {
  return { not_in_task: 0, unclear: 0, other_split: 0, filtered: 0, over_limit: 0 };
}

export function selectExamples(records: readonly DataRecord[], options: SelectionOptions): { examples: EvalExample[]; skipped: SkipCounts } {
  const skipped = emptySkips();
  const examples: EvalExample[] = [];
  for (const record of records) {
    const prefixes = options.origLabelPrefixes;
    if (
      (options.roles && !options.roles.has(record.role)) ||
      (options.labels && !options.labels.has(record.label)) ||
      (prefixes && !prefixes.some((p) => (record.orig_label ?? '').startsWith(p)))
    ) {
      skipped.filtered += 1;
      continue;
    }
    if (options.split && options.splitOf && options.splitOf(record) !== options.split) {
      skipped.other_split += 1;
      continue;
    }
    const label = labelFor(record, options.task);
    if (label === undefined) {
      // Task B drops unclear rows; say so rather than lump them with rows of the other task.
      if (UNSCORED_LABELS.has(record.label) && record.task === options.task) skipped.unclear += 1;
      else skipped.not_in_task += 1;
      continue;
    }
    if (UNSCORED_LABELS.has(label)) {
      skipped.unclear += 1;
      continue;
    }
    examples.push({
      id: record.id,
      dataset: record.dataset,
      role: record.role,
      text: record.text,
      label,
      recordLabel: record.label,
      positive: isPositiveLabel(label),
      categories: taskCategories(record, options.task),
      ...(record.group !== undefined ? { group: record.group } : {}),
    });
  }
  if (options.limit !== undefined && examples.length > options.limit) {
    const kept = sampleByIdHash(examples, options.limit);
    skipped.over_limit = examples.length - kept.length;
    return { examples: kept, skipped };
  }
  return { examples, skipped };
}

/**
 * `--limit N` keeps N records spread over every dataset: the first N would all come from the
 * first file. Ranking by a hash of the id is random-like yet the same on every run and machine,
 * and a larger N keeps every record a smaller N kept. Input order is preserved.
 */
export function sampleByIdHash<T extends { id: string; dataset: string }>(items: readonly T[], limit: number): T[] {
  const rank = (item: T) => createHash('sha256').update(`${item.dataset}\0${item.id}`).digest('hex');
  const chosen = new Set(
    items
      .map((item, index) => ({ index, key: rank(item) }))
      .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.index - b.index))
      .slice(0, Math.max(0, limit))
      .map((x) => x.index),
  );
  return items.filter((_, i) => chosen.has(i));
}
