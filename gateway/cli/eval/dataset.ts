import { existsSync } from 'node:fs';
import { datasetFilesIn } from './dataFiles';
import { readJsonlFile, type DataRecord } from './records';
import { assignSplits, type Split } from './splits';

/** Every record of the given files, in file order. */
export function loadRecords(files: readonly string[]): DataRecord[] {
  return files.flatMap((file) => readJsonlFile(file));
}

const recordKey = (r: Pick<DataRecord, 'dataset' | 'id'>) => `${r.dataset}\0${r.id}`;

export interface SplitLookup {
  splitOf: (record: DataRecord) => Split;
  /** Records rule 4 moved. */
  moved: number;
  /** How many records the cross-set check looked at. */
  universe: number;
}

/**
 * Splits for the evaluated records, computed over every dataset under `dataRoot` as well: rule 4
 * (one split per exact text) looks across all loaded sets, so evaluating one file alone could put
 * a record in a different split than training saw. Evaluated records from outside the root join
 * the universe too.
 */
export function splitLookup(evaluated: readonly DataRecord[], dataRoot: string | undefined): SplitLookup {
  const universe: DataRecord[] = [];
  const seen = new Set<string>();
  const add = (r: DataRecord) => {
    const k = recordKey(r);
    if (seen.has(k)) return;
    seen.add(k);
    universe.push(r);
  };
  if (dataRoot && existsSync(dataRoot)) for (const r of loadRecords(datasetFilesIn(dataRoot))) add(r);
  for (const r of evaluated) add(r);
  const { splits, moved } = assignSplits(universe);
  const byKey = new Map<string, Split>();
  universe.forEach((r, i) => byKey.set(recordKey(r), splits[i]));
  return {
    splitOf: (record) => {
      const split = byKey.get(recordKey(record));
      if (split === undefined) throw new Error(`record ${record.id} was not part of the split computation`);
      return split;
    },
    moved,
    universe: universe.length,
  };
}
