/**
 * Model outputs per input row (one framed segment or fine window of token ids), reused across
 * texts and requests. A chat resends its history every turn, and the texts that change (the
 * per-source joins, the whole conversation) change only at their end: their earlier segments and
 * windows are the same rows as last turn, so only the new tail runs. Rows, not texts, are what
 * the model sees, so a row's output does not depend on which text it came from.
 *
 * Keys are sha256 over the scope (model and policy version, see cacheKey.ts) and the row's ids,
 * never a weaker hash: a crafted row colliding with a cached benign one would be a bypass.
 *
 * A row being scored now is shared too (`running`): the rules of one guard check the same text at
 * the same moment (the default policy's jailbreak, pasted-injection and obfuscated-text rules all
 * read each user turn), and without sharing each ran the model on it, three runs for one row.
 */
import { createHash } from 'node:crypto';
import { LruCache } from './lruCache';
import { pause } from './yield';

/** Rows hashed between two event-loop turns (a 512-token row hashes in about 2 µs). */
const ROWS_PER_STEP = 512;

export class RowCache<O> {
  private readonly lru: LruCache<string, O>;
  /** Rows some scan sent to the model and that have not come back yet, with their place in its submission. */
  private readonly inFlight = new Map<string, RunningRow<O>>();
  /** One reusable buffer for a row's bytes. */
  private scratch = new Int32Array(512);

  constructor(capacity: number) {
    this.lru = new LruCache<string, O>(capacity);
  }

  get capacity(): number {
    return this.lru.capacity;
  }

  get size(): number {
    return this.lru.size;
  }

  /** Keys of `rows` in `scope`, hashed in steps so a long input never holds the event loop. */
  async keys(scope: string, rows: readonly (readonly number[])[], signal?: AbortSignal): Promise<string[]> {
    const keys: string[] = [];
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % ROWS_PER_STEP === 0) await pause(signal);
      keys.push(this.key(scope, rows[i]!));
    }
    return keys;
  }

  key(scope: string, row: readonly number[]): string {
    if (this.scratch.length < row.length) this.scratch = new Int32Array(row.length);
    for (let i = 0; i < row.length; i++) this.scratch[i] = row[i]!;
    const bytes = new Uint8Array(this.scratch.buffer, 0, row.length * 4);
    return createHash('sha256').update(scope).update('\u0000').update(bytes).digest('base64');
  }

  get(key: string): O | undefined {
    return this.lru.get(key);
  }

  set(key: string, value: O): void {
    this.lru.set(key, value);
  }

  /** A row another scan is scoring now, if any. */
  running(key: string): RunningRow<O> | undefined {
    return this.inFlight.get(key);
  }

  /**
   * Marks `key` as being scored: `output` settles when its row's batch returns, `position` is
   * the row's place in its scan's submission (how many of that scan's rows go before it). Later
   * scans may share it; it is cached once it resolves.
   */
  track(key: string, output: Promise<O>, position = 0): void {
    const entry = { output, position };
    this.inFlight.set(key, entry);
    const done = () => {
      if (this.inFlight.get(key) === entry) this.inFlight.delete(key);
    };
    output.then(
      (value) => {
        this.lru.set(key, value);
        done();
      },
      // The scan that started it sees the failure; the first scan sharing it runs it again, and the others share that (scanTexts.ts).
      done,
    );
  }

  get runningCount(): number {
    return this.inFlight.size;
  }

  clear(): void {
    this.lru.clear();
    this.inFlight.clear();
  }
}

/** A row being scored: its output when its batch returns, and how many rows of its scan's submission go before it. */
export interface RunningRow<O> {
  output: Promise<O>;
  position: number;
}
