import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';

/** Counted per window here; concurrency slots are concurrencySlots.ts. */
export type LimitKind = 'requests' | 'tokens';

export interface Taken {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
  /** When the points were taken (Date.now()), to tell later whether a refund still lands in the same window. */
  takenAt: number;
}

export interface LimiterStoreOptions {
  /** Shared store; absent: this process's memory. */
  redis?: Redis;
  keyPrefix: string;
  /** Window length in seconds per kind. */
  durations: Record<LimitKind, number>;
  onStoreError?: (err: Error) => void;
}

/**
 * rate-limiter-flexible limiters, one per kind and limit value (keys can carry their own limits;
 * the count itself lives under the kind's key prefix, so a changed limit keeps the count in Redis).
 * With Redis, each limiter has an in-memory insurance limiter that answers while Redis is down.
 */
export class LimiterStore {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly options: LimiterStoreOptions) {}

  /**
   * Takes `points` for `id`. A refused take is undone when `undoOnRefusal` (tokens and concurrency
   * slots were not used), but kept for requests: a client that keeps retrying stays refused until
   * the window resets.
   */
  async take(kind: LimitKind, id: string, limit: number, points: number, undoOnRefusal: boolean): Promise<Taken> {
    const limiter = this.limiter(kind, limit);
    const takenAt = Date.now();
    try {
      const res = await limiter.consume(id, points);
      return { allowed: true, limit, remaining: res.remainingPoints, resetMs: res.msBeforeNext, takenAt };
    } catch (rejection) {
      if (rejection instanceof RateLimiterRes) {
        if (undoOnRefusal) await this.give(kind, id, limit, points);
        return { allowed: false, limit, remaining: Math.max(0, limit - (rejection.consumedPoints - (undoOnRefusal ? points : 0))), resetMs: rejection.msBeforeNext, takenAt };
      }
      // A store failure with no insurance left: the limit is not a safety control, so fail open and say so.
      this.options.onStoreError?.(rejection as Error);
      return { allowed: true, limit, remaining: limit, resetMs: this.options.durations[kind] * 1000, takenAt };
    }
  }

  /**
   * Per kind and id, the refunds under way in this process: the one running (`tail`) and at most one
   * waiting for it, into which later refunds are merged (a busy key's refunds never queue up).
   */
  private readonly refunds = new Map<string, { tail: Promise<void>; waiting?: { points: number; done: Promise<void> } }>();

  /**
   * Gives points back (a refund, or a refused take undone), at most what the window counted when
   * read: points taken from the in-memory insurance limiter while Redis was down, refunded once it
   * is back, drove Redis's count below zero, a budget nobody was charged for. The read and the
   * reward are two steps, so this process's refunds of one key run one after another (two at once
   * both read the same count and gave it back twice), those that arrive meanwhile merged into one;
   * refunds of one key by two replicas at the same instant can still overlap. Failures are
   * reported, never thrown.
   */
  async give(kind: LimitKind, id: string, limit: number, points: number): Promise<void> {
    if (points <= 0) return;
    const key = `${kind}\u0000${id}`;
    let entry = this.refunds.get(key);
    if (!entry) {
      entry = { tail: Promise.resolve() };
      this.refunds.set(key, entry);
    }
    if (entry.waiting) {
      entry.waiting.points += points;
      return entry.waiting.done;
    }
    const state = entry;
    const waiting = { points, done: Promise.resolve() };
    const run = () => {
      if (state.waiting === waiting) state.waiting = undefined;
      return this.giveNow(kind, id, limit, waiting.points);
    };
    waiting.done = state.tail.then(run, run);
    state.waiting = waiting;
    state.tail = waiting.done;
    try {
      await waiting.done;
    } finally {
      if (this.refunds.get(key) === state && state.tail === waiting.done) this.refunds.delete(key);
    }
  }

  private async giveNow(kind: LimitKind, id: string, limit: number, points: number): Promise<void> {
    try {
      const limiter = this.limiter(kind, limit);
      const refund = Math.min(points, (await limiter.get(id))?.consumedPoints ?? 0);
      if (refund > 0) await limiter.reward(id, refund);
    } catch (err) {
      try {
        if (!(err instanceof RateLimiterRes)) this.options.onStoreError?.(err as Error);
      } catch {
        /* a failing report must not fail the refund, nor the refunds queued behind it */
      }
    }
  }

  /** Takes extra points without refusing (the engine used more than was reserved). */
  async charge(kind: LimitKind, id: string, limit: number, points: number): Promise<void> {
    if (points <= 0) return;
    try {
      await this.limiter(kind, limit).penalty(id, points);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) this.options.onStoreError?.(err as Error);
    }
  }

  /**
   * One limiter per kind and limit value. Redis keys are shared by every limiter of a kind, so a
   * changed limit keeps the count; each memory limiter has storage of its own, so in memory (no
   * Redis, or its insurance limiter) a changed limit starts the window afresh (README, limits).
   */
  private limiter(kind: LimitKind, limit: number): RateLimiterAbstract {
    const cacheKey = `${kind}:${limit}`;
    let limiter = this.limiters.get(cacheKey);
    if (limiter) return limiter;
    const common = { points: limit, duration: this.options.durations[kind], keyPrefix: `${this.options.keyPrefix}:${kind}` };
    limiter = this.options.redis
      ? new RateLimiterRedis({ ...common, storeClient: this.options.redis, rejectIfRedisNotReady: true, insuranceLimiter: new RateLimiterMemory(common) })
      : new RateLimiterMemory(common);
    this.limiters.set(cacheKey, limiter);
    return limiter;
  }
}
