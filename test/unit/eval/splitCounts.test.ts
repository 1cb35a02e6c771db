import { existsSync } from 'node:fs';
import path from 'node:path';
import { datasetFilesIn } from '../../../gateway/eval/dataFiles';
import { loadRecords } from '../../../gateway/eval/dataset';
import type { DataRecord } from '../../../gateway/eval/records';
import { assignSplits, type Split } from '../../../gateway/eval/splits';
import { S_CODES, taskALabel, taskBLabel, taskCategories } from '../../../gateway/eval/tasks';

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
  train: [26704, 1008, 1982],
  validation: [3418, 126, 246],
  test: [3355, 148, 222],
  eval_only: [5446, 0, 0],
};
/** safe, unsafe, assistant safe, assistant unsafe */
const TASK_B: Record<Split, [number, number, number, number]> = {
  train: [23765, 7608, 11002, 1909],
  validation: [3013, 899, 1366, 167],
  test: [2904, 841, 1267, 162],
  eval_only: [5888, 4032, 4338, 136],
};
/** S1..S14, none */
const TASK_B_CODES: Record<'train' | 'validation' | 'test', number[]> = {
  train: [550, 1605, 159, 162, 274, 264, 595, 224, 224, 1791, 184, 231, 40, 390, 932],
  validation: [61, 113, 20, 17, 26, 32, 72, 59, 19, 208, 21, 37, 9, 54, 155],
  test: [58, 126, 21, 21, 21, 35, 40, 37, 21, 215, 31, 27, 4, 45, 139],
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
