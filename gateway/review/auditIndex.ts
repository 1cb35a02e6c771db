import Database from 'better-sqlite3';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, existsSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import path from 'node:path';
import { listAuditFiles } from '../audit/auditFiles';
import type { ChainAnchor } from '../audit/chainVerifier';
import { asCheckpoint, checkCheckpoint, type CheckpointStatus, type PublicKeys } from '../audit/checkpoint';
import { judgeCheckpoints, noteStart, type CheckpointSummary, type SignedReport } from '../audit/checkpointVerifier';
import { recordHash } from '../audit/hashChain';
import { checkLine, type CursorState } from './chainCursor';
import { FACETS, SCHEMA, SCHEMA_VERSION, type Facet } from './indexSchema';
import { claimIndex, type IndexClaim } from './indexClaim';
import { toIndexedLine } from './recordRow';
import { canonicalJson } from '../audit/canonicalJson';

export interface AuditIndexOptions {
  auditDir: string;
  /** The SQLite file; default `.review-index.sqlite` in the audit directory. */
  indexFile?: string;
  /** Keys that checkpoints are checked against (none: checkpoints are listed, not trusted). */
  publicKeys: PublicKeys;
  /** The last record of older files archived and removed: the log must continue from it (`--after SEQ:HASH`). */
  after?: ChainAnchor;
  log?: (line: string) => void;
  /** How long one slice of indexing may hold the event loop before it yields (the gateway keeps serving). */
  sliceMs?: number;
  now?: () => Date;
  /** Drop what the index holds and build it again. */
  rebuild?: boolean;
}

export interface IndexStatus {
  lines: number;
  files: number;
  indexing: boolean;
  bytesIndexed: number;
  bytesTotal: number;
  /** Why the last refresh failed, if it did. */
  error?: string;
}

export interface ChainStatus {
  lines: number;
  problems: number;
  first?: { recordId: number | null; file: string; line: number; seq: number | null; kind: string; message: string };
  signed?: SignedReport;
  keysGiven: number;
  checkpoints: { total: number; invalid: number };
  /** The archived part's last record the log was checked to continue from, when one was given. */
  after?: ChainAnchor;
  /**
   * Bytes after the newest file's last newline, not indexed: a record being written, or, when the
   * file has not changed for a while (records are written whole), one cut off (`audit verify`
   * reports it as corrupt).
   */
  unfinished?: { file: string; bytes: number; unchangedMs: number };
}

/** Everything the chain check carries from one line to the next, stored after each file. */
interface WalkState {
  cursor: CursorState;
  /** The record before the next line, its hash recomputed (what a checkpoint must sign). */
  previous?: { seq: number; hash: string };
  signed: CheckpointSummary;
  problems: number;
}

interface FileRow {
  name: string;
  indexed_bytes: number;
  lines: number;
  mtime_ms: number;
  prefix_sha256: string;
  first_id: number | null;
  state_after: string;
}

const CHUNK = 4 << 20;
/** The longest line read whole: a record with captured content can pass CHUNK (a 4 MiB body plus its answer). */
const MAX_LINE = 64 << 20;
const MAX_PROBLEM_ROWS = 10_000;
/**
 * Values kept per filter dropdown (app, key, route, ...): a refused request to a made-up path
 * records that path as its route, so an unauthenticated client could otherwise grow the set (and
 * this process's memory) without bound. Records past the cap are still indexed and searchable.
 */
export const MAX_FACET_VALUES = 5_000;
const MAX_INVALID_KEPT = 50;

/** Before the first line: with older files archived, the record before it is their last (what a first checkpoint signs). */
function initialState(after: ChainAnchor | undefined): WalkState {
  return { cursor: { lines: 0 }, ...(after ? { previous: { ...after } } : {}), signed: { records: 0, checkpoints: 0, valid: 0, invalid: [], tail: { records: 0 } }, problems: 0 };
}

/** How the index remembers which anchor its chain check ran against ('' for none). */
function anchorKey(after: ChainAnchor | undefined): string {
  return after ? `${after.seq}:${after.hash}` : '';
}

/**
 * The review page's index of an audit directory, built beside the log and kept up to date as it
 * grows: files are read from where the index stopped, each line checked against the chain (and each
 * checkpoint against the public keys) as it is indexed. A file that changed other than by appending
 * (edited, replaced, removed) is indexed again from that file on. At the first refresh of a process
 * every indexed prefix is hashed again, so an edit made while no index was running shows too.
 */
export class AuditIndex {
  readonly db: Database.Database;
  readonly file: string;
  private readonly claim: IndexClaim;
  private readonly sliceMs: number;
  private readonly now: () => Date;
  private state: WalkState;
  private readonly facets = new Set<string>();
  private readonly facetCounts = new Map<string, number>();
  private readonly prefixHashes = new Map<string, Hash>();
  private prefixesChecked = false;
  /** The newest file's bytes after its last newline, at the last refresh. */
  private unfinished: { file: string; bytes: number; mtimeMs: number } | undefined;
  private refreshing: Promise<void> | undefined;
  private progress = { bytesIndexed: 0, bytesTotal: 0 };
  private lastError: string | undefined;
  private closed = false;
  private readonly insert: {
    record: Database.Statement;
    verdict: Database.Statement;
    category: Database.Statement;
    checkpoint: Database.Statement;
    problem: Database.Statement;
    facet: Database.Statement;
    file: Database.Statement;
    meta: Database.Statement;
  };

  constructor(private readonly options: AuditIndexOptions) {
    this.claim = claimIndex(options.indexFile ?? path.join(options.auditDir, '.review-index.sqlite'), options.log);
    this.file = this.claim.file;
    this.sliceMs = options.sliceMs ?? 25;
    this.now = options.now ?? (() => new Date());
    try {
      this.db = new Database(this.file);
    } catch (err) {
      this.claim.release();
      throw new Error(`cannot open the review index ${this.file}: ${(err as Error).message} (give another place with --index FILE or review.index_file)`);
    }
    this.db.pragma('journal_mode = WAL');
    // The index can always be rebuilt from the log: durability of its last writes does not matter.
    this.db.pragma('synchronous = OFF');
    this.db.pragma('busy_timeout = 5000');
    this.state = initialState(options.after);
    const keys = [...options.publicKeys.keys()].sort().join(',');
    const version = this.metaValue('schema');
    // Problems found against another anchor (or none) are not this check's: build again. An index
    // from before anchors has no `after`, which is none.
    const anchorChanged = (this.metaValue('after') ?? '') !== anchorKey(options.after);
    if (options.rebuild || version !== String(SCHEMA_VERSION) || this.metaValue('keys') !== keys || anchorChanged) this.dropAll();
    this.db.exec(SCHEMA);
    this.insert = {
      record: this.db.prepare(
        `INSERT INTO records (file, line, offset, length, seq, hash, ts, kind, received_ms, request_id, client_request_id, trace_id, app, key_id, route, action, status, policy_id, policy_version, rules, summary, error_type, total_ms, capture, requests, problem)
         VALUES (@file, @line, @offset, @length, @seq, @hash, @ts, @kind, @received_ms, @request_id, @client_request_id, @trace_id, @app, @key_id, @route, @action, @status, @policy_id, @policy_version, @rules, @summary, @error_type, @total_ms, @capture, @requests, @problem)`,
      ),
      verdict: this.db.prepare(
        'INSERT INTO verdicts (record_id, received_ms, direction, guard, label, rule_id, mode, outcome, score, latency_ms, deciding) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      category: this.db.prepare('INSERT INTO verdict_categories (verdict_id, record_id, category) VALUES (?, ?, ?)'),
      checkpoint: this.db.prepare('INSERT INTO checkpoints (record_id, seq, status, message, prev_seq, prev_hash, body) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      problem: this.db.prepare('INSERT INTO problems (record_id, file, line, seq, kind, message) VALUES (?, ?, ?, ?, ?, ?)'),
      facet: this.db.prepare('INSERT OR IGNORE INTO facets (dimension, value) VALUES (?, ?)'),
      file: this.db.prepare(
        `INSERT INTO files (name, indexed_bytes, lines, mtime_ms, prefix_sha256, first_id, state_after) VALUES (@name, @indexed_bytes, @lines, @mtime_ms, @prefix_sha256, @first_id, @state_after)
         ON CONFLICT(name) DO UPDATE SET indexed_bytes = excluded.indexed_bytes, lines = excluded.lines, mtime_ms = excluded.mtime_ms, prefix_sha256 = excluded.prefix_sha256, first_id = COALESCE(files.first_id, excluded.first_id), state_after = excluded.state_after`,
      ),
      meta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
    this.insert.meta.run('schema', String(SCHEMA_VERSION));
    this.insert.meta.run('keys', keys);
    this.insert.meta.run('after', anchorKey(options.after));
    for (const row of this.db.prepare('SELECT dimension, value FROM facets').all() as { dimension: string; value: string }[]) {
      this.facets.add(`${row.dimension}\u0000${row.value}`);
      this.facetCounts.set(row.dimension, (this.facetCounts.get(row.dimension) ?? 0) + 1);
    }
    const last = this.db.prepare('SELECT state_after FROM files ORDER BY name DESC LIMIT 1').get() as { state_after: string } | undefined;
    if (last) this.state = JSON.parse(last.state_after) as WalkState;
  }

  /** Brings the index up to the log's end; concurrent callers share one pass. */
  refresh(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.refreshing ??= this.walk()
      .then(() => {
        this.lastError = undefined;
      })
      .catch((err: unknown) => {
        this.lastError = (err as Error)?.message ?? String(err);
        this.options.log?.(`review: indexing ${this.options.auditDir} failed: ${this.lastError}`);
      })
      .finally(() => {
        this.refreshing = undefined;
      });
    return this.refreshing;
  }

  /** Starts a refresh and waits for it up to `waitMs`; false when it is still running (the page says so). */
  async catchUp(waitMs: number): Promise<boolean> {
    const pass = this.refresh();
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([pass.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), waitMs)))]);
    clearTimeout(timer);
    return done;
  }

  status(): IndexStatus {
    const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM files').get() as { n: number };
    return { lines: this.state.cursor.lines, files: n, indexing: this.refreshing !== undefined, ...this.progress, error: this.lastError };
  }

  chainStatus(): ChainStatus {
    const first = this.db.prepare('SELECT record_id AS recordId, file, line, seq, kind, message FROM problems ORDER BY id LIMIT 1').get() as ChainStatus['first'];
    const cps = this.db.prepare("SELECT COUNT(*) AS total, SUM(status != 'valid') AS invalid FROM checkpoints").get() as { total: number; invalid: number | null };
    const keysGiven = this.options.publicKeys.size;
    return {
      lines: this.state.cursor.lines,
      problems: this.state.problems,
      first,
      signed: keysGiven > 0 ? judgeCheckpoints(this.state.signed, this.now()) : undefined,
      keysGiven,
      checkpoints: { total: cps.total, invalid: cps.invalid ?? 0 },
      after: this.options.after,
      ...(this.unfinished ? { unfinished: { file: this.unfinished.file, bytes: this.unfinished.bytes, unchangedMs: this.now().getTime() - this.unfinished.mtimeMs } } : {}),
    };
  }

  /** Distinct values seen for a filter dimension, sorted. */
  facetValues(dimension: Facet, limit = 500): string[] {
    return (this.db.prepare('SELECT value FROM facets WHERE dimension = ? ORDER BY value LIMIT ?').all(dimension, limit) as { value: string }[]).map((r) => r.value);
  }

  /**
   * The line of an indexed record as it is in its file now. `changed` when it no longer is what was
   * indexed (the file was edited since): the caller says so, and the next refresh re-indexes it.
   */
  readRecord(row: { file: string; offset: number; length: number; hash: string | null }): { text?: string; changed: boolean } {
    const file = path.join(this.options.auditDir, path.basename(row.file));
    let fd: number | undefined;
    try {
      fd = openSync(file, 'r');
      const buf = Buffer.alloc(row.length);
      const n = readSync(fd, buf, 0, row.length, row.offset);
      const text = buf.toString('utf8', 0, n);
      let claimed: unknown;
      try {
        claimed = (JSON.parse(text) as { hash?: unknown }).hash;
      } catch {
        claimed = undefined;
      }
      return { text, changed: n !== row.length || (row.hash !== null && claimed !== row.hash) };
    } catch {
      return { changed: true };
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
    this.claim.release();
  }

  private metaValue(key: string): string | undefined {
    try {
      return (this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
    } catch {
      return undefined;
    }
  }

  private dropAll(): void {
    for (const table of ['meta', 'files', 'records', 'verdicts', 'verdict_categories', 'checkpoints', 'problems', 'facets']) this.db.exec(`DROP TABLE IF EXISTS ${table}`);
  }

  private async walk(): Promise<void> {
    const names = listAuditFiles(this.options.auditDir).map((f) => path.basename(f));
    const known = this.db.prepare('SELECT * FROM files ORDER BY name').all() as FileRow[];
    const sizes = new Map(names.map((n) => [n, statSync(path.join(this.options.auditDir, n))]));
    this.progress = { bytesIndexed: 0, bytesTotal: [...sizes.values()].reduce((s, st) => s + st.size, 0) };

    // The first known file that is no longer what was indexed: everything from it on is indexed again.
    let redoFrom: number | undefined;
    for (let i = 0; i < known.length && redoFrom === undefined; i++) {
      const row = known[i];
      const st = sizes.get(row.name);
      const isLast = i === known.length - 1;
      if (!st || st.size < row.indexed_bytes) redoFrom = i;
      else if (st.size === row.indexed_bytes && st.mtimeMs !== row.mtime_ms && !isLast) redoFrom = i;
      else if (st.size > row.indexed_bytes && !isLast) redoFrom = i;
      else if (names.indexOf(row.name) !== i) redoFrom = i;
    }
    if (!this.prefixesChecked && redoFrom === undefined) {
      // The first pass of a process trusts nothing the index stored: each indexed prefix is read
      // again and its chain and signatures checked again. Whoever can rewrite the log beside the
      // index can rewrite the stored prefix hashes and states too (the page then said "intact" of
      // a rewritten log), but not make re-hashed records carry valid checkpoint signatures.
      let state = initialState(this.options.after);
      for (let i = 0; i < known.length && redoFrom === undefined; i++) {
        const checked = await this.recheckPrefix(known[i].name, known[i].indexed_bytes, state);
        state = checked.state;
        // Compared key-order-free: a state read back from the index lists its members in another order.
        if (checked.hash.copy().digest('hex') !== known[i].prefix_sha256 || canonicalJson(state) !== canonicalJson(JSON.parse(known[i].state_after))) redoFrom = i;
        else this.prefixHashes.set(known[i].name, checked.hash);
      }
    }
    this.prefixesChecked = true;
    let keep = known;
    if (redoFrom !== undefined) {
      this.options.log?.(`review: ${known[redoFrom].name} changed since it was indexed (not by appending): indexing again from there`);
      keep = known.slice(0, redoFrom);
      this.forgetFrom(known[redoFrom].name, keep[keep.length - 1]);
    }
    for (const row of keep) this.progress.bytesIndexed += row.indexed_bytes;
    const lastKept = keep[keep.length - 1];
    for (const name of names) {
      if (this.closed) return;
      if (lastKept && name < lastKept.name) continue;
      const from = lastKept && name === lastKept.name ? lastKept : undefined;
      await this.indexFile(name, from, name === names[names.length - 1]);
    }
  }

  /** Drops what was indexed from file `name` on, and goes back to the state after `before`. */
  private forgetFrom(name: string, before: FileRow | undefined): void {
    const { minId } = this.db.prepare('SELECT MIN(id) AS minId FROM records WHERE file >= ?').get(name) as { minId: number | null };
    this.db.transaction(() => {
      if (minId !== null) {
        for (const table of ['verdicts', 'verdict_categories', 'problems']) this.db.prepare(`DELETE FROM ${table} WHERE record_id >= ?`).run(minId);
        this.db.prepare('DELETE FROM checkpoints WHERE record_id >= ?').run(minId);
        this.db.prepare('DELETE FROM records WHERE id >= ?').run(minId);
      }
      this.db.prepare('DELETE FROM problems WHERE file >= ?').run(name);
      this.db.prepare('DELETE FROM files WHERE name >= ?').run(name);
    })();
    for (const key of [...this.prefixHashes.keys()]) if (key >= name) this.prefixHashes.delete(key);
    this.state = before ? (JSON.parse(before.state_after) as WalkState) : initialState(this.options.after);
  }

  /**
   * The first `bytes` of `name` hashed, and its lines checked again from `state` (the chain and the
   * signatures, as indexing checks them, without writing anything): what the index should have
   * stored after this file.
   */
  private async recheckPrefix(name: string, bytes: number, from: WalkState): Promise<{ hash: Hash; state: WalkState }> {
    const hash = createHash('sha256');
    // A state of its own: the pages read this.state meanwhile, and must not see a half-checked one.
    const state = structuredClone(from);
    const fd = openSync(path.join(this.options.auditDir, name), 'r');
    try {
      const buf = Buffer.alloc(CHUNK);
      let carry = Buffer.alloc(0);
      let done = 0;
      let line = 0;
      let sliceStart = performance.now();
      while (done < bytes) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, bytes - done), done);
        if (n <= 0) break;
        const chunk = buf.subarray(0, n);
        hash.update(chunk);
        done += n;
        const bytesOfLines = Buffer.concat([carry, chunk]);
        let start = 0;
        for (let nl = bytesOfLines.indexOf(10); nl >= 0; nl = bytesOfLines.indexOf(10, start)) {
          this.checkOnly(state, name, ++line, bytesOfLines.toString('utf8', start, nl));
          start = nl + 1;
        }
        carry = Buffer.from(bytesOfLines.subarray(start));
        if (performance.now() - sliceStart > this.sliceMs) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      // An older file's tail without its newline was indexed as its final line.
      if (carry.length > 0) this.checkOnly(state, name, ++line, carry.toString('utf8'));
      return { hash, state };
    } finally {
      closeSync(fd);
    }
  }

  /** indexLine's chain and signature checks on `state`, writing nothing. */
  private checkOnly(state: WalkState, file: string, line: number, text: string): void {
    const raw = parseRecordLine(text);
    const chained = chainedFields(raw);
    const checked = checkLine(state.cursor, chained, this.options.after);
    state.cursor = checked.state;
    state.problems += checked.problems.length;
    this.trackSignatures(0, file, line, raw, chained, state, false);
  }

  private async hashPrefix(name: string, bytes: number): Promise<Hash> {
    const hash = createHash('sha256');
    const fd = openSync(path.join(this.options.auditDir, name), 'r');
    try {
      const buf = Buffer.alloc(CHUNK);
      let done = 0;
      let sliceStart = performance.now();
      while (done < bytes) {
        const n = readSync(fd, buf, 0, Math.min(CHUNK, bytes - done), done);
        if (n <= 0) break;
        hash.update(buf.subarray(0, n));
        done += n;
        if (performance.now() - sliceStart > this.sliceMs) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
    } finally {
      closeSync(fd);
    }
    return hash;
  }

  /**
   * Indexes `name` from where `from` stopped (or from its start), in slices. In the last file a tail
   * without its newline is a record still being written and waits; in an earlier file nothing more
   * will be written, so such a tail is its final line (indexed, and judged by the chain check).
   */
  private async indexFile(name: string, from: FileRow | undefined, isLast: boolean): Promise<void> {
    const full = path.join(this.options.auditDir, name);
    if (!existsSync(full)) return;
    const fd = openSync(full, 'r');
    try {
      const size = fstatSync(fd).size;
      let offset = from?.indexed_bytes ?? 0;
      let lineNo = from?.lines ?? 0;
      let firstId = from?.first_id ?? null;
      const hash = (from && this.prefixHashes.get(name)) ?? (from ? await this.hashPrefix(name, from.indexed_bytes) : createHash('sha256'));
      this.prefixHashes.set(name, hash);
      if (isLast) this.unfinished = undefined;
      if (offset >= size && from) return;
      let buf = Buffer.alloc(CHUNK);
      let sliceStart = performance.now();
      while (offset < size && !this.closed) {
        const n = readSync(fd, buf, 0, Math.min(buf.length, size - offset), offset);
        if (n <= 0) break;
        const chunk = buf.subarray(0, n);
        // Whole lines only: a line still being written (or torn by a crash) waits for its newline.
        let end = chunk.lastIndexOf(10);
        if (end < 0 && n === size - offset && !isLast) end = n - 1;
        if (end < 0) {
          if (n < buf.length) break;
          // One line longer than the buffer: read it again with room for all of it.
          if (buf.length >= MAX_LINE) throw new Error(`${name}: a line longer than ${MAX_LINE} bytes at offset ${offset}`);
          buf = Buffer.alloc(buf.length * 2);
          continue;
        }
        end += 1;
        const ids = this.db.transaction(() => this.indexLines(name, chunk.subarray(0, end), offset, lineNo))();
        if (firstId === null && ids.first !== null) firstId = ids.first;
        lineNo += ids.lines;
        hash.update(chunk.subarray(0, end));
        offset += end;
        this.progress.bytesIndexed += end;
        this.insert.file.run({
          name,
          indexed_bytes: offset,
          lines: lineNo,
          mtime_ms: statSync(full).mtimeMs,
          prefix_sha256: hash.copy().digest('hex'),
          first_id: firstId,
          state_after: JSON.stringify(this.state),
        });
        if (performance.now() - sliceStart > this.sliceMs) {
          await yieldToEventLoop();
          sliceStart = performance.now();
        }
      }
      // Bytes after the newest file's last newline: a record being written, or, left so, one cut off.
      if (isLast && offset < size) this.unfinished = { file: name, bytes: size - offset, mtimeMs: statSync(full).mtimeMs };
      if (!from && offset === 0) {
        this.insert.file.run({ name, indexed_bytes: 0, lines: 0, mtime_ms: statSync(full).mtimeMs, prefix_sha256: hash.copy().digest('hex'), first_id: null, state_after: JSON.stringify(this.state) });
      }
    } finally {
      closeSync(fd);
    }
  }

  /** One transaction: every whole line of `bytes` (which starts at `base` in the file). */
  private indexLines(file: string, bytes: Buffer, base: number, lineNo: number): { first: number | null; lines: number } {
    let first: number | null = null;
    let lines = 0;
    let start = 0;
    while (start < bytes.length) {
      const nl = bytes.indexOf(10, start);
      const end = nl < 0 ? bytes.length : nl;
      const text = bytes.toString('utf8', start, end);
      lines++;
      const id = this.indexLine(file, lineNo + lines, base + start, end - start, text);
      first ??= id;
      start = end + 1;
    }
    return { first, lines };
  }

  private indexLine(file: string, line: number, offset: number, length: number, text: string): number {
    const raw = parseRecordLine(text);
    const chained = chainedFields(raw);
    const checked = checkLine(this.state.cursor, chained, this.options.after);
    this.state.cursor = checked.state;
    const indexed = toIndexedLine(chained ? raw : undefined);
    const id = Number(this.insert.record.run({ ...indexed.row, file, line, offset, length, problem: checked.problems.length ? 1 : 0 }).lastInsertRowid);
    for (const problem of checked.problems) {
      this.state.problems++;
      if (this.state.problems <= MAX_PROBLEM_ROWS) this.insert.problem.run(id, file, line, chained?.seq ?? null, problem.kind, problem.message);
    }
    for (const v of indexed.verdicts) {
      const verdictId = Number(this.insert.verdict.run(id, indexed.row.received_ms, v.direction, v.guard, v.label, v.rule_id, v.mode, v.outcome, v.score, v.latency_ms, v.deciding).lastInsertRowid);
      for (const c of v.categories) this.insert.category.run(verdictId, id, c);
    }
    for (const [dimension, value] of indexed.facets) {
      const key = `${dimension}\u0000${value}`;
      if (this.facets.has(key) || !FACETS.includes(dimension)) continue;
      const count = this.facetCounts.get(dimension) ?? 0;
      if (count >= MAX_FACET_VALUES) continue;
      this.facetCounts.set(dimension, count + 1);
      this.facets.add(key);
      this.insert.facet.run(dimension, value);
    }
    this.trackSignatures(id, file, line, raw, chained);
    return id;
  }

  private trackSignatures(id: number, file: string, line: number, raw: Record<string, unknown> | undefined, chained: { seq: number; recomputed: string } | undefined, state: WalkState = this.state, write = true): void {
    const signed = state.signed;
    if (!raw || !chained) {
      state.previous = undefined;
      return;
    }
    if (raw.kind === 'checkpoint') {
      signed.checkpoints++;
      const check = checkCheckpoint(raw, state.previous, this.options.publicKeys);
      const entry = asCheckpoint(raw);
      if (write) this.insert.checkpoint.run(id, chained.seq, check.status, check.message, state.previous?.seq ?? null, state.previous?.hash ?? null, JSON.stringify(entry ?? {}));
      if (check.status === 'valid' && entry) {
        signed.valid++;
        if (entry.reason === 'start') noteStart(signed, chained.seq);
        signed.last = { file, line, seq: chained.seq, covers: entry.covers.seq, signedAt: entry.signed_at, reason: entry.reason, keyId: entry.key_id, every: entry.every };
        signed.tail = { records: 0 };
      } else if (this.options.publicKeys.size > 0 && signed.invalid.length < MAX_INVALID_KEPT) {
        signed.invalid.push({ kind: 'checkpoint_invalid', status: check.status as Exclude<CheckpointStatus, 'valid'>, file, line, seq: chained.seq, message: `checkpoint seq ${chained.seq}: ${check.message}` });
      }
    } else {
      signed.records++;
      signed.tail.records++;
      signed.tail.fromSeq ??= chained.seq;
      signed.tail.toSeq = chained.seq;
    }
    state.previous = { seq: chained.seq, hash: chained.recomputed };
  }
}

/** A log line as a JSON object, or undefined. */
function parseRecordLine(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** What the chain check reads of a record, its hash recomputed; undefined for a line that is not one. */
function chainedFields(raw: Record<string, unknown> | undefined): { seq: number; prev: string; hash: string; recomputed: string } | undefined {
  return raw && Number.isSafeInteger(raw.seq) && typeof raw.prev === 'string' && typeof raw.hash === 'string'
    ? { seq: raw.seq as number, prev: raw.prev, hash: raw.hash, recomputed: recordHash(raw) }
    : undefined;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
