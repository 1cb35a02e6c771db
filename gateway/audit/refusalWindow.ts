import type { RejectionRecord } from '../record/requestRecord';

/** How many refusals a window records one by one (0: no bound), and how many sources it tells apart. */
export interface RefusalBounds {
  /** Per source (an API key, or a client address without one). */
  perSource: number;
  /** All sources together. */
  total: number;
  /** Sources tracked one by one; refusals from further sources are summarized together. */
  maxSources: number;
}

/** Where the summaries of refusals from sources past `maxSources` go: no client, key or app (they differ). */
const OTHER_SOURCES = '*';

/** Pure: who a refusal counts against: the API key that named its app, else the client's address. */
export function refusalSource(rejection: RejectionRecord): string {
  if (rejection.keyId) return `key:${rejection.keyId}`;
  return rejection.client ? `client:${rejection.client}` : 'unknown';
}

/**
 * One window of refusals (401, 429, invalid requests, policy_unavailable). A flood of them, such
 * as a client trying keys, must not fill the audit disk: past its bounds a refusal is not recorded
 * on its own but counted into one summary record per source, kind, status and reason, which
 * keeps the first such refusal's fields and says how many it stands for (`repeats`). Pure: the
 * caller decides when a window ends.
 */
export class RefusalWindow {
  private recorded = 0;
  private readonly perSource = new Map<string, number>();
  private readonly summaries = new Map<string, RejectionRecord>();

  constructor(private readonly bounds: RefusalBounds) {}

  /** `record`: write this refusal as it is; `summarized`: it was counted into a summary (`close` returns it). */
  admit(rejection: RejectionRecord): 'record' | 'summarized' {
    // Both bounds off: every refusal is recorded, from however many sources (max_sources bounds only what is counted).
    if (this.bounds.perSource === 0 && this.bounds.total === 0) return 'record';
    const source = refusalSource(rejection);
    const known = this.perSource.get(source);
    const tracked = known !== undefined || this.perSource.size < this.bounds.maxSources;
    const mine = known ?? 0;
    const withinSource = this.bounds.perSource === 0 || mine < this.bounds.perSource;
    const withinTotal = this.bounds.total === 0 || this.recorded < this.bounds.total;
    if (tracked && withinSource && withinTotal) {
      this.perSource.set(source, mine + 1);
      this.recorded += 1;
      return 'record';
    }
    if (tracked && known === undefined) this.perSource.set(source, 0);
    this.summarize(rejection, tracked ? source : OTHER_SOURCES);
    return 'summarized';
  }

  /** True when nothing was counted into a summary yet. */
  get quiet(): boolean {
    return this.summaries.size === 0;
  }

  /** The window's summary records, oldest group first; the window starts afresh. */
  close(): RejectionRecord[] {
    const out = [...this.summaries.values()];
    this.summaries.clear();
    this.perSource.clear();
    this.recorded = 0;
    return out;
  }

  private summarize(rejection: RejectionRecord, source: string): void {
    const group = `${source}\u0000${rejection.kind}\u0000${rejection.status}\u0000${rejection.reason}`;
    const summary = this.summaries.get(group);
    if (summary?.repeats) {
      summary.repeats.count += 1;
      summary.repeats.lastAt = rejection.receivedAt;
      summary.repeats.lastRequestId = rejection.requestId;
      return;
    }
    const first: RejectionRecord = { ...rejection, repeats: { count: 1, lastAt: rejection.receivedAt, lastRequestId: rejection.requestId } };
    if (source === OTHER_SOURCES) {
      // Many sources in one record: none of theirs is named, rather than the first one's for all.
      delete first.client;
      delete first.keyId;
      delete first.app;
      first.repeats!.otherSources = true;
    }
    this.summaries.set(group, first);
  }
}
