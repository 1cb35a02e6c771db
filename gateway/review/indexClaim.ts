import { randomBytes } from 'node:crypto';
import { readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { holderGone, lockContent, parseLock } from '../lockHolder';

/** The index file a review process uses, and what to do when it is done with it. */
export interface IndexClaim {
  file: string;
  /** Whether this is a private copy (another process holds the shared index). */
  private: boolean;
  release(): void;
}

/**
 * One review process per index file. The index carries the chain check's state from line to line
 * in the process that builds it: a second process on the same file (the gateway's `/review` and a
 * standalone `safety-gateway review` on one directory) would list the lines the first one indexed
 * without checking them, and show an intact chain over a tampered log, or a broken one over an
 * intact log. So the file is claimed with a lock beside it; a process that finds it held by a live
 * process indexes into a private copy of its own (built from the log, removed on close) instead.
 */
export function claimIndex(file: string, log?: (line: string) => void): IndexClaim {
  const lock = `${file}.lock`;
  const token = randomBytes(8).toString('hex');
  const ours = () => {
    try {
      return parseLock(readFileSync(lock, 'utf8')).token === token;
    } catch {
      return false;
    }
  };
  let unwritable: string | undefined;
  const take = (flag: 'wx' | 'w'): boolean => {
    try {
      writeFileSync(lock, lockContent(token), { flag });
      return true;
    } catch (err) {
      // A directory this process cannot write (a read-only mount of the log): a private copy serves.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') unwritable = (err as Error).message;
      return false;
    }
  };
  let claimed = take('wx');
  if (!claimed && unwritable === undefined) {
    let holder: ReturnType<typeof parseLock> = {};
    let ageMs = 0;
    try {
      holder = parseLock(readFileSync(lock, 'utf8'));
      ageMs = Date.now() - statSync(lock).mtimeMs;
    } catch {
      /* gone meanwhile: try again below */
    }
    // A holder on this host that is gone (or this very process) leaves the file free; one elsewhere is never assumed gone.
    if (holderGone(holder, ageMs, Infinity)) claimed = take('w');
  }
  if (claimed) return { file, private: false, release: () => ours() && rmSync(lock, { force: true }) };
  const copy = path.join(tmpdir(), `safety-gateway-review-index-${process.pid}-${token}.sqlite`);
  const why = unwritable !== undefined ? `cannot be claimed (${unwritable})` : `is in use by another review process (${lock})`;
  log?.(`review: the index ${file} ${why}; this one indexes the log into ${copy}, removed when it stops`);
  return {
    file: copy,
    private: true,
    release: () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
    },
  };
}
