import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import * as fsp from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { auditFileCreated, auditFileName } from './auditFiles';
import { signCheckpoint, type CheckpointReason, type CheckpointSigner } from './checkpoint';
import { GENESIS, seal, type ChainFields } from './hashChain';
import { holderGone, lockContent, parseLock, sameHostAs } from '../lockHolder';

export type FsyncPolicy = 'always' | 'interval';

export interface AuditLogOptions {
  dir: string;
  /** always: a record is on disk (fdatasync) before append() resolves; interval: written to the OS, synced every fsyncIntervalMs. */
  fsync: FsyncPolicy;
  fsyncIntervalMs: number;
  maxFileBytes: number;
  maxFileAgeMs: number;
  now?: () => Date;
  /** File system seam for tests (disk full, I/O errors); node:fs/promises by default. */
  fs?: AuditFs;
  warn?: (line: string) => void;
  /** Signed checkpoints (audit.signing_key_file): at start, every N records and T seconds, before rotation, at close. */
  signer?: CheckpointSigner;
}

export type AuditFs = Pick<typeof fsp, 'mkdir' | 'open' | 'readdir' | 'readFile' | 'writeFile' | 'unlink' | 'stat' | 'rename' | 'utimes'>;

/** Queued in place of an entry: a checkpoint signed over the head at the moment it is written. */
class CheckpointRequest {
  constructor(readonly reason: CheckpointReason) {}
}

interface Pending {
  /** An entry to append, or a CheckpointRequest. */
  entry: object;
  resolve: (fields: ChainFields) => void;
  reject: (err: Error) => void;
}

interface Current {
  handle: FileHandle;
  name: string;
  size: number;
  created: number;
  /** The file's inode when opened: a file moved or deleted under the writer no longer has its name. */
  ino: number;
  /** Closed by fileGone (it lost its name): nothing more to sync or close. */
  gone?: boolean;
}

const FILE = /^audit-\d{12}-\d{8}T\d{6}Z\.jsonl$/;
const LOCK = '.lock';
/** How often the lock's holder touches it, and how long a lock left untouched still counts as held. */
const LOCK_HEARTBEAT_MS = 10_000;
const LOCK_STALE_MS = 60_000;

/**
 * The durable, append-only, hash-chained audit log: JSON lines in `dir`, rotated by size and age,
 * the chain running on across files and restarts. One writer per directory: in this process the
 * instance is shared (see `shared`), across processes a lock file refuses a second one.
 *
 * Appends are group-committed: records that arrive while a write is in flight go out together in
 * the next write (one O_DSYNC write under `always`), so `always` stays cheap under concurrency.
 */
export class AuditLog {
  private static readonly open = new Map<string, { log: AuditLog; users: number }>();

  private readonly fs: AuditFs;
  private readonly now: () => Date;
  private queue: Pending[] = [];
  private writing = false;
  private current: Current | undefined;
  private head: { seq: number; hash: string } | undefined;
  private opening: Promise<void> | undefined;
  private lastError: string | undefined;
  /**
   * `fsync: interval`: a failed fdatasync, sticky until one succeeds. Until then records already
   * acknowledged may not be on disk (Linux can drop the pages a failed sync left), so appends are
   * refused (503) and readiness fails: a later successful write must not hide it.
   */
  private syncError: string | undefined;
  private readonly lockToken = randomBytes(8).toString('hex');
  private lockTimer: NodeJS.Timeout | undefined;
  private lockHeld = false;
  /** What this writer's lock says (lockContent), for the read-back. */
  private lockMine: string | undefined;
  /** Sticky: the lock now names another writer (heartbeat). */
  private lockLost: string | undefined;
  /** performance.now() of the last lock read-back (heartbeat), and the one under way. */
  private lockCheckedAt = 0;
  private heartbeating: Promise<void> | undefined;
  /** A file whose last fdatasync failed at rotation: kept open until a sync of it succeeds. */
  private unsynced: Current | undefined;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;
  /** Set when a failed write could not be taken back: the next write starts a new file. */
  private startFresh = false;
  /** Set when the open file lost its name: the next open takes the lock again. */
  private relock = false;
  /** Records appended since the last checkpoint, and whether the last line is one. */
  private sinceCheckpoint = 0;
  private lastIsCheckpoint = false;
  /** The log as found at open ended with a shutdown checkpoint (the last run signed its end). */
  private endedWithShutdown = false;
  /** The newest file holds no checkpoint at all (the log was written without a signing key). */
  private neverSigned = false;
  /** The start checkpoint `check()` asked for is not written yet: the next batch begins with it. */
  private startOwed = false;
  /** Where this run's start checkpoint went, once written: a later `check()` (a second gateway sharing the log) asks for none. */
  private startWritten: ChainFields | undefined;
  private checkpointTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: AuditLogOptions) {
    this.fs = options.fs ?? fsp;
    this.now = options.now ?? (() => new Date());
  }

  /** The process-wide writer of a directory: gateways started in one process share one chain. */
  static shared(options: AuditLogOptions): AuditLog {
    const key = path.resolve(options.dir);
    let slot = AuditLog.open.get(key);
    if (!slot) {
      slot = { log: new AuditLog({ ...options, dir: key }), users: 0 };
      AuditLog.open.set(key, slot);
    }
    slot.users++;
    return slot.log;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Appends one entry; resolves with its place in the chain once it is durable per the fsync policy. */
  append(entry: object): Promise<ChainFields> {
    return this.enqueue(entry);
  }

  /** Appends a signed checkpoint over the current head now (no-op without a signing key). */
  async checkpoint(reason: CheckpointReason): Promise<ChainFields | undefined> {
    if (!this.options.signer) return undefined;
    return this.enqueue(new CheckpointRequest(reason));
  }

  private enqueue(entry: object): Promise<ChainFields> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  /** For /readyz: why the log cannot be written, or undefined. After a failure it probes the disk again. */
  async problem(): Promise<string | undefined> {
    if (this.lockLost) return this.problemText();
    if (this.syncError) {
      try {
        await this.retrySync();
      } catch {
        return this.problemText();
      }
    }
    if (!this.lastError) return undefined;
    try {
      await this.ensureOpen();
      await this.probeWrite();
      this.lastError = undefined;
      return undefined;
    } catch (err) {
      this.lastError = describe(err);
      return this.problemText();
    }
  }

  /** Opens the log now (startup), so a bad directory is reported before the first request. */
  async check(): Promise<string | undefined> {
    // Signs what an earlier run left (a crash leaves an unsigned tail) and marks the restart; on a
    // new log it signs the empty chain, so the first records are a running gateway's tail at once.
    // Owed until written: a log opened later (a lock taken over once its holder went) signs its start first.
    this.startOwed = this.options.signer !== undefined && this.startWritten === undefined;
    try {
      await this.ensureOpen();
      if (this.startOwed) await this.checkpoint('start');
      return undefined;
    } catch (err) {
      this.lastError = describe(err);
      return this.problemText();
    }
  }

  /** One gateway is done with a shared log; the last one closes it. */
  async release(): Promise<void> {
    const key = path.resolve(this.options.dir);
    const slot = AuditLog.open.get(key);
    if (slot && slot.log === this) {
      slot.users--;
      if (slot.users > 0) return;
      AuditLog.open.delete(key);
    }
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    while (this.writing) await new Promise((r) => setTimeout(r, 5));
    clearInterval(this.syncTimer);
    clearInterval(this.checkpointTimer);
    if (this.current && this.head && this.head.seq > 0 && this.options.signer) {
      // A clean stop ends the log on a shutdown checkpoint: a verifier then knows nothing is missing after it.
      try {
        await this.writeLines(this.current, [this.sealCheckpoint('shutdown')], true);
        // Kept outside the log (the operator's log), this head tells a log cut back to an earlier shutdown from this one.
        this.options.warn?.(`audit: stopped on a signed shutdown checkpoint, seq ${this.head.seq}, hash ${this.head.hash}: \`audit verify\` should end here`);
      } catch (err) {
        this.options.warn?.(`audit: could not write the shutdown checkpoint: ${describe(err)}`);
      }
    }
    if (this.unsynced) {
      const left = this.unsynced;
      this.unsynced = undefined;
      await left.handle.datasync().catch((err: unknown) => this.options.warn?.(`audit: ${left.name} could still not be synced as the log closed (${describe(err)}): its last records may not be on disk`));
      await left.handle.close().catch(() => undefined);
    }
    if (this.current) {
      await this.current.handle.datasync().catch((err: unknown) => this.options.warn?.(`audit: the last fdatasync of ${this.current?.name} failed as the log closed (${describe(err)}): its last records may not be on disk`));
      await this.current.handle.close().catch(() => undefined);
      this.current = undefined;
    }
    await this.unlock();
  }

  private problemText(): string {
    return `audit: the audit log in ${this.options.dir} cannot be written (${this.lockLost ?? this.syncError ?? this.lastError}); guarded requests are refused with 503 audit_unavailable`;
  }

  /** A failed sync is remembered (and said once) until a sync of the current file succeeds. */
  private syncFailed(err: unknown, what: string): void {
    const first = this.syncError === undefined;
    this.syncError = `${what}: ${describe(err)}`;
    this.dirty = true;
    if (first) this.options.warn?.(`audit: ${this.syncError}; records already acknowledged may not be on disk; guarded requests are refused with 503 until a sync succeeds`);
  }

  /** Syncs the current file now; clears the sticky sync error when it succeeds, throws when it does not. */
  private async retrySync(): Promise<void> {
    try {
      if (this.unsynced) {
        await this.unsynced.handle.datasync();
        await this.unsynced.handle.close().catch(() => undefined);
        this.unsynced = undefined;
      }
      if (this.current) await this.current.handle.datasync();
    } catch (err) {
      this.syncFailed(err, 'fdatasync of the audit log failed');
      throw new Error(this.syncError);
    }
    if (this.syncError) this.options.warn?.('audit: a sync of the audit log succeeded again; writing resumes');
    this.syncError = undefined;
    this.dirty = false;
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          if (this.syncError) await this.retrySync();
          const fields = await this.writeBatch(batch.map((p) => p.entry));
          this.lastError = undefined;
          batch.forEach((p, i) => p.resolve(fields[i]));
        } catch (err) {
          this.lastError = describe(err);
          const error = err instanceof Error ? err : new Error(String(err));
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private async writeBatch(entries: object[]): Promise<ChainFields[]> {
    // The heartbeat is overdue (this process was paused, the clock stepped): the lock is read back
    // before anything is written, not after the records a resumed process serves first.
    if (this.heartbeating) await this.heartbeating;
    if (this.lockHeld && this.lockMine && performance.now() - this.lockCheckedAt > LOCK_HEARTBEAT_MS * 1.5) await this.heartbeat(path.join(this.options.dir, LOCK), this.lockMine);
    if (this.lockLost) throw new Error(this.lockLost);
    await this.ensureOpen();
    await this.rotateIfDue();
    // The file rotation just closed did not sync: nothing more is acknowledged until it does.
    if (this.syncError) throw new Error(this.syncError);
    const file = this.current!;
    const head = { ...this.head! };
    const counts = { since: this.sinceCheckpoint, lastIsCheckpoint: this.lastIsCheckpoint };
    const ts = this.now().toISOString();
    const lines: Sealed[] = [];
    const fields: ChainFields[] = [];
    const push = (line: Sealed): ChainFields => {
      lines.push(line);
      head.seq = line.fields.seq;
      head.hash = line.fields.hash;
      return line.fields;
    };
    const signer = this.options.signer;
    let start: ChainFields | undefined;
    for (const entry of entries) {
      if (this.startOwed && !start) {
        start = push(this.sealStartCheckpoint(head, ts));
        counts.since = 0;
        counts.lastIsCheckpoint = true;
      }
      // One start per run: a second request for it (two gateways sharing this log) is answered with it.
      const startMet = start ?? this.startWritten;
      if (entry instanceof CheckpointRequest && entry.reason === 'start' && startMet) {
        fields.push(startMet);
        continue;
      }
      if (entry instanceof CheckpointRequest) {
        fields.push(push(this.sealCheckpoint(entry.reason, head, ts)));
        counts.since = 0;
        counts.lastIsCheckpoint = true;
        continue;
      }
      fields.push(push(sealLine(entry, head, ts)));
      counts.since++;
      counts.lastIsCheckpoint = false;
      // Inside the batch, right at the count: the unsigned stretch never exceeds every.records.
      if (signer && counts.since >= signer.everyRecords) {
        push(this.sealCheckpoint('records', head, ts));
        counts.since = 0;
        counts.lastIsCheckpoint = true;
      }
    }
    await this.writeLines(file, lines, false);
    if (start) {
      this.startOwed = false;
      this.startWritten = start;
    }
    this.sinceCheckpoint = counts.since;
    this.lastIsCheckpoint = counts.lastIsCheckpoint;
    return fields;
  }

  /** The restart's checkpoint over the head as found; says first if the last run did not sign its end. */
  private sealStartCheckpoint(head: { seq: number; hash: string }, ts: string): Sealed {
    if (head.seq > 0 && !this.endedWithShutdown && !this.neverSigned) this.options.warn?.(`audit: the log ends at seq ${head.seq} without a shutdown checkpoint: the last run stopped without signing its end (a crash), or records were removed while the gateway was stopped; \`audit verify\` counts such restarts`);
    return this.sealCheckpoint('start', head, ts);
  }

  /** A signed checkpoint over `head` (default: the log's head), sealed as the next record. */
  private sealCheckpoint(reason: CheckpointReason, head = this.head!, ts = this.now().toISOString()): Sealed {
    return sealLine(signCheckpoint(this.options.signer!, head, ts, reason), head, ts);
  }

  /** Writes sealed lines at the end of `file` and moves the head; a lone checkpoint is synced at once and resets the count. */
  private async writeLines(file: Current, sealed: Sealed[], isCheckpoint: boolean): Promise<void> {
    if (sealed.length === 0) return;
    const bytes = Buffer.from(sealed.map((l) => l.line).join(''), 'utf8');
    // Whether the file still has its name, asked beside the write (no wait added): moved (logrotate's
    // `mv`) or deleted under the writer, its records would go where no audit tool reads them.
    const named = this.fs.stat(path.join(this.options.dir, file.name)).then(
      (st) => st.ino,
      // Only a name that is not there says so: any other failure (a network file system's hiccup) is no news.
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : file.ino),
    );
    try {
      let written = 0;
      while (written < bytes.length) written += (await file.handle.write(bytes, written, bytes.length - written)).bytesWritten;
      // Under `always` the file is open with O_DSYNC: each write returns once its bytes are on disk
      // (one trip to the I/O thread, not a write and then an fdatasync).
      if (this.options.fsync === 'interval') {
        if (isCheckpoint) await file.handle.datasync();
        else this.dirty = true;
      }
    } catch (err) {
      // Nothing of this batch was acknowledged: take its bytes back out so the file ends on a whole
      // record; if even that fails, the next batch starts a new file after the torn one.
      try {
        const end = await this.endBefore(file, bytes);
        await file.handle.truncate(end);
        file.size = end;
      } catch {
        await file.handle.close().catch(() => undefined);
        this.current = undefined;
        this.startFresh = true;
      }
      throw err;
    }
    const unnamed = (await named) !== file.ino;
    // Deleted: these records are gone (not acknowledged; the chain goes on from the last one kept).
    if (unnamed) await this.fileGone(file);
    file.size += bytes.length;
    const last = sealed[sealed.length - 1].fields;
    this.head = { seq: last.seq, hash: last.hash };
    if (isCheckpoint) {
      this.sinceCheckpoint = 0;
      this.lastIsCheckpoint = true;
    }
  }

  /**
   * Where `file` ended before a failed write of `bytes` began: where the bytes of this batch that
   * landed start. The remembered size when the bytes after it are the batch's; otherwise (the file
   * truncated under the writer, logrotate's copytruncate: cutting at the remembered size padded it
   * with zero bytes, or left a landed record) the longest run at the file's end that starts a line
   * and is the batch's beginning. Nothing of the batch found: the file's end.
   */
  private async endBefore(file: Current, bytes: Buffer): Promise<number> {
    const size = (await file.handle.stat()).size;
    const tailLength = Math.min(size, bytes.length + 1);
    const tail = Buffer.alloc(tailLength);
    // The file the handle writes, moved or not (Linux: /proc/self/fd), else by its name if that is still it.
    const reader = await this.readerOf(file);
    if (!reader) return size >= file.size ? file.size : size;
    try {
      await reader.read(tail, 0, tailLength, size - tailLength);
    } finally {
      await reader.close();
    }
    // tail[i] is the file's byte at size - tailLength + i.
    const landedFrom = (end: number) => {
      const k = size - end;
      if (k < 0 || k > bytes.length || k > tailLength) return false;
      const at = tailLength - k;
      const lineStart = end === 0 || (at > 0 && tail[at - 1] === 0x0a);
      return lineStart && tail.subarray(at).equals(bytes.subarray(0, k));
    };
    if (landedFrom(file.size)) return file.size;
    for (let k = Math.min(bytes.length, tailLength); k > 0; k--) if (landedFrom(size - k)) return size - k;
    return size;
  }

  /** A read handle on the very file `file` writes (its handle is write-only), or undefined. */
  private async readerOf(file: Current): Promise<FileHandle | undefined> {
    for (const where of [`/proc/self/fd/${file.handle.fd}`, path.join(this.options.dir, file.name)]) {
      const reader = await this.fs.open(where, 'r').catch(() => undefined);
      if (!reader) continue;
      if ((await reader.stat().catch(() => undefined))?.ino === file.ino) return reader;
      await reader.close().catch(() => undefined);
    }
    return undefined;
  }

  /**
   * The open file lost its name: closed, and the next batch starts a new file (the lock taken again,
   * the directory made again if it went). Deleted, it throws: the batch just written is lost with it.
   * Moved, its records are durable under the new name, which audit tools do not read: said once.
   */
  private async fileGone(file: Current): Promise<void> {
    const links = await file.handle.stat().then(
      (st) => st.nlink,
      () => 1,
    );
    // Its records must be on disk before the batch is acknowledged, as any other file's: a failed
    // sync holds the log (syncFailed) until a sync succeeds.
    let synced = true;
    await file.handle.datasync().catch((err: unknown) => {
      synced = false;
      this.syncFailed(err, `fdatasync of ${file.name}, moved or deleted under the writer, failed`);
    });
    if (synced) await file.handle.close().catch(() => undefined);
    else {
      await this.unsynced?.handle.close().catch(() => undefined);
      this.unsynced = file;
    }
    file.gone = true;
    if (this.current === file) this.current = undefined;
    this.relock = true;
    // A new file, never the newest one left (it would take records after the moved one's).
    this.startFresh = true;
    if (links === 0) {
      const message = `${file.name} was deleted while the gateway wrote it; the records just written went with it, and a new file continues the chain`;
      this.options.warn?.(`audit: ${message}`);
      throw new Error(message);
    }
    this.options.warn?.(`audit: ${file.name} was moved or replaced while the gateway wrote it; its records up to seq ${this.head?.seq ?? 0} and the batch just written are in the moved file, which audit tools read only under its own name (move it back beside the others); a new file continues the chain`);
  }

  private ensureOpen(): Promise<void> {
    if (this.current && this.head) return Promise.resolve();
    this.opening ??= this.openLog().finally(() => {
      this.opening = undefined;
    });
    return this.opening;
  }

  private async openLog(): Promise<void> {
    const dir = this.options.dir;
    await this.fs.mkdir(dir, { recursive: true });
    if (!this.head || this.relock) {
      // Again after the log's file went from under it (the directory deleted takes the lock with it).
      await this.lock();
      this.relock = false;
    }
    this.head ??= await this.recoverHead();
    const names = (await this.fs.readdir(dir)).filter((n) => FILE.test(n)).sort();
    const last = names[names.length - 1];
    this.startCheckpointTimer();
    if (last && !this.startFresh) {
      const size = (await this.fs.stat(path.join(dir, last))).size;
      const created = auditFileCreated(last) ?? 0;
      if (!this.due(size, created)) {
        const handle = await this.fs.open(path.join(dir, last), this.appendFlags());
        this.current = { handle, name: last, size, created, ino: (await handle.stat()).ino };
        this.startSyncTimer();
        return;
      }
    }
    await this.startFile();
  }

  /** Every T seconds, busy or idle: a verifier reads an old last checkpoint as a truncated log or a dead writer. */
  private startCheckpointTimer(): void {
    const signer = this.options.signer;
    if (!signer || this.checkpointTimer) return;
    this.checkpointTimer = setInterval(() => {
      if (this.closed || !this.head || this.head.seq === 0) return;
      this.checkpoint('interval').catch(() => undefined);
    }, signer.everySeconds * 1000);
    this.checkpointTimer.unref();
  }

  /** The last record's seq and hash (GENESIS for a new log); a torn last line from a crash is cut off. */
  private async recoverHead(): Promise<{ seq: number; hash: string }> {
    const dir = this.options.dir;
    const names = (await this.fs.readdir(dir)).filter((n) => FILE.test(n)).sort();
    for (let i = names.length - 1; i >= 0; i--) {
      const file = path.join(dir, names[i]);
      let text = await this.fs.readFile(file, 'utf8');
      if (text.length > 0 && !text.endsWith('\n')) {
        // A write cut short by a crash: never acknowledged, so not part of the log.
        const keep = text.lastIndexOf('\n') + 1;
        const handle = await this.fs.open(file, 'r+');
        try {
          await handle.truncate(Buffer.byteLength(text.slice(0, keep), 'utf8'));
          await handle.datasync();
        } finally {
          await handle.close();
        }
        this.options.warn?.(`audit: removed an incomplete last line from ${names[i]} (a write interrupted by a crash)`);
        text = text.slice(0, keep);
      }
      const lines = text.split('\n').filter((l) => l.length > 0);
      if (lines.length === 0) continue;
      const lastLine = lines[lines.length - 1];
      this.countSinceCheckpoint(lines);
      this.endedWithShutdown = this.lastIsCheckpoint && lastLine.includes('"reason":"shutdown"');
      // A log never signed before (a signing key added now) has no shutdown checkpoint to miss.
      this.neverSigned = !lines.some((l) => l.includes('"kind":"checkpoint"'));
      try {
        const record = JSON.parse(lastLine) as { seq?: unknown; hash?: unknown };
        if (Number.isSafeInteger(record.seq) && typeof record.hash === 'string') return { seq: record.seq as number, hash: record.hash };
      } catch {
        /* reported below */
      }
      throw new Error(`the last record of ${names[i]} is unreadable; run \`safety-gateway audit verify\` and move the damaged file aside`);
    }
    return { seq: 0, hash: GENESIS };
  }

  /** Records after the last checkpoint of the newest file (a restart goes on counting from there). */
  private countSinceCheckpoint(lines: string[]): void {
    let since = 0;
    for (let i = lines.length - 1; i >= 0 && !lines[i].includes('"kind":"checkpoint"'); i--) since++;
    this.sinceCheckpoint = since;
    this.lastIsCheckpoint = since === 0;
  }

  private due(size: number, created: number): boolean {
    return size > 0 && (size >= this.options.maxFileBytes || this.now().getTime() - created >= this.options.maxFileAgeMs);
  }

  private async rotateIfDue(): Promise<void> {
    if (this.current && this.due(this.current.size, this.current.created)) {
      const old = this.current;
      // Each file ends signed: an archived file can be checked on its own up to its last record.
      if (this.options.signer && !this.lastIsCheckpoint) await this.writeLines(old, [this.sealCheckpoint('rotation')], true);
      this.current = undefined;
      // The file lost its name as the checkpoint went in: fileGone synced and closed it, and the next file is owed anyway.
      if (old.gone) return this.startFile();
      // A file whose last sync failed stays open until a sync of it succeeds (retrySync): until then its
      // acknowledged records may not be on disk, and appends are refused.
      const synced = await old.handle.datasync().then(
        () => true,
        (err: unknown) => (this.syncFailed(err, `fdatasync of ${old.name} at rotation failed`), false),
      );
      if (synced) await old.handle.close().catch(() => undefined);
      else {
        await this.unsynced?.handle.close().catch(() => undefined);
        this.unsynced = old;
      }
    }
    if (!this.current) await this.startFile();
  }

  private async startFile(): Promise<void> {
    let created = this.now();
    const existing = new Set(await this.fs.readdir(this.options.dir));
    // Never append to a file left torn by a failed write (same first seq, same second).
    while (this.startFresh && existing.has(auditFileName(this.head!.seq + 1, created))) created = new Date(created.getTime() + 1000);
    const name = auditFileName(this.head!.seq + 1, created);
    const handle = await this.fs.open(path.join(this.options.dir, name), this.appendFlags());
    this.startFresh = false;
    const st = await handle.stat();
    this.current = { handle, name, size: st.size, created: Math.floor(created.getTime() / 1000) * 1000, ino: st.ino };
    // The new file's directory entry must survive a power loss too.
    if (this.options.fsync === 'always') await this.syncDir();
    this.startSyncTimer();
  }

  /** Append mode; under `always` also O_DSYNC, so a write is durable when it returns (what fdatasync after it would make it). */
  private appendFlags(): number {
    const append = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT;
    return this.options.fsync === 'always' ? append | constants.O_DSYNC : append;
  }

  private async syncDir(): Promise<void> {
    const handle = await this.fs.open(this.options.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  private startSyncTimer(): void {
    if (this.options.fsync !== 'interval' || this.syncTimer) return;
    this.syncTimer = setInterval(() => {
      if (!this.dirty || !this.current) return;
      this.dirty = false;
      const syncing = this.current;
      syncing.handle.datasync().then(
        () => {
          if (this.syncError && this.current === syncing) void this.retrySync().catch(() => undefined);
        },
        (err: unknown) => this.syncFailed(err, 'fdatasync of the audit log failed'),
      );
    }, this.options.fsyncIntervalMs);
    this.syncTimer.unref();
  }

  /**
   * One writer per directory across processes: a second gateway on the same dir would fork the
   * chain. The lock names its holder (host, pid, a token of this instance) and the holder touches it
   * every LOCK_HEARTBEAT_MS: pids alone cannot tell containers apart (each runs node as pid 1 in its
   * own pid namespace, where the other's pid never looks alive), so a lock from another host, or
   * one whose process cannot be seen, counts as held while its heartbeat is fresh.
   */
  private async lock(): Promise<void> {
    const file = path.join(this.options.dir, LOCK);
    const mine = lockContent(this.lockToken);
    try {
      await this.fs.writeFile(file, mine, { flag: 'wx' });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = parseLock(await this.fs.readFile(file, 'utf8').catch(() => ''));
      const age = Date.now() - ((await this.fs.stat(file).catch(() => undefined))?.mtimeMs ?? 0);
      // Pids compare only within one pid namespace: containers sharing a host name (host networking)
      // each run node as pid 1 in their own.
      const sameHost = sameHostAs(holder);
      // Left by this process (a test that did not close), or by a process of this host that is gone, or silent too long.
      const stale = holderGone(holder, age, LOCK_STALE_MS);
      if (!stale) {
        const who = holder.pid === undefined ? 'another gateway' : `another gateway process (pid ${holder.pid}${holder.host && !sameHost ? ` on ${holder.host}` : ''}`;
        throw new Error(`the audit directory is in use by ${who}${holder.pid === undefined ? '' : ')'}, ${file}; give each replica its own audit.dir (a lock of a process that is gone is taken over at once; one from another host or container after ${LOCK_STALE_MS / 1000} s without its heartbeat)`);
      }
      // Replaced in one rename, then read back: of two processes taking over at once, one keeps it.
      const temp = `${file}.${process.pid}.${this.lockToken}`;
      await this.fs.writeFile(temp, mine);
      await this.fs.rename(temp, file);
      await new Promise((r) => setTimeout(r, 20));
      if ((await this.fs.readFile(file, 'utf8').catch(() => '')) !== mine) throw new Error(`the audit directory was locked by another gateway as this one took it over (${file}); give each replica its own audit.dir`);
    }
    this.lockHeld = true;
    this.lockLost = undefined;
    this.lockCheckedAt = performance.now();
    this.lockMine = mine;
    clearInterval(this.lockTimer);
    this.lockTimer = setInterval(() => void this.heartbeat(file, mine), LOCK_HEARTBEAT_MS);
    this.lockTimer.unref();
  }

  /**
   * Touches the lock, and reads it back: a lock that now names another writer (taken over while this
   * process was paused past LOCK_STALE_MS on a shared volume) means two writers on one chain, so
   * this one stops writing (503 audit_unavailable, readiness fails) until it is restarted.
   */
  private heartbeat(file: string, mine: string): Promise<void> {
    // One read-back at a time: a write waits for the one under way (a resumed process's overdue timer).
    this.heartbeating ??= this.readBack(file, mine).finally(() => {
      this.heartbeating = undefined;
    });
    return this.heartbeating;
  }

  private async readBack(file: string, mine: string): Promise<void> {
    const seen = await this.fs.readFile(file, 'utf8').catch(() => undefined);
    this.lockCheckedAt = performance.now();
    // Not there, or being written (a relock's create): no news.
    if (seen === undefined || seen.trim() === '') return;
    if (seen === mine) {
      // Touched only while it is this writer's: never another writer's lock kept fresh by this one.
      const now = new Date();
      await this.fs.utimes(file, now, now).catch(() => undefined);
      return;
    }
    if (this.lockLost) return;
    const holder = parseLock(seen);
    this.lockLost = `the audit directory's lock was taken over by another gateway${holder.pid === undefined ? '' : ` (pid ${holder.pid}${holder.host ? ` on ${holder.host}` : ''})`} while this one held it; this one writes no more, so the chain does not fork: restart it with its own audit.dir`;
    this.options.warn?.(`audit: ${this.lockLost}`);
  }

  /** Removes the lock if it is still this instance's. */
  private async unlock(): Promise<void> {
    clearInterval(this.lockTimer);
    this.lockTimer = undefined;
    if (!this.lockHeld) return;
    this.lockHeld = false;
    const file = path.join(this.options.dir, LOCK);
    const holder = parseLock(await this.fs.readFile(file, 'utf8').catch(() => ''));
    if (holder.token === this.lockToken) await this.fs.unlink(file).catch(() => undefined);
  }

  private async probeWrite(): Promise<void> {
    const file = path.join(this.options.dir, '.probe');
    const handle = await this.fs.open(file, 'w');
    try {
      await handle.write(Buffer.alloc(4096, 0x20));
      await handle.datasync();
    } finally {
      await handle.close();
      await this.fs.unlink(file).catch(() => undefined);
    }
  }
}

interface Sealed {
  line: string;
  fields: ChainFields;
}

function sealLine(entry: object, head: { seq: number; hash: string }, ts: string): Sealed {
  const sealed = seal(entry, head.seq + 1, head.hash, ts);
  return { line: sealed.line, fields: { seq: sealed.record.seq, ts, prev: sealed.record.prev, hash: sealed.record.hash } };
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const message = (e?.message ?? String(err)).split('\n')[0];
  return e?.code && !message.startsWith(e.code) ? `${e.code}: ${message}` : message;
}
