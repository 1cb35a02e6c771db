import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { RedisBreaker } from './redisBreaker';

/**
 * Concurrent-request slots per key. Each slot is held by one request and expires on its own
 * (`slotTtlMs` after it was taken: a slot lost with a crashed replica does not stay taken for
 * ever). A fixed window counter cannot do this: when its window ends the count restarts at zero
 * while requests are still in flight, and the key briefly gets twice its limit.
 *
 * With Redis, slots are a sorted set per key (member = slot id, score = its expiry, Redis's own
 * clock), taken and pruned in one script so replicas never race. While Redis is unreachable,
 * slots are taken in this process's memory (each replica enforces the limit on its own), as the
 * other limits' insurance does.
 */
export interface SlotGrant {
  allowed: boolean;
  /** Gives the slot back (a no-op for a refused take); never throws. */
  release(): Promise<void>;
}

export interface ConcurrencySlotsOptions {
  redis?: Redis;
  /** When Redis may be asked (shared with the gateway's other limiters); default: one of its own over `redis`. */
  breaker?: RedisBreaker;
  keyPrefix: string;
  slotTtlMs: number;
  onStoreError?: (err: Error) => void;
  /** How often slots whose release failed (Redis unreachable) are released again; default 5 s. */
  releaseRetryMs?: number;
}

const TAKE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]))
return 1`;

const REFUSED: SlotGrant = { allowed: false, release: async () => undefined };

export class ConcurrencySlots {
  private readonly memory = new Map<string, Map<string, number>>();
  /**
   * Slots a failed release left in Redis (key -> slot -> its expiry). Without another try, a slot
   * stays taken until its ttl (the engine's total timeout plus a minute): with a small limit, a few
   * Redis hiccups lock an app out for that long.
   */
  private readonly unreleased = new Map<string, Map<string, number>>();
  private retryTimer: NodeJS.Timeout | undefined;

  private readonly breaker: RedisBreaker | undefined;

  constructor(private readonly options: ConcurrencySlotsOptions) {
    this.breaker = options.breaker ?? (options.redis ? new RedisBreaker(options.redis) : undefined);
  }

  async take(id: string, limit: number): Promise<SlotGrant> {
    const slot = randomUUID();
    const key = `${this.options.keyPrefix}:slots:${id}`;
    // Not connected, or a command failed within the breaker's cool-down: memory at once.
    const redis = this.breaker?.usable;
    if (redis) {
      try {
        const taken = await redis.eval(TAKE_SCRIPT, 1, key, String(limit), String(this.options.slotTtlMs), slot);
        this.breaker?.succeeded();
        if (taken !== 1) return REFUSED;
        return { allowed: true, release: () => this.releaseShared(redis, key, slot) };
      } catch (err) {
        this.breaker?.failed();
        this.options.onStoreError?.(err as Error);
        // A timeout can come after Redis ran the script: take back a slot it may hold.
        void redis.zrem(key, slot).catch(() => this.releaseLater(redis, key, slot));
      }
    }
    return this.takeInMemory(key, limit, slot);
  }

  private async releaseShared(redis: Redis, key: string, slot: string): Promise<void> {
    try {
      await redis.zrem(key, slot);
    } catch (err) {
      this.options.onStoreError?.(err as Error);
      this.releaseLater(redis, key, slot);
    }
  }

  /** Tries the release again every `releaseRetryMs` until it lands or the slot would have expired anyway. */
  private releaseLater(redis: Redis, key: string, slot: string): void {
    let slots = this.unreleased.get(key);
    if (!slots) this.unreleased.set(key, (slots = new Map()));
    slots.set(slot, Date.now() + this.options.slotTtlMs);
    if (this.retryTimer) return;
    this.retryTimer = setInterval(() => void this.retryReleases(redis), this.options.releaseRetryMs ?? 5000);
    this.retryTimer.unref();
  }

  private async retryReleases(redis: Redis): Promise<void> {
    const now = Date.now();
    for (const [key, slots] of this.unreleased) {
      for (const [slot, expiry] of slots) if (expiry <= now) slots.delete(slot);
      if (slots.size > 0) {
        const batch = [...slots.keys()];
        try {
          await redis.zrem(key, ...batch);
          for (const slot of batch) slots.delete(slot);
        } catch {
          // Still unreachable: next time (the failure was reported when the release first failed).
        }
      }
      if (slots.size === 0) this.unreleased.delete(key);
    }
    if (this.unreleased.size === 0 && this.retryTimer) {
      clearInterval(this.retryTimer);
      this.retryTimer = undefined;
    }
  }

  private takeInMemory(key: string, limit: number, slot: string): SlotGrant {
    const now = Date.now();
    let slots = this.memory.get(key);
    if (!slots) this.memory.set(key, (slots = new Map()));
    for (const [held, expiry] of slots) if (expiry <= now) slots.delete(held);
    if (slots.size >= limit) return REFUSED;
    slots.set(slot, now + this.options.slotTtlMs);
    const own = slots;
    return {
      allowed: true,
      release: async () => {
        own.delete(slot);
        if (own.size === 0 && this.memory.get(key) === own) this.memory.delete(key);
      },
    };
  }
}
