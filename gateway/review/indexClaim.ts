import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { holderGone, PID_NAMESPACE } from '../lockHolder';

/** The index file a review process uses, and what to do when it is done with it. */
export interface IndexClaim {
  file: string;
  /** Whether this is a private copy (another process holds the shared index). */
  private: boolean;
  release(): void;
}

/** This pid namespace as a name part (`4026531836`), so a copy left in a shared temp dir is only judged by its own namespace. */
const NAMESPACE = /\d+/.exec(PID_NAMESPACE ?? '')?.[0] ?? 'none';
const COPY = /^safety-gateway-review-index-(\w+)-(\d+)-[0-9a-f]{16}\.sqlite(-wal|-shm)?$/;

/**
 * One review process per index file. The index carries the chain check's state from line to line
 * in the process that builds it: a second process on the same file (the gateway's `/review` and a
 * standalone `safety-gateway review` on one directory) would list the lines the first one indexed
 * without checking them, and show an intact chain over a tampered log, or a broken one over an
 * intact log. So the file is claimed by an exclusive lock the kernel holds for this process (an
 * SQLite database beside the index, opened in exclusive locking mode and kept open): it ends with
 * the process however it ends, so no heartbeat, staleness or takeover is needed, and no stalled
 * holder can lose it unawares. A process that finds it held indexes into a private copy of its own
 * (built from the log, removed when it stops; copies a killed process of this pid namespace left
 * are removed too). So does one that cannot write beside the log (a read-only mount).
 */
export function claimIndex(file: string, log?: (line: string) => void): IndexClaim {
  const lockFile = `${file}.claim`;
  let held: Database.Database | undefined;
  let why: string;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    held = new Database(lockFile, { timeout: 0 });
    held.pragma('locking_mode = EXCLUSIVE');
    // Taken now and kept until the connection closes (exclusive locking mode never lets it go).
    held.exec('BEGIN EXCLUSIVE');
    const lock = held;
    return { file, private: false, release: () => lock.close() };
  } catch (err) {
    held?.close();
    const code = (err as { code?: string }).code;
    why = code === 'SQLITE_BUSY' ? `is in use by another review process (${lockFile})` : `cannot be claimed (${(err as Error).message})`;
  }
  removeLeftCopies();
  const copy = path.join(tmpdir(), `safety-gateway-review-index-${NAMESPACE}-${process.pid}-${randomBytes(8).toString('hex')}.sqlite`);
  log?.(`review: the index ${file} ${why}; this one indexes the log into ${copy}, removed when it stops`);
  return {
    file: copy,
    private: true,
    release: () => {
      for (const suffix of ['', '-wal', '-shm']) rmSync(`${copy}${suffix}`, { force: true });
    },
  };
}

/** Private copies of processes of this pid namespace that ended without removing theirs (killed). */
function removeLeftCopies(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const match = COPY.exec(name);
    if (!match || match[1] !== NAMESPACE) continue;
    const pid = Number(match[2]);
    if (pid !== process.pid && holderGone({ pid, ns: PID_NAMESPACE }, 0, Infinity)) rmSync(path.join(tmpdir(), name), { force: true });
  }
}
