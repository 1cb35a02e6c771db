/**
 * Where one request's time went, kept in one place: arrival, the guard phases, the engine. The
 * x-gateway-overhead-ms and x-guard-duration-ms headers and the record's durations all read it;
 * the pipeline and the relays only say when something happened.
 */
export class RequestTiming {
  /** performance.now() at arrival. */
  readonly startedAt = performance.now();
  /** performance.now() when the engine call started; undefined before it did. */
  engineStartedAt: number | undefined;
  private engineMs = 0;
  private engineAnsweredAt: number | undefined;
  private guardTotalMs = 0;
  /** performance.now() when the answer's status line went out (streams: before the answer is whole); undefined before. */
  answerStartedAt: number | undefined;

  /** The engine call starts now. */
  engineStart(): void {
    this.engineStartedAt = performance.now();
  }

  /**
   * The engine answered: its whole answer was read, or (streams relayed as they come) its first
   * event arrived. Only the first call counts, so a relay may say it at every step that could be first.
   */
  engineAnswered(): void {
    if (this.engineStartedAt === undefined || this.engineAnsweredAt !== undefined) return;
    this.engineAnsweredAt = performance.now();
    this.engineMs = this.engineAnsweredAt - this.engineStartedAt;
  }

  /** The status line of the answer goes out now (a stream opens): from here the client may hold part of an answer. */
  answerStarted(): void {
    this.answerStartedAt ??= performance.now();
  }

  /** A guard phase took `ms` (phases run side by side are passed as their longest). */
  guards(ms: number): void {
    this.guardTotalMs += ms;
  }

  get guardMs(): number {
    return this.guardTotalMs;
  }

  /** Since arrival. */
  elapsedMs(now = performance.now()): number {
    return now - this.startedAt;
  }

  /** Since the engine call started (0 before it did): the record's engine duration. */
  sinceEngineStart(now = performance.now()): number {
    return this.engineStartedAt === undefined ? 0 : now - this.engineStartedAt;
  }

  /** The gateway's own share of the time so far: everything but waiting for the engine. */
  overheadMs(now = performance.now()): number {
    return Math.max(0, this.elapsedMs(now) - this.engineMs);
  }
}
