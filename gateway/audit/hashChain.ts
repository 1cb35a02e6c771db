import { hash as digest } from 'node:crypto';
import { canonicalJson } from './canonicalJson';

/**
 * The audit log's hash chain. Each record carries `seq` (1, 2, 3, ... across all files), `prev`
 * (the hash of the record before it; GENESIS for the first) and `hash`: SHA-256 over the canonical
 * JSON of the record without `hash`. Editing a record breaks its own hash; removing, inserting or
 * reordering records breaks `seq` and `prev` links. (Rewriting the whole tail after a point is
 * caught only against an outside copy of a later hash: the decision log records sent through
 * OpenTelemetry carry each record's seq and hash for that.)
 */
export const GENESIS = '0'.repeat(64);

export interface ChainFields {
  seq: number;
  /** When the record was appended (ISO 8601). */
  ts: string;
  prev: string;
  hash: string;
}

export type Sealed<T extends object> = T & ChainFields;

export function recordHash(record: object): string {
  const { hash: _ignored, ...rest } = record as Record<string, unknown>;
  return digest('sha256', canonicalJson(rest), 'hex');
}

/** Pure: the record as it goes into the file, chained to `prev`; `line` ends with a newline. */
export function seal<T extends object>(entry: T, seq: number, prev: string, ts: string): { record: Sealed<T>; line: string } {
  const unsealed: Record<string, unknown> = { seq, ts, ...entry, prev };
  // What recordHash reads: the record without any `hash` (an entry never carries one of its own).
  if ('hash' in unsealed) delete unsealed.hash;
  const hash = digest('sha256', canonicalJson(unsealed), 'hex');
  // seq and ts lead the line for people reading it; the hash never depends on key order.
  const json = JSON.stringify(unsealed);
  const line = `${json.slice(0, -1)},"hash":"${hash}"}\n`;
  unsealed.hash = hash;
  return { record: unsealed as Sealed<T>, line };
}
