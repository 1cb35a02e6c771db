import type Redis from 'ioredis';

/**
 * Whether the shared limits may ask Redis now. A stalled server (connected, answering nothing)
 * fails each command only at ioredis's command timeout (1 s), and a request asks up to three
 * limits in turn: 3 s for every admitted request while it lasted. So once a command fails, the
 * breaker opens for `coolDownMs` and every limit answers from this process's memory at once;
 * then Redis is asked again. One breaker is shared by every limiter of a gateway.
 */
export class RedisBreaker {
  private openUntil = 0;

  constructor(
    readonly redis: Redis | undefined,
    private readonly coolDownMs = 5_000,
  ) {}

  /**
   * Redis, when it may be asked now: configured, and no command failed within the cool-down. (A
   * connection that is down fails commands at once: the gateway's client has no offline queue.)
   */
  get usable(): Redis | undefined {
    return this.redis && Date.now() >= this.openUntil ? this.redis : undefined;
  }

  /**
   * A command failed. On a live connection (a stall, a server error) memory answers for the
   * cool-down; a connection that is down fails every command at once anyway, and its client logs
   * the outage. Returns whether it was the former (a failure worth reporting).
   */
  failed(): boolean {
    if (this.redis?.status !== 'ready') return false;
    this.openUntil = Date.now() + this.coolDownMs;
    return true;
  }
}
