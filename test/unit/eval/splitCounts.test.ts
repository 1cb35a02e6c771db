import { existsSync } from 'node:fs';
import path from 'node:path';
import { datasetFilesIn } from '../../../gateway/cli/eval/dataFiles';
import { loadRecords } from '../../../gateway/cli/eval/dataset';
import type { DataRecord } from '../../../gateway/cli/eval/records';
import { assignSplits, type Split } from '../../../gateway/cli/eval/splits';
import { S_CODES, taskALabel, taskBLabel, taskCategories } from '../../../gateway/cli/eval/tasks';

/**
 * The TypeScript split rule must reproduce SPLITS.md's count tables exactly: a model trained on
 * Python's train split is evaluated on these records, and one record off means leakage or a
 * different test set. The tables below are copied from ../shared/data/SPLITS.md.
 */

const DATA = path.join(__dirname, '../../../../shared/data');
const present = existsSync(DATA);
if (!present) {
  // eslint-disable-next-line no-console
  console.warn(`split count test skipped: no shared data at ${DATA} (../shared/data next to the checkout)`);
}
const describeWithData = present ? describe : describe.skip;

const TASK_A: Record<Split, [number, number, number]> = {
  train: [33235, 1246, 1982],
  validation: [4288, 126, 246],
  test: [4168, 148, 222],
  eval_only: [5446, 0, 0],
};
/** safe, unsafe, assistant safe, assistant unsafe */
const TASK_B: Record<Split, [number, number, number, number]> = {
  train: [26954, 8761, 11901, 2115],
  validation: [3460, 1048, 1515, 189],
  test: [3323, 975, 1399, 185],
  eval_only: [6718, 4192, 5168, 296],
};
/** S1..S14, none */
const TASK_B_CODES: Record<'train' | 'validation' | 'test', number[]> = {
  train: [637, 2066, 166, 182, 289, 379, 722, 289, 249, 1930, 204, 314, 70, 390, 1011],
  validation: [80, 162, 25, 17, 26, 42, 90, 66, 24, 228, 23, 51, 10, 54, 168],
  test: [77, 171, 23, 22, 22, 51, 55, 42, 26, 233, 32, 34, 6, 45, 148],
};

describeWithData('split rule against SPLITS.md', () => {
  let records: DataRecord[];
  let splits: Split[];
  let moved: number;

  beforeAll(() => {
    records = loadRecords(datasetFilesIn(DATA));
    ({ splits, moved } = assignSplits(records));
  });

  it('moves exactly one record by rule 4, as SPLITS.md says', () => {
    expect(moved).toBe(1);
  });

  it('reproduces the Task A table', () => {
    const got: Record<string, number[]> = { train: [0, 0, 0], validation: [0, 0, 0], test: [0, 0, 0], eval_only: [0, 0, 0] };
    records.forEach((r, i) => {
      const label = taskALabel(r);
      if (label !== undefined) got[splits[i]][['benign', 'injection', 'jailbreak'].indexOf(label)] += 1;
    });
    expect(got).toEqual(TASK_A);
  });

  it('reproduces the Task B tables (labels, assistant rows, S-codes)', () => {
    const got: Record<string, number[]> = { train: [0, 0, 0, 0], validation: [0, 0, 0, 0], test: [0, 0, 0, 0], eval_only: [0, 0, 0, 0] };
    const codes: Record<string, number[]> = { train: new Array(15).fill(0), validation: new Array(15).fill(0), test: new Array(15).fill(0) };
    records.forEach((r, i) => {
      const label = taskBLabel(r);
      if (label === undefined) return;
      const unsafe = label === 'unsafe';
      const row = got[splits[i]];
      row[unsafe ? 1 : 0] += 1;
      if (r.role === 'assistant') row[unsafe ? 3 : 2] += 1;
      if (unsafe && splits[i] !== 'eval_only') {
        const cats = taskCategories(r, 'B');
        for (const c of cats) codes[splits[i]][S_CODES.indexOf(c)] += 1;
        if (cats.length === 0) codes[splits[i]][14] += 1;
      }
    });
    expect(got).toEqual(TASK_B);
    expect(codes).toEqual(TASK_B_CODES);
  });
});
