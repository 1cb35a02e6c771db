import { checkStart, type ChainAnchor, type ProblemKind } from '../audit/chainVerifier';

/** Where the chain check stands after the last indexed line: kept in the index, so a restart goes on from there. */
export interface CursorState {
  lines: number;
  /** The last record's seq and the hash it claims (links are checked against claimed hashes, like `audit verify`). */
  seq?: number;
  hash?: string;
  /** The highest seq so far and its hash: a record moved back is reported once, where it shows, not again at the next (as `audit verify` reports it). */
  highest?: number;
  highestHash?: string;
}

export interface CursorProblem {
  kind: ProblemKind;
  message: string;
}

/**
 * Pure: the chain check one line at a time, for an index that grows with the log. It reports the
 * same kinds of problem as `audit verify` (chainVerifier.ts) at the line where each shows, without
 * holding the whole log; `audit verify` stays the full, order-independent check. `after` is the
 * last record of older files archived and removed (`--after SEQ:HASH`, `review.after`): the first
 * line must continue from it, as `audit verify --after` requires.
 */
export function checkLine(state: CursorState, record: { seq: number; prev: string; hash: string; recomputed: string } | undefined, after?: ChainAnchor): { state: CursorState; problems: CursorProblem[] } {
  const problems: CursorProblem[] = [];
  if (!record) {
    problems.push({ kind: 'corrupt', message: 'not a valid audit record (edited or corrupted)' });
    return { state: { ...state, lines: state.lines + 1 }, problems };
  }
  if (record.recomputed !== record.hash) problems.push({ kind: 'edited', message: `record seq ${record.seq} does not match its hash: its content was edited` });
  // The chain goes on from the highest record so far (an index from before kept only the last).
  const top = state.highest ?? state.seq;
  const topHash = state.highestHash ?? state.hash;
  if (state.seq === undefined || top === undefined) {
    const start = state.lines === 0 ? checkStart(record, after) : undefined;
    if (start) problems.push(start);
  } else if (record.seq === state.seq) {
    problems.push({ kind: 'inserted', message: `seq ${record.seq} appears twice in a row: a record was inserted` });
  } else if (record.seq === top) {
    problems.push({ kind: 'inserted', message: `seq ${record.seq} appears again: a record was inserted` });
  } else if (record.seq < top) {
    problems.push({ kind: 'reordered', message: `seq ${record.seq} comes after seq ${top}: records were reordered or inserted` });
  } else if (record.seq > top + 1) {
    const gap = record.seq - top - 1;
    problems.push({ kind: 'removed', message: `seq ${top + 1}${gap > 1 ? `-${record.seq - 1}` : ''} missing before seq ${record.seq}: ${gap === 1 ? 'a record was' : 'records were'} removed (or moved later in the log)` });
  } else if (record.prev !== topHash) {
    problems.push({ kind: 'edited', message: `seq ${record.seq} does not link to seq ${top}: that record was altered and re-hashed, or replaced` });
  }
  const higher = top === undefined || record.seq >= top;
  return { state: { lines: state.lines + 1, seq: record.seq, hash: record.hash, highest: higher ? record.seq : top, highestHash: higher ? record.hash : topHash }, problems };
}
