import type { AuditAction, AuditEntry } from './auditEntry';
import { auditLines } from './auditFiles';
import { beingWritten } from './chainVerifier';
import type { ChainFields } from './hashChain';
import { refusalsIn, type RejectionEntry } from './rejectionEntry';
import type { StreamStartEntry } from './streamStartEntry';

/** An entry as read back from the log: a guarded request's decision, or a refusal (401, 429, invalid request, 503 policy_unavailable). */
export type StoredAuditEntry = (AuditEntry | RejectionEntry) & ChainFields;
export type StoredDecision = AuditEntry & ChainFields;

/** The decision types the log holds. */
export const ENTRY_KINDS = ['decision', 'unauthenticated', 'rate_limited', 'invalid_request', 'policy_unavailable'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

const REFUSAL_KINDS: ReadonlySet<string> = new Set(ENTRY_KINDS.filter((k) => k !== 'decision'));

export function isDecision(entry: StoredAuditEntry): entry is StoredDecision {
  return entry.kind === 'decision';
}

export interface AuditFilter {
  since?: Date;
  until?: Date;
  app?: string;
  kind?: EntryKind;
  /** Decisions only: allow, flag, block, or error (a guard fault). */
  action?: AuditAction;
  guard?: string;
  category?: string;
  rule?: string;
  /**
   * What a verdict's rule did: allow, flag, block (asked for, shadow mode included) or error (its
   * guard failed). With --rule or --guard, one verdict must meet them together: `--rule jailbreak
   * --outcome block` is the requests that rule blocked, where --rule alone is every request it read.
   */
  outcome?: AuditAction;
}

/** Pure: a stored verdict's outcome as the filters and the review page name it: error when its guard failed, else what its rule asked for. */
export function verdictOutcome(verdict: { error_type?: unknown; rule_action?: unknown }): string | undefined {
  if (typeof verdict.error_type === 'string') return 'error';
  return typeof verdict.rule_action === 'string' ? verdict.rule_action : undefined;
}

/**
 * Pure: a time given as ISO 8601 (`2025-06-01`, `2025-06-01T12:00:00Z`) or as an age before now
 * (`30m`, `24h`, `7d`). Throws with the accepted forms.
 */
export function parseTime(value: string, now: Date = new Date()): Date {
  const relative = /^(\d+(?:\.\d+)?)\s*(s|m|h|d|w)$/.exec(value.trim());
  if (relative) {
    const unit = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[relative[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    const at = new Date(now.getTime() - Number(relative[1]) * unit * 1000);
    // An age past the Date range is no time at all: an Invalid Date would disable the filter silently.
    if (!Number.isNaN(at.getTime())) return at;
  }
  // ISO 8601 only: Date's own parser reads "48" (an age without its unit) as the year 2048 and
  // "June 1" as 2001-06-01, and the query then filters silently on the wrong time.
  const iso = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$/.test(value.trim());
  // And a real day: Date rolls 2025-02-30 over to March 2 without a word.
  const day = /^(\d{4})-(\d{2})-(\d{2})/.exec(value.trim());
  const real = day !== null && new Date(Date.UTC(+day[1], +day[2] - 1, +day[3])).getUTCDate() === +day[3];
  // A time without an offset is UTC, as every time the log and the review page show: read as the
  // machine's local time, the same query found other records on a machine in another zone.
  const trimmed = value.trim().replace(' ', 'T');
  const zoned = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(trimmed) ? `${trimmed}Z` : trimmed;
  const date = iso && real ? new Date(zoned) : new Date(Number.NaN);
  if (Number.isNaN(date.getTime())) throw new Error(`"${value}" is not a time: use ISO 8601 (2025-06-01T12:00:00Z) or an age (30m, 24h, 7d)`);
  return date;
}

/** Pure: does the entry pass every filter that is set? guard, category and rule match any verdict of the request; outcome one verdict with them. */
export function matches(entry: StoredAuditEntry, filter: AuditFilter): boolean {
  const received = Date.parse(entry.received_at);
  if (filter.since && received < filter.since.getTime()) return false;
  if (filter.until && received >= filter.until.getTime()) return false;
  if (filter.app && entry.app !== filter.app) return false;
  if (filter.kind && entry.kind !== filter.kind) return false;
  const narrowsToDecisions = filter.action || filter.guard || filter.category || filter.rule || filter.outcome;
  if (!isDecision(entry)) return !narrowsToDecisions;
  if (filter.action && entry.action !== filter.action) return false;
  const verdicts = entry.phases.flatMap((p) => p.verdicts);
  if (filter.guard && !verdicts.some((v) => v.guard === filter.guard)) return false;
  if (filter.category && !verdicts.some((v) => v.categories.includes(filter.category!))) return false;
  if (filter.rule && !verdicts.some((v) => v.rule_id === filter.rule) && !entry.phases.some((p) => p.deciding_rule === filter.rule)) return false;
  if (filter.outcome) {
    const acted = (v: (typeof verdicts)[number]) => verdictOutcome(v) === filter.outcome && (!filter.rule || v.rule_id === filter.rule) && (!filter.guard || v.guard === filter.guard);
    if (!verdicts.some(acted)) return false;
  }
  return true;
}

/**
 * Every entry of an audit directory (decisions and refusals, not checkpoints), in chain order,
 * and apart from them the streams' starts (`stream_started`); lines that do not parse are counted,
 * not thrown (verify reports them).
 */
export function readAllEntries(dir: string): { entries: StoredAuditEntry[]; unreadable: number; streamStarts: (StreamStartEntry & ChainFields)[] } {
  const entries: StoredAuditEntry[] = [];
  const streamStarts: (StreamStartEntry & ChainFields)[] = [];
  let unreadable = 0;
  for (const line of auditLines(dir)) {
    // A record being written is neither read nor counted unreadable: it is read once whole.
    if (beingWritten(line)) continue;
    try {
      const parsed = JSON.parse(line.text) as StoredAuditEntry | null;
      if (parsed && parsed.kind === 'decision' && isReadableDecision(parsed)) entries.push(parsed);
      else if (parsed && REFUSAL_KINDS.has(parsed.kind) && typeof (parsed as { reason?: unknown }).reason === 'string') entries.push(parsed);
      // Signed checkpoints belong to the chain, not to the decisions: `audit verify` reads them.
      else if (parsed && (parsed as { kind?: unknown }).kind === 'checkpoint') continue;
      // A stream's start is no decision: its decision record follows when the stream ends.
      else if (parsed && (parsed as { kind?: unknown }).kind === 'stream_started' && typeof (parsed as { request_id?: unknown }).request_id === 'string') streamStarts.push(parsed as unknown as StreamStartEntry & ChainFields);
      else unreadable++;
    } catch {
      unreadable++;
    }
  }
  return { entries, unreadable, streamStarts };
}

/**
 * Pure: the streams whose start was recorded and whose decision is not (yet): still streaming, or
 * cut when the gateway stopped mid-stream (a crash, a kill), among the starts the filter's time and
 * app select.
 */
export function unfinishedStreams(streamStarts: readonly (StreamStartEntry & ChainFields)[], entries: readonly StoredAuditEntry[], filter: Pick<AuditFilter, 'since' | 'until' | 'app'> = {}): (StreamStartEntry & ChainFields)[] {
  const decided = new Set(entries.filter(isDecision).map((e) => e.request_id));
  return streamStarts.filter((s) => {
    const received = Date.parse(s.received_at);
    if (filter.since && received < filter.since.getTime()) return false;
    if (filter.until && received >= filter.until.getTime()) return false;
    if (filter.app && s.app !== filter.app) return false;
    return !decided.has(s.request_id);
  });
}

/**
 * The members every reader of a decision relies on (queries, stats, the review page): a line
 * without them is counted unreadable, so one malformed line cannot make a reviewer's query fail.
 */
function isReadableDecision(entry: object): boolean {
  const e = entry as Record<string, unknown>;
  const policy = e.policy as Record<string, unknown> | null | undefined;
  if (typeof e.received_at !== 'string' || typeof e.request_id !== 'string' || typeof e.route !== 'string' || typeof e.status !== 'number') return false;
  if (!policy || typeof policy !== 'object' || typeof policy.id !== 'string') return false;
  if (!Array.isArray(e.phases)) return false;
  return e.phases.every((p: unknown) => {
    const phase = p as Record<string, unknown> | null;
    if (!phase || typeof phase.direction !== 'string' || !Array.isArray(phase.verdicts)) return false;
    return phase.verdicts.every((v: unknown) => {
      const verdict = v as Record<string, unknown> | null;
      return !!verdict && typeof verdict.guard === 'string' && typeof verdict.label === 'string' && typeof verdict.score === 'number' && Array.isArray(verdict.categories);
    });
  });
}

/** The guarded requests' decisions only (no refusals), in chain order. */
export function readEntries(dir: string): { entries: StoredDecision[]; unreadable: number } {
  const { entries, unreadable } = readAllEntries(dir);
  return { entries: entries.filter(isDecision), unreadable };
}

export interface AuditStats {
  records: number;
  from?: string;
  to?: string;
  /** Requests by kind (decision, unauthenticated, rate_limited, invalid_request, policy_unavailable): a refusal summary record counts as the refusals it stands for. */
  byKind: Record<string, number>;
  /** Refusal summary records (a flood past audit.refusals' bounds) and how many refusals they stand for. */
  summaries: { records: number; refusals: number };
  /** Streams whose start was recorded but never their decision (the gateway stopped mid-stream): up to 20, oldest first, and how many. */
  unfinishedStreams?: { count: number; first: { request_id: string; received_at: string; app: string; route: string }[] };
  /** Decisions by final action (allow, flag, block, error). */
  byAction: Record<string, number>;
  /** Refusals by `<kind>:<reason>`, e.g. `rate_limited:tokens_per_minute`, `invalid_request:unsupported_parameter`. */
  byReason: Record<string, number>;
  /** Per guard: runs, and how many of them made their rule ask for flag or block. */
  byGuard: Record<string, { runs: number; flagged: number; blocked: number; errors: number }>;
  /** Requests with a triggering verdict (rule action flag or block) in each category. */
  byCategory: Record<string, number>;
  /** Per app: decisions by action and refusals by kind (401s have no app: `(none)`). */
  byApp: Record<string, Record<string, number>>;
}

/** Pure: counts over entries (already filtered). */
export function auditStats(entries: readonly StoredAuditEntry[]): AuditStats {
  const stats: AuditStats = { records: 0, byKind: {}, byAction: {}, byReason: {}, byGuard: {}, byCategory: {}, byApp: {}, summaries: { records: 0, refusals: 0 } };
  for (const entry of entries) {
    stats.records++;
    if (!stats.from || entry.received_at < stats.from) stats.from = entry.received_at;
    if (!stats.to || entry.received_at > stats.to) stats.to = entry.received_at;
    if (!isDecision(entry)) {
      const n = refusalsIn(entry);
      if (entry.repeats) {
        stats.summaries.records++;
        stats.summaries.refusals += n;
      }
      const to = entry.repeats?.last_at;
      if (typeof to === 'string' && (!stats.to || to > stats.to)) stats.to = to;
      stats.byKind[entry.kind] = (stats.byKind[entry.kind] ?? 0) + n;
      const reason = `${entry.kind}:${entry.reason}`;
      stats.byReason[reason] = (stats.byReason[reason] ?? 0) + n;
      const app = (stats.byApp[entry.app ?? '(none)'] ??= {});
      app[entry.kind] = (app[entry.kind] ?? 0) + n;
      continue;
    }
    stats.byKind[entry.kind] = (stats.byKind[entry.kind] ?? 0) + 1;
    stats.byAction[entry.action] = (stats.byAction[entry.action] ?? 0) + 1;
    const app = (stats.byApp[entry.app] ??= {});
    app[entry.action] = (app[entry.action] ?? 0) + 1;
    const categories = new Set<string>();
    for (const verdict of entry.phases.flatMap((p) => p.verdicts)) {
      const guard = (stats.byGuard[verdict.guard] ??= { runs: 0, flagged: 0, blocked: 0, errors: 0 });
      guard.runs++;
      // A guard fault carries its rule's action (block under on_error: block) but is no verdict: counted as an error only, as `--outcome` and the review page do.
      const outcome = verdictOutcome(verdict);
      if (outcome === 'flag') guard.flagged++;
      if (outcome === 'block') guard.blocked++;
      if (outcome === 'error') guard.errors++;
      if (outcome === 'flag' || outcome === 'block') for (const c of verdict.categories) categories.add(c);
    }
    for (const c of categories) stats.byCategory[c] = (stats.byCategory[c] ?? 0) + 1;
  }
  return stats;
}
