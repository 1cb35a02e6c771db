import { closeSync, existsSync, fstatSync, openSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { AuditLine } from './chainVerifier';

/**
 * Audit file names: `audit-<first seq, 12 digits>-<UTC creation time>.jsonl`. Sorting by name is
 * sorting by seq, and the time in the name drives rotation by age, also across restarts.
 */
const NAME = /^audit-(\d{12})-(\d{8}T\d{6}Z)\.jsonl$/;

export function auditFileName(firstSeq: number, created: Date): string {
  const stamp = created.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}Z$/, 'Z');
  return `audit-${String(firstSeq).padStart(12, '0')}-${stamp}.jsonl`;
}

/** Creation time (epoch ms) of an audit file, from its name. */
export function auditFileCreated(name: string): number | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  const s = m[2];
  return Date.UTC(+s.slice(0, 4), +s.slice(4, 6) - 1, +s.slice(6, 8), +s.slice(9, 11), +s.slice(11, 13), +s.slice(13, 15));
}

/** The audit files of a directory, oldest first. */
export function listAuditFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => NAME.test(n))
    .sort()
    .map((n) => path.join(dir, n));
}

/**
 * Every line of every audit file, in chain order. A final line without its newline is still read;
 * on the newest file it carries how long the file has been unchanged (`unfinished`), so a reader of
 * a live log can tell a record being written from one cut off (chainVerifier.ts UNFINISHED_GRACE_MS).
 */
export function* auditLines(dir: string, now: () => number = Date.now): Generator<AuditLine> {
  const files = listAuditFiles(dir);
  for (const [n, file] of files.entries()) {
    const { text, mtimeMs } = readWithMtime(file);
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const unfinishedLast = n === files.length - 1 && text.length > 0 && !text.endsWith('\n');
    for (let i = 0; i < lines.length; i++) {
      // Not clamped: a modification time in the future (set by hand) gives a negative age, which no grace accepts.
      const unfinished = unfinishedLast && i === lines.length - 1 ? { unfinished: { unchangedMs: now() - mtimeMs } } : {};
      yield { file: path.basename(file), line: i + 1, text: lines[i], ...unfinished };
    }
  }
}

/** The file's text and its modification time after the read (a write that lands meanwhile reads as recent). */
function readWithMtime(file: string): { text: string; mtimeMs: number } {
  const fd = openSync(file, 'r');
  try {
    const text = readFileSync(fd, 'utf8');
    return { text, mtimeMs: fstatSync(fd).mtimeMs };
  } finally {
    closeSync(fd);
  }
}
