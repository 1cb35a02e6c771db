import { GENESIS, recordHash } from './hashChain';

/** One line of the audit log with where it is. */
export interface AuditLine {
  file: string;
  /** 1-based line number in the file. */
  line: number;
  text: string;
  /** Set on the newest file's last line when it has no newline yet: how long the file has been unchanged. */
  unfinished?: { unchangedMs: number };
}

/**
 * The gateway writes each record whole, so a last line without its newline is either a record being
 * written (the file changed moments ago) or one cut off (a crash, a full disk, an edit), which the
 * gateway cuts off when it next starts. Past this long unchanged it is the second.
 */
export const UNFINISHED_GRACE_MS = 10_000;
/**
 * How far a file's time may be ahead of the clock and still count as just written: file times are
 * finer than Date.now()'s milliseconds, and a reader in the write's millisecond sees a small
 * negative age. Further ahead, the file was dated by hand.
 */
export const CLOCK_SLACK_MS = 2_000;

export type ProblemKind = 'corrupt' | 'edited' | 'removed' | 'inserted' | 'reordered' | 'truncated_start';

export interface ChainProblem {
  kind: ProblemKind;
  file: string;
  line: number;
  seq?: number;
  message: string;
}

export interface VerifyReport {
  ok: boolean;
  records: number;
  files: number;
  problems: ChainProblem[];
  /** The last record's seq and hash: compare with an outside copy to catch a removed tail. */
  head?: { seq: number; hash: string };
  /** A last line still being written when the log was read (no newline yet, the file changed moments ago): not checked. */
  writing?: { file: string; line: number; unchangedMs: number };
}

interface Parsed {
  at: AuditLine;
  seq: number;
  prev: string;
  hash: string;
}

/** The last record of an archived (removed) older part of the log: where what is left must continue. */
export interface ChainAnchor {
  seq: number;
  hash: string;
}

/** `SEQ:HASH` as `audit verify` prints the last record (`--after`), or undefined when it is not that shape. */
export function parseAnchor(text: string): ChainAnchor | undefined {
  const m = /^(\d{1,15}):(\S+)$/.exec(text.trim());
  return m ? { seq: Number(m[1]), hash: m[2] } : undefined;
}

/**
 * Pure: checks the chain over the lines of every file, in order, and says where each problem is.
 * Every kind of tampering shows as at least one problem at or next to the place it happened.
 * With `after` (the last record of files archived and removed, as verify printed it then), the
 * log must start right after it and link to its hash, instead of at seq 1.
 */
export function verifyChain(lines: Iterable<AuditLine>, after?: ChainAnchor): VerifyReport {
  const problems: ChainProblem[] = [];
  const parsed: Parsed[] = [];
  const files = new Set<string>();
  let writing: VerifyReport['writing'];
  for (const at of lines) {
    files.add(at.file);
    // A record being written: checking it now would report a live log as corrupted. Only a line
    // that is not yet a record, in a file changed moments ago (not "in the future"): a complete
    // record without its newline, or a file dated ahead, is checked as any other line.
    if (beingWritten(at)) {
      writing = { file: at.file, line: at.line, unchangedMs: Math.max(0, at.unfinished!.unchangedMs) };
      continue;
    }
    const record = parse(at.text);
    if (!record) {
      const message = at.unfinished
        ? `an unfinished last line (no newline), ${at.unfinished.unchangedMs < -CLOCK_SLACK_MS ? 'its file dated in the future' : `unchanged for ${Math.round(at.unfinished.unchangedMs / 1000)} s`}: a record cut off (a crash, a full disk) or edited; the gateway cuts it off when it next starts`
        : 'not a valid audit record (edited or corrupted)';
      problems.push({ kind: 'corrupt', file: at.file, line: at.line, message });
      continue;
    }
    if (recordHash(record.raw) !== record.hash) {
      problems.push({ kind: 'edited', file: at.file, line: at.line, seq: record.seq, message: `record seq ${record.seq} does not match its hash: its content was edited` });
    }
    parsed.push({ at, seq: record.seq, prev: record.prev, hash: record.hash });
  }

  // Every hash stored under each seq (an inserted record duplicates one): links are checked by seq,
  // so one displaced record is reported where it is, not as a break of everything after it.
  const hashes = new Map<number, Set<string>>();
  for (const p of parsed) (hashes.get(p.seq) ?? hashes.set(p.seq, new Set()).get(p.seq)!).add(p.hash);
  const seen = new Map<number, AuditLine>();
  let highest = 0;
  for (const current of parsed) {
    const where = { file: current.at.file, line: current.at.line, seq: current.seq };
    if (seen.size === 0) {
      const start = checkStart(current, after);
      if (start) problems.push({ kind: start.kind, ...where, message: start.message });
    } else if (seen.has(current.seq)) {
      const first = seen.get(current.seq)!;
      problems.push({ kind: 'inserted', ...where, message: `seq ${current.seq} appears twice (also at ${first.file}:${first.line}): a record was inserted` });
    } else if (current.seq < highest) {
      problems.push({ kind: 'reordered', ...where, message: `seq ${current.seq} comes after seq ${highest}: records were reordered` });
    } else if (current.seq > highest + 1) {
      const gap = range(highest + 1, current.seq - 1);
      const missing = gap.filter((s) => !hashes.has(s));
      if (missing.length === 0) problems.push({ kind: 'reordered', ...where, message: `seq ${current.seq} comes before seq ${spans(gap)}: records were reordered` });
      else problems.push({ kind: 'removed', ...where, message: `seq ${spans(missing)} missing before seq ${current.seq}: ${missing.length === 1 ? 'a record was' : 'records were'} removed` });
    }
    const predecessors = current.seq === 1 ? new Set([GENESIS]) : after && current.seq === after.seq + 1 ? new Set([after.hash]) : hashes.get(current.seq - 1);
    if (seen.size > 0 && predecessors && !predecessors.has(current.prev) && !seen.has(current.seq)) {
      problems.push({ kind: 'edited', ...where, message: `seq ${current.seq} does not link to seq ${current.seq - 1}: that record was altered and re-hashed, or replaced` });
    }
    if (!seen.has(current.seq)) seen.set(current.seq, current.at);
    highest = Math.max(highest, current.seq);
  }
  const last = parsed[parsed.length - 1];
  return { ok: problems.length === 0, records: parsed.length, files: files.size, problems, head: last ? { seq: last.seq, hash: last.hash } : undefined, ...(writing ? { writing } : {}) };
}

/**
 * Pure: what is wrong with the log's first record, if anything: it must be seq 1 linked to GENESIS,
 * or, with `after`, the record right after the archived part, linked to its hash. Shared with the
 * review page's line-by-line check (gateway/review/chainCursor.ts), so both judge a start alike.
 */
/** Pure: a newest file's last line that is still being written (see UNFINISHED_GRACE_MS), by its age and its text. */
export function beingWritten(at: AuditLine): boolean {
  const age = at.unfinished?.unchangedMs;
  return age !== undefined && age >= -CLOCK_SLACK_MS && age < UNFINISHED_GRACE_MS && parse(at.text) === undefined;
}

export function checkStart(first: { seq: number; prev: string }, after?: ChainAnchor): { kind: ProblemKind; message: string } | undefined {
  if (!after) {
    if (first.seq === 1 && first.prev === GENESIS) return undefined;
    return { kind: 'truncated_start', message: `the log starts at seq ${first.seq}, not at seq 1: earlier records were removed (or archived: give the last record they ended with as --after SEQ:HASH)` };
  }
  if (first.seq !== after.seq + 1) {
    const what = first.seq > after.seq + 1 ? 'records after the archived part were removed' : 'the archived part does not end where this log begins';
    return { kind: 'truncated_start', message: `the log starts at seq ${first.seq}, not at seq ${after.seq + 1} right after the archived part (--after): ${what}` };
  }
  if (first.prev !== after.hash) {
    return { kind: 'edited', message: `seq ${first.seq} does not link to the archived part's last hash (--after): it was altered, or the archive is not this log's` };
  }
  return undefined;
}

function parse(text: string): { raw: Record<string, unknown>; seq: number; prev: string; hash: string } | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return undefined;
  const r = raw as Record<string, unknown>;
  if (!Number.isSafeInteger(r.seq) || typeof r.prev !== 'string' || typeof r.hash !== 'string') return undefined;
  return { raw: r, seq: r.seq as number, prev: r.prev, hash: r.hash };
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let i = from; i <= to && out.length < 100_000; i++) out.push(i);
  return out;
}

/** [3,4,5,9] -> "3-5, 9" */
function spans(seqs: number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seqs.length; ) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
    parts.push(i === j ? `${seqs[i]}` : `${seqs[i]}-${seqs[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}
