import type Redis from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';
import { RedisBreaker } from './redisBreaker';

/** Counted per window here; concurrency slots are concurrencySlots.ts. */
export type LimitKind = 'requests' | 'tokens';

export interface Taken {
  allowed: boolean;
  limit: number;
  remaining: number;
  resetMs: number;
  /** When the points were taken (Date.now()), to tell later whether a refund still lands in the same window. */
  takenAt: number;
  /** Where they were counted: a refund goes back there (memory while Redis failed; Redis otherwise). */
  store: CountStore;
}

/** Redis (`shared`) or this process's memory. */
export type CountStore = 'shared' | 'memory';

export interface LimiterStoreOptions {
  /** Shared store; absent: this process's memory. */
  redis?: Redis;
  /** When Redis may be asked (shared with the gateway's other limiters); default: one of its own over `redis`. */
  breaker?: RedisBreaker;
  keyPrefix: string;
  /** Window length in seconds per kind. */
  durations: Record<LimitKind, number>;
  onStoreError?: (err: Error) => void;
}

/**
 * A refund in Redis, in one step: lowers the window's count (the key RateLimiterRedis keeps, an
 * integer set and raised with INCRBY, expiring with the window) by at most what it holds, and
 * returns what it gave back. A key that is gone (the window ended) is not created again, and the
 * key's expiry is left as it is (DECRBY keeps it). ARGV[1]: the points asked, a positive integer.
 */
const REFUND_SCRIPT = `
local current = redis.call('GET', KEYS[1])
local count = current and tonumber(current)
if not count or count <= 0 then return 0 end
local asked = tonumber(ARGV[1])
if asked < count then
  redis.call('DECRBY', KEYS[1], ARGV[1])
  return asked
end
redis.call('DECRBY', KEYS[1], current)
return count`;

interface Limiter {
  /** With Redis: its counter. */
  shared?: RateLimiterRedis;
  /** This process's counter: the only one without Redis; with it, what answers while Redis cannot. */
  memory: RateLimiterMemory;
}

/**
 * rate-limiter-flexible counters, one per kind (keys carry their own limits, compared with the
 * count at each take, so a changed limit keeps the window's count). With Redis, each counter has an
 * in-memory one that answers while Redis is down or failing (RedisBreaker), and each take says
 * where it counted, so its refund goes back there: a refund of points counted in memory during an
 * outage, given to Redis once it was back, wiped out what other replicas had counted there meanwhile.
 */
export class LimiterStore {
  private readonly limiters = new Map<LimitKind, Limiter>();
  private readonly breaker: RedisBreaker | undefined;

  constructor(private readonly options: LimiterStoreOptions) {
    this.breaker = options.breaker ?? (options.redis ? new RedisBreaker(options.redis) : undefined);
  }

  /**
   * Takes `points` for `id`. A refused take is undone when `undoOnRefusal` (tokens and concurrency
   * slots were not used), but kept for requests: a client that keeps retrying stays refused until
   * the window resets.
   */
  async take(kind: LimitKind, id: string, limit: number, points: number, undoOnRefusal: boolean): Promise<Taken> {
    const { shared, memory } = this.limiter(kind);
    const takenAt = Date.now();
    let res: RateLimiterRes | undefined;
    let store: CountStore = 'memory';
    if (shared && this.breaker?.usable) {
      try {
        res = await shared.consume(id, points);
        store = 'shared';
        this.breaker.succeeded();
      } catch (err) {
        // Redis failed (or stalled to the command timeout): memory answers, now and for the cool-down.
        if (this.breaker.failed()) this.report(err);
      }
    }
    if (!res) {
      try {
        res = await memory.consume(id, points);
      } catch (err) {
        // The memory counter failed too: the limit is not a safety control, so fail open and say so.
        this.report(err);
        return { allowed: true, limit, remaining: limit, resetMs: this.options.durations[kind] * 1000, takenAt, store };
      }
    }
    // The limiter only counts; the key's limit of the moment decides (so a changed limit keeps the count).
    if (res.consumedPoints <= limit) return { allowed: true, limit, remaining: limit - res.consumedPoints, resetMs: res.msBeforeNext, takenAt, store };
    if (undoOnRefusal) await this.give(kind, id, limit, points, store);
    return { allowed: false, limit, remaining: Math.max(0, limit - (res.consumedPoints - (undoOnRefusal ? points : 0))), resetMs: res.msBeforeNext, takenAt, store };
  }

  /**
   * Per kind and id, the in-memory refunds under way in this process: the one running (`tail`) and
   * at most one waiting for it, into which later refunds are merged (a busy key's refunds never
   * queue up).
   */
  private readonly refunds = new Map<string, { tail: Promise<number>; waiting?: { points: number; done: Promise<number> } }>();

  /**
   * Gives points back (a refund, or a refused take undone), at most what the window counts:
   * points taken from the in-memory insurance limiter while Redis was down, refunded once it is
   * back, drove Redis's count below zero, a budget nobody was charged for. Resolves to the points
   * this call gave back. Failures are reported, never thrown.
   *
   * In Redis the count is read and lowered in one script (REFUND_SCRIPT), so refunds of one key
   * by any number of replicas at the same instant together give back at most what the window
   * counted. In memory (no Redis, or the insurance limiter while Redis is unreachable) the read and
   * the reward are two steps, so this process's refunds of one key still run one after another
   * (two at once both read the same count and gave it back twice), those that arrive meanwhile
   * merged into one; each replica's memory is its own, so no other process can overlap them.
   */
  async give(kind: LimitKind, id: string, limit: number, points: number, store: CountStore = this.breaker?.closed && this.breaker.redis?.status === 'ready' ? 'shared' : 'memory'): Promise<number> {
    if (!(points > 0)) return 0;
    if (store === 'memory') return this.giveInMemory(kind, id, limit, points);
    const { shared } = this.limiter(kind);
    const redis = this.options.breaker?.redis ?? this.options.redis;
    if (!shared || !redis) return 0;
    try {
      return await this.giveShared(redis, shared, id, points);
    } catch (err) {
      // Redis keeps the points: the key is charged them until the window ends (never given to a count that did not take them).
      if (this.breaker?.failed() !== false) this.report(err);
      return 0;
    }
  }

  private async giveShared(redis: Redis, limiter: RateLimiterRedis, id: string, points: number): Promise<number> {
    // The limiter's own key (rate-limiter-flexible's getKey: `<keyPrefix>:<kind>:<id>`). The points
    // go as plain decimal digits (String(1e21) is "1e+21", which DECRBY refuses): no refund exceeds
    // 2^53 anyway, and the script caps it at the count.
    const asked = Math.min(Math.floor(points), Number.MAX_SAFE_INTEGER);
    if (asked <= 0) return 0;
    const given = await redis.eval(REFUND_SCRIPT, 1, limiter.getKey(id), String(asked));
    return Number(given);
  }

  private async giveInMemory(kind: LimitKind, id: string, limit: number, points: number): Promise<number> {
    const key = `${kind}\u0000${id}`;
    let entry = this.refunds.get(key);
    if (!entry) {
      entry = { tail: Promise.resolve(0) };
      this.refunds.set(key, entry);
    }
    if (entry.waiting) {
      // Merged: this call's share of what the merged refund gives back comes after the earlier callers'.
      const waiting = entry.waiting;
      const before = waiting.points;
      waiting.points += points;
      return Math.max(0, Math.min(points, (await waiting.done) - before));
    }
    const state = entry;
    const waiting = { points, done: Promise.resolve(0) };
    const run = () => {
      if (state.waiting === waiting) state.waiting = undefined;
      return this.giveNow(kind, id, limit, waiting.points);
    };
    waiting.done = state.tail.then(run, run);
    state.waiting = waiting;
    state.tail = waiting.done;
    try {
      return Math.min(points, await waiting.done);
    } finally {
      if (this.refunds.get(key) === state && state.tail === waiting.done) this.refunds.delete(key);
    }
  }

  private report(err: unknown): void {
    try {
      this.options.onStoreError?.(err as Error);
    } catch {
      /* a failing report must not fail the refund, nor the refunds queued behind it */
    }
  }

  /** One in-memory refund: the memory limiter itself, or the insurance limiter of a Redis one. */
  private async giveNow(kind: LimitKind, id: string, limit: number, points: number): Promise<number> {
    try {
      const memory = this.limiter(kind).memory;
      const refund = Math.min(points, (await memory.get(id))?.consumedPoints ?? 0);
      if (refund > 0) await memory.reward(id, refund);
      return Math.max(0, refund);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) this.report(err);
      return 0;
    }
  }

  /** Takes extra points without refusing (the engine used more than was reserved). */
  async charge(kind: LimitKind, id: string, limit: number, points: number): Promise<void> {
    if (points <= 0) return;
    const { shared, memory } = this.limiter(kind);
    if (shared && this.breaker?.usable) {
      try {
        await shared.penalty(id, points);
        this.breaker.succeeded();
        return;
      } catch (err) {
        if (this.breaker.failed()) this.report(err);
      }
    }
    try {
      await memory.penalty(id, points);
    } catch (err) {
      if (!(err instanceof RateLimiterRes)) this.report(err);
    }
  }

  /**
   * One counter per kind, whatever the limit: it counts points per window and never refuses by
   * itself (its ceiling is out of reach); `take` compares the count with the key's limit of the
   * moment. So a limit changed in the keys file keeps the window's count, in Redis and in memory
   * (no Redis, or its insurance limiter) alike.
   */
  private limiter(kind: LimitKind): Limiter {
    let entry = this.limiters.get(kind);
    if (entry) return entry;
    const common = { points: COUNT_CEILING, duration: this.options.durations[kind], keyPrefix: `${this.options.keyPrefix}:${kind}` };
    const memory = new RateLimiterMemory(common);
    const redis = this.breaker?.redis;
    // No insurance limiter of its own: take() falls back to `memory` itself, so it knows where it counted.
    entry = { shared: redis ? new RateLimiterRedis({ ...common, storeClient: redis, rejectIfRedisNotReady: true }) : undefined, memory };
    this.limiters.set(kind, entry);
    return entry;
  }
}

/** A window's count never reaches it (2^50 tokens): the counters count, the caller refuses. */
const COUNT_CEILING = 2 ** 50;
