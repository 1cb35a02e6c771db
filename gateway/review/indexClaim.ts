import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { holderGone, lockContent, parseLock, PID_NAMESPACE } from '../lockHolder';

/** How often the holder touches the lock, and how long an untouched lock still counts as held (as the audit directory's). */
const HEARTBEAT_MS = 10_000;
const STALE_MS = 60_000;
/** Private copies are named so a later process can tell whose they were. */
const COPY = /^safety-gateway-review-index-(\d+)-[0-9a-f]{16}\.sqlite(-wal|-shm)?$/;

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
 * intact log. So the file is claimed with a lock beside it, touched every 10 s and taken over when
 * its holder is gone (a process of this host that ended) or has not touched it for 60 s (a crashed
 * container, another host); a process that finds it held indexes into a private copy of its own
 * (built from the log, removed when it stops; copies a killed process left are removed too).
 */
export function claimIndex(file: string, log?: (line: string) => void): IndexClaim {
  const lock = `${file}.lock`;
  const token = randomBytes(8).toString('hex');
  const mine = lockContent(token);
  let unwritable: string | undefined;
  const create = (): boolean => {
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(lock, mine, { flag: 'wx' });
      return true;
    } catch (err) {
      // A directory this process cannot write (a read-only mount of the log): a private copy serves.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') unwritable = (err as Error).message;
      return false;
    }
  };
  let claimed = create();
  if (!claimed && unwritable === undefined && lockIsFree(lock)) claimed = takeOver(lock, mine, token);
  if (claimed) {
    const heartbeat = setInterval(() => {
      const now = new Date();
      try {
        utimesSync(lock, now, now);
      } catch {
        /* removed meanwhile: the next claim creates it again */
      }
    }, HEARTBEAT_MS);
    heartbeat.unref();
    return {
      file,
      private: false,
      release: () => {
        clearInterval(heartbeat);
        if (holds(lock, token)) rmSync(lock, { force: true });
      },
    };
  }
  removeLeftCopies();
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

/** A lock whose holder is gone (this host, process ended; or this very process) or silent past STALE_MS. */
function lockIsFree(lock: string): boolean {
  try {
    const holder = parseLock(readFileSync(lock, 'utf8'));
    return holderGone(holder, Date.now() - statSync(lock).mtimeMs, STALE_MS);
  } catch {
    return true; // gone meanwhile
  }
}

/** Replaced in one rename, then read back after a moment: of two processes taking over at once, one keeps it. */
function takeOver(lock: string, mine: string, token: string): boolean {
  const temp = `${lock}.${process.pid}.${token}`;
  try {
    writeFileSync(temp, mine);
    renameSync(temp, lock);
  } catch {
    rmSync(temp, { force: true });
    return false;
  }
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
  return holds(lock, token);
}

function holds(lock: string, token: string): boolean {
  try {
    return parseLock(readFileSync(lock, 'utf8')).token === token;
  } catch {
    return false;
  }
}

/** Private copies of processes of this host (and pid namespace) that ended without removing theirs (killed). */
function removeLeftCopies(): void {
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return;
  }
  for (const name of names) {
    const pid = Number(COPY.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    // The temp directory is this host's (a container's own): its pids are this pid namespace's.
    if (holderGone({ pid, ns: PID_NAMESPACE }, 0, Infinity)) rmSync(path.join(tmpdir(), name), { force: true });
  }
}
