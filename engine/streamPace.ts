import { EngineError } from './errors';

/**
 * The pace a streamed answer must keep: its first chunk within what is left of the first-byte
 * timeout, then no silence longer than the idle timeout. vLLM (a Starlette StreamingResponse)
 * sends a stream's headers before the request is even scheduled, so the headers say nothing about
 * queueing and prefill: with the idle timeout counting from them (undici's body timeout), a long
 * prompt or a full queue was cut after 60 s though `first_byte_timeout_ms` allowed 120, and a hung
 * replica that answers headers was never told apart from a slow chunk (no failover, no hold).
 *
 * One timer, re-armed when it fires and once at the first chunk (a later chunk only records the time: no timer call per chunk). Time
 * the reader spends behind (the body paused for backpressure) is not the engine's silence.
 */
export class StreamPace {
  private timer: NodeJS.Timeout | undefined;
  private lastChunkAt: number | undefined;
  private readerBehind = false;

  /** `firstChunkMs`: what is left of the first-byte timeout when the headers came. */
  constructor(
    firstChunkMs: number,
    private readonly idleMs: number,
    private readonly fail: (err: EngineError) => void,
  ) {
    this.arm(Math.max(0, firstChunkMs));
  }

  /** A chunk came from the engine. */
  chunk(): void {
    const first = this.lastChunkAt === undefined;
    this.lastChunkAt = performance.now();
    // The first-byte budget can be longer than the idle timeout: from here on silence is timed by the latter.
    if (first && this.timer) {
      clearTimeout(this.timer);
      this.arm(this.idleMs);
    }
  }

  /** The body was paused because its reader is behind. */
  behind(): void {
    this.readerBehind = true;
  }

  /** The reader asked for more: silence counts again from now. */
  caughtUp(): void {
    if (!this.readerBehind) return;
    this.readerBehind = false;
    if (this.lastChunkAt !== undefined) this.lastChunkAt = performance.now();
  }

  /** The body is over (ended, failed or dropped). */
  stop(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(ms: number): void {
    this.timer = setTimeout(this.check, ms);
    // As the engine's other timers: a pending one does not keep the process alive.
    this.timer.unref();
  }

  private readonly check = (): void => {
    this.timer = undefined;
    if (this.readerBehind) return this.arm(this.idleMs);
    if (this.lastChunkAt === undefined) return this.fail(new EngineError('timeout', 'the engine did not answer in time (first-byte timeout)', undefined, 'first_byte'));
    const silent = performance.now() - this.lastChunkAt;
    if (silent >= this.idleMs) return this.fail(new EngineError('timeout', 'the engine did not answer in time (idle timeout between chunks)', undefined, 'idle'));
    this.arm(this.idleMs - silent);
  };
}
