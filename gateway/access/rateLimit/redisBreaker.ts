import type Redis from 'ioredis';

/**
 * Whether the shared limits may ask Redis now. A stalled server (connected, answering nothing)
 * fails each command only at ioredis's command timeout (1 s), and a request asks up to three
 * limits in turn: 3 s for every admitted request while it lasted. So once a command fails on a
 * live connection, the breaker opens for `coolDownMs` and every limit answers from this process's
 * memory at once; then one command alone tries Redis again (the others stay in memory until it
 * settles: every request arriving then waited out the timeout together), and its success closes
 * the breaker. One breaker is shared by every limiter of a gateway.
 */
export class RedisBreaker {
  private open = false;
  private openUntil = 0;
  private probing = false;

  constructor(
    readonly redis: Redis | undefined,
    private readonly coolDownMs = 5_000,
  ) {}

  /**
   * Redis, when this caller may ask it now (it then reports `succeeded` or `failed`): configured,
   * and the breaker closed, or open past its cool-down with no other caller trying it. A connection
   * that is down fails commands at once: the gateway's client has no offline queue.
   */
  get usable(): Redis | undefined {
    if (!this.redis) return undefined;
    if (!this.open) return this.redis;
    if (this.probing || Date.now() < this.openUntil) return undefined;
    this.probing = true;
    return this.redis;
  }

  /** Whether a take would go to Redis now (without claiming the one try of an open breaker). */
  get closed(): boolean {
    return !!this.redis && !this.open;
  }

  /** A command answered: the breaker closes. */
  succeeded(): void {
    this.open = false;
    this.probing = false;
  }

  /**
   * A command failed. On a live connection (a stall, a server error), or while open, memory
   * answers for the cool-down; a connection that is down fails every command at once anyway, and
   * its client logs the outage. Returns whether it was a live connection (a failure worth reporting).
   */
  failed(): boolean {
    const live = this.redis?.status === 'ready';
    if (live || this.open) {
      this.open = true;
      this.openUntil = Date.now() + this.coolDownMs;
    }
    this.probing = false;
    return live;
  }
}
