import { Readable } from 'node:stream';
import { classifyEngineError, EngineError } from './errors';
import type { StreamPace } from './streamPace';

/**
 * An engine answer's body that fails with EngineError (bad_gateway) once more than `max` bytes
 * arrived: a huge answer is an engine fault, not something to buffer. It reads the body only once
 * its own reader asks (as an async generator under Readable.from would, without that one's
 * promises per chunk), passes the body's error on, and reports a body closed before its end as
 * a premature close. Destroying it (a reader stopping early) destroys the body.
 */
export class CappedBody extends Readable {
  private size = 0;
  private started = false;
  private pace: StreamPace | undefined;
  /** Whether a chunk begins the answer (a stream's opening events may come before the engine scheduled it); default: any chunk. */
  private begins: ((chunk: Buffer) => boolean) | undefined;
  private firstChunkWait: Promise<void> | undefined;
  /** The answer began (a chunk that begins it came), or the body ended: what firstChunk() waits for. */
  private sawChunk = false;
  private onFirstChunk: (() => void) | undefined;

  constructor(
    private readonly body: Readable,
    private readonly max: number,
  ) {
    // One chunk held at a time, as the generator under Readable.from held (its highWaterMark was 1):
    // a reader that falls behind leaves the rest in the body and the socket.
    super({ highWaterMark: 1 });
  }

  /**
   * A streamed answer's pace (first chunk, then no long silence): a breach fails the body. `begins`:
   * which chunk counts as the first (chunks before it are held to the first-chunk budget, not the idle one).
   */
  keepPace(pace: StreamPace, begins?: (chunk: Buffer) => boolean): this {
    this.pace = pace;
    this.begins = begins;
    this.once('close', () => pace.stop());
    return this;
  }

  /**
   * Resolves once the engine's first chunk came (or the body ended empty), without taking it: the
   * reader still gets every byte. Rejects with the EngineError the body failed with first, so a
   * replica that sent a stream's headers and then nothing can be failed over like one that sent
   * no headers (nothing has gone anywhere yet).
   */
  firstChunk(): Promise<void> {
    this.firstChunkWait ??= new Promise<void>((resolve, reject) => {
      if (this.sawChunk) return resolve();
      if (this.errored) return reject(classifyEngineError(this.errored, 'stream'));
      if (this.destroyed) return reject(classifyEngineError(prematureClose(), 'stream'));
      const onFailure = (err?: Error) => {
        this.onFirstChunk = undefined;
        this.off('error', onFailure);
        this.off('close', onFailure);
        reject(classifyEngineError(err ?? this.errored ?? prematureClose(), 'stream'));
      };
      this.once('error', onFailure);
      this.once('close', onFailure);
      this.onFirstChunk = () => {
        this.onFirstChunk = undefined;
        this.off('error', onFailure);
        this.off('close', onFailure);
        resolve();
      };
      // Starts reading (as a reader's first read would), leaving what comes in the buffer.
      this.read(0);
    });
    return this.firstChunkWait;
  }

  override _read(): void {
    if (this.started) {
      this.pace?.caughtUp();
      this.body.resume();
      return;
    }
    this.started = true;
    const body = this.body;
    // What happened to the body before anyone read it.
    if (body.errored) return void this.destroy(body.errored);
    if (body.destroyed) return void this.destroy(prematureClose());
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    body.once('close', this.onClose);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.body.destroy();
    callback(err);
  }

  private readonly onData = (chunk: Buffer): void => {
    this.size += chunk.length;
    if (this.size > this.max) {
      this.destroy(new EngineError('bad_gateway', `the engine answer is larger than the limit of ${this.max} bytes (engine.max_answer_bytes)`));
      return;
    }
    if (!this.sawChunk && (this.begins === undefined || this.begins(chunk))) {
      this.sawChunk = true;
      this.onFirstChunk?.();
    }
    if (this.sawChunk) this.pace?.chunk();
    const more = this.push(chunk);
    // The reader is behind: the body waits until it asks again (_read). Not before the answer began:
    // firstChunk() reads on through a stream's opening events (held here, under the answer cap).
    if (!more && this.sawChunk) {
      this.pace?.behind();
      this.body.pause();
    }
  };

  private readonly onEnd = (): void => {
    this.pace?.stop();
    this.push(null);
    this.sawChunk = true;
    this.onFirstChunk?.();
  };

  private readonly onError = (err: Error): void => {
    this.destroy(err);
  };

  private readonly onClose = (): void => {
    if (!this.body.readableEnded) this.destroy(prematureClose());
  };
}

/** What a reader of a stream that closed before its end gets (as node's async iterator reports it). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
