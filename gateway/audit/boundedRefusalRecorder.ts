import type { DecisionRecorder, RejectionRecord, RequestRecord, StreamStart } from '../record/requestRecord';
import { RefusalWindow, type RefusalBounds } from './refusalWindow';

/**
 * A recorder whose refusal records are bounded per window (`audit.refusals`): decisions pass
 * through untouched; a refusal within the window's bounds is recorded as before (durably, before
 * its answer goes out); past them it is counted, and when the window ends (or the gateway stops)
 * one summary record per source, kind, status and reason is written. So a client trying keys, or
 * an app looping on 429s, costs the disk a bounded number of lines a minute, and every refusal is
 * still counted in the log (and in metrics, as before).
 */
export class BoundedRefusalRecorder implements DecisionRecorder {
  private window: RefusalWindow;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly inner: DecisionRecorder,
    bounds: RefusalBounds,
    private readonly windowMs: number,
    private readonly warn: (line: string) => void,
  ) {
    this.window = new RefusalWindow(bounds);
  }

  record(record: RequestRecord): Promise<void> {
    return this.inner.record(record);
  }

  async recordStreamStart(start: StreamStart): Promise<void> {
    await this.inner.recordStreamStart?.(start);
  }

  async recordRejection(rejection: RejectionRecord): Promise<void> {
    // The window opens with its first refusal and ends windowMs later, busy or not.
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.windowMs).unref();
    if (this.window.admit(rejection) === 'record') await this.inner.recordRejection?.(rejection);
  }

  /** Ends the window: its summaries are written, in order, after any earlier window's. */
  flush(): Promise<void> {
    const summaries = this.window.close();
    this.flushing = this.flushing.then(async () => {
      for (const summary of summaries) {
        try {
          await this.inner.recordRejection?.(summary);
        } catch (err) {
          this.warn(`audit: a summary of ${summary.repeats?.count ?? 0} ${summary.kind} refusals (${summary.reason}) could not be written: ${(err as Error)?.message ?? String(err)}`);
        }
      }
    });
    return this.flushing;
  }

  /** At shutdown, before the audit log closes: the open window's summaries are written now. */
  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.flush();
  }
}
