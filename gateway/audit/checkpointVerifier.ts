import { asCheckpoint, checkCheckpoint, type CheckpointReason, type CheckpointStatus, type PublicKeys } from './checkpoint';
import type { AuditLine } from './chainVerifier';
import { recordHash } from './hashChain';

export type SignedProblemKind = 'checkpoint_invalid' | 'no_checkpoint' | 'unsigned_tail' | 'stale_checkpoint';

export interface SignedProblem {
  kind: SignedProblemKind;
  file?: string;
  line?: number;
  seq?: number;
  /** For checkpoint_invalid: why. */
  status?: Exclude<CheckpointStatus, 'valid'>;
  message: string;
}

/** Where the last valid checkpoint is and what it says. */
export interface LastCheckpoint {
  file: string;
  line: number;
  seq: number;
  covers: number;
  signedAt: string;
  reason: CheckpointReason;
  keyId: string;
  every: { records: number; seconds: number };
}

/** What a pass over the log found, before judging it: the index keeps the same summary as it grows. */
export interface CheckpointSummary {
  records: number;
  checkpoints: number;
  valid: number;
  invalid: SignedProblem[];
  last?: LastCheckpoint;
  /** Records (not checkpoints) after the last valid checkpoint. */
  tail: { records: number; fromSeq?: number; toSeq?: number };
  /** Start checkpoints that followed a run which did not sign its end (noteStart). */
  uncleanStarts?: { count: number; lastSeq: number };
}

/**
 * At a valid start checkpoint, before `last` moves to it: the run before ended cleanly only if its
 * shutdown checkpoint is the last thing before this start. Otherwise that run crashed, or records
 * (or a whole newest file) were removed while the gateway was stopped: the start checkpoint then
 * signs the shortened head, and nothing else in the log would show the loss.
 */
export function noteStart(summary: CheckpointSummary, seq: number): void {
  if (!summary.last || (summary.last.reason === 'shutdown' && summary.tail.records === 0)) return;
  summary.uncleanStarts = { count: (summary.uncleanStarts?.count ?? 0) + 1, lastSeq: seq };
}

export interface SignedReport extends CheckpointSummary {
  ok: boolean;
  problems: SignedProblem[];
  /** Facts that are not problems (an unsigned tail of a running gateway). */
  notes: string[];
}

/** A running gateway signs at least every `every.seconds`; past this much more, it is not running (or the log lost its end). */
export function staleAfterMs(every: { seconds: number }): number {
  return every.seconds * 1500 + 10_000;
}

/**
 * Pure: judges a summary at time `now`. Every checkpoint must verify; a log with records needs one;
 * the tail after the last checkpoint may not exceed the writer's `every.records`; and unless the last
 * checkpoint is the shutdown one, it must be recent (the writer signs every `every.seconds`, idle or
 * not): an old one means the log was truncated after it, or the gateway died without signing its end.
 */
export function judgeCheckpoints(summary: CheckpointSummary, now: Date): SignedReport {
  const problems: SignedProblem[] = [...summary.invalid];
  const notes: string[] = [];
  const { last, tail } = summary;
  if (!last) {
    if (summary.records > 0) {
      problems.push({ kind: 'no_checkpoint', message: `no valid signed checkpoint in ${summary.records} records: nothing vouches that the chain was not rewritten (a gateway without audit.signing_key_file writes none)` });
    } else if (summary.checkpoints === 0) {
      // A gateway with a signing key signs a start checkpoint as it opens the log.
      problems.push({ kind: 'no_checkpoint', message: 'the log is empty: a gateway with a signing key writes a start checkpoint as soon as it opens the log, so this log was never written or was removed' });
    }
  } else if (last.reason === 'shutdown' && tail.records > 0) {
    // A gateway that starts again signs a start checkpoint before its first record.
    problems.push({
      kind: 'unsigned_tail',
      seq: tail.fromSeq,
      message: `${tail.records} record(s) (seq ${tail.fromSeq}-${tail.toSeq}) follow the shutdown checkpoint (seq ${last.seq}) without a start checkpoint: the gateway did not write them`,
    });
  } else {
    const range = tail.fromSeq !== undefined ? ` (seq ${tail.fromSeq}-${tail.toSeq})` : '';
    if (tail.records > last.every.records) {
      problems.push({
        kind: 'unsigned_tail',
        seq: tail.fromSeq,
        message: `${tail.records} records${range} follow the last checkpoint (seq ${last.seq}), more than the ${last.every.records} the writer signs at: checkpoints after it were removed, or these records were written without the signing key`,
      });
    }
    const age = now.getTime() - Date.parse(last.signedAt);
    // Checkpoints after the last valid one that failed: changed records, or a key the check was not given.
    const later = summary.invalid.filter((i) => (i.seq ?? -1) > last.seq);
    if (last.reason !== 'shutdown' && age > staleAfterMs(last.every)) {
      problems.push({
        kind: 'stale_checkpoint',
        file: last.file,
        line: last.line,
        seq: last.seq,
        // Later checkpoints that are there but fail (a rewrite after seq N) are not a truncation: say which it is.
        message: later.some((i) => i.status !== 'unknown_key')
          ? `the last valid checkpoint (seq ${last.seq}, ${last.reason}, signed ${last.signedAt}) is not a shutdown checkpoint and is ${Math.round(age / 1000)}s old, and the checkpoints after it fail (above): the records after seq ${last.seq} were changed since they were signed`
          : later.length > 0
            ? `the last checkpoint signed with a key given (seq ${last.seq}, ${last.reason}, signed ${last.signedAt}) is ${Math.round(age / 1000)}s old, and the checkpoints after it are signed with a key not given (above): give its public key too (a key rotation) and check again; if no key was rotated, the log was cut after seq ${last.seq} and signed again by someone else`
            : `the last checkpoint (seq ${last.seq}, ${last.reason}, signed ${last.signedAt}) is not a shutdown checkpoint and is ${Math.round(age / 1000)}s old, while a running gateway signs every ${last.every.seconds}s: the log was truncated after seq ${last.seq} (later records and checkpoints removed), or the gateway stopped without signing its end (a crash)`,
      });
    } else if (last.reason === 'shutdown') {
      notes.push(`the log ends at a shutdown checkpoint (seq ${last.seq}, signed ${last.signedAt}): a log cut back to an earlier shutdown looks the same from inside, so compare this head with one kept outside the log (the gateway logs it as it stops)`);
    } else if (tail.records > 0) {
      notes.push(`${tail.records} record(s)${range} after the last checkpoint are not signed yet (the writer signs every ${last.every.records} records or ${last.every.seconds}s): until then, their removal would not show`);
    }
  }
  if (summary.uncleanStarts) {
    const { count, lastSeq } = summary.uncleanStarts;
    notes.push(`${count} restart(s) followed a run that did not sign its end (the last start checkpoint at seq ${lastSeq}): a crash, or records or a newest file removed while the gateway was stopped; the gateway logs its head as it stops, to compare with`);
  }
  return { ...summary, ok: problems.length === 0, problems, notes };
}

/**
 * Pure: checks every checkpoint of the log against the trusted public keys. Each checkpoint must be
 * signed by one of them over exactly the record before it, as found in the files (its hash
 * recomputed), so a chain rewritten before a checkpoint fails here even when its hashes agree.
 */
export function verifyCheckpoints(lines: Iterable<AuditLine>, keys: PublicKeys, now: Date = new Date(), after?: { seq: number; hash: string }): SignedReport {
  const summary: CheckpointSummary = { records: 0, checkpoints: 0, valid: 0, invalid: [], tail: { records: 0 } };
  // With older files archived (audit verify --after), the record before the first line is the archive's last.
  let previous: { seq: number; hash: string } | undefined = after;
  for (const at of lines) {
    let raw: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(at.text);
      if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('not an object');
      raw = parsed as Record<string, unknown>;
    } catch {
      // The chain check reports unreadable lines; the record before the next one is unknown.
      previous = undefined;
      continue;
    }
    const seq = Number.isSafeInteger(raw.seq) ? (raw.seq as number) : NaN;
    if (raw.kind === 'checkpoint') {
      summary.checkpoints++;
      const check = checkCheckpoint(raw, previous, keys);
      const entry = asCheckpoint(raw);
      if (check.status === 'valid' && entry) {
        summary.valid++;
        if (entry.reason === 'start') noteStart(summary, seq);
        summary.last = { file: at.file, line: at.line, seq, covers: entry.covers.seq, signedAt: entry.signed_at, reason: entry.reason, keyId: entry.key_id, every: entry.every };
        summary.tail = { records: 0 };
      } else {
        summary.invalid.push({ kind: 'checkpoint_invalid', status: check.status as Exclude<CheckpointStatus, 'valid'>, file: at.file, line: at.line, seq, message: `checkpoint seq ${seq}: ${check.message}` });
      }
    } else {
      summary.records++;
      summary.tail.records++;
      summary.tail.fromSeq ??= seq;
      summary.tail.toSeq = seq;
    }
    previous = { seq, hash: recordHash(raw) };
  }
  return judgeCheckpoints(summary, now);
}
