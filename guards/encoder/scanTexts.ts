/**
 * The scanning pipeline shared by the encoder guards: for each text, look the result up in the
 * cache, else (optionally) undo the whitespace attack, tokenize the whole text, cut it into
 * half-overlapping segments, add its fine-grained windows (lines and sentences, see
 * text/fineWindows.ts) when it is longer than one, and send them all to the shared batcher.
 * Texts are tokenized one after another while the segments of earlier texts already run, and
 * all segments of one request share batches with each other and with concurrent requests.
 *
 * Two caches, both keyed by the guard's settings and the request's cache scope (the policy
 * version: a new version scans again): whole texts (their result, without tokenizing), and rows
 * (a segment or window's outputs, runtime/rowCache.ts), so a text that grew since last turn (a
 * per-source join, the whole conversation) runs only its new segments and windows.
 */
import { textCacheKeyAsync } from '../runtime/cacheKey';
import { InputRefused } from '../runtime/errors';
import { untilAborted } from '../runtime/sharedWork';
import { pause } from '../runtime/yield';
import type { LruCache } from '../runtime/lruCache';
import type { SegmentLayout } from '../text/segments';
import { assembleWindows, textUnits, type CharSpan } from '../text/fineWindows';
import type { CacheHits } from '../types';
import type { EncoderClassifier, SegmentOutput } from './encoderClassifier';

export interface ScanItem {
  /** Sanitized text the model scores. */
  text: string;
  /** Part of the cache key: how the outputs are turned into a result (e.g. `injection`). */
  kind: string;
  layout: SegmentLayout;
  /** Fine-window size in tokens; 0 or absent: segments only. */
  windowTokens?: number;
}

/** What each scored output was: a segment (undefined) or a fine window (its characters in the text). */
export type ScanView = CharSpan | undefined;

/** Anything a guard derives from one text's outputs; `segments` / `windows` is how many of each were scored. */
export interface ItemResult {
  segments: number;
  windows?: number;
  /** The worst output's characters when it was a fine window. */
  span?: CharSpan;
}

export interface ScanContext<R extends ItemResult, I extends ScanItem = ScanItem> {
  classifier: EncoderClassifier;
  cache: LruCache<string, R>;
  /** Model identity plus every setting that changes results (temperature, mitigation). */
  cacheNamespace: string;
  whitespaceMitigation: boolean;
  /** Refuse the request when its texts need more segments than this. */
  maxSegments: number;
  signal: AbortSignal;
  /** Turns one text's outputs (segments, then fine windows: see `views`) into its result. */
  score(outputs: SegmentOutput[], item: I, views: readonly ScanView[]): R;
  /** Counters for metrics and tests; updated in place. */
  counters?: { cacheHits: number; cacheMisses: number };
  /** The request's cache scope (GuardRequest.cacheScope): part of every key. */
  cacheScope?: string;
  /** This scan's cache hits, for the verdict; updated in place. */
  hits?: CacheHits;
}

export async function scanItems<R extends ItemResult, I extends ScanItem = ScanItem>(items: readonly I[], ctx: ScanContext<R, I>): Promise<R[]> {
  const results: Promise<R>[] = [];
  let segmentCount = 0;
  for (const item of items) {
    // Each text's CPU work (hash, tokenize) in a loop turn of its own, in turn with other
    // checks, even a short one: when a batch returns, the 16 checks it answers would otherwise
    // all scan their next texts in one go (measured: event-loop delay p99 9.4 ms instead of 1.8).
    await pause(ctx.signal);
    // No cache, no key: hashing every text would be wasted work.
    const kind = item.windowTokens ? `${item.kind}|w${item.windowTokens}` : item.kind;
    const key = ctx.cache.capacity > 0 ? await textCacheKeyAsync(scopedNamespace(ctx), kind, item.text, ctx.signal) : undefined;
    const cached = key === undefined ? undefined : ctx.cache.get(key);
    if (cached && ctx.counters) ctx.counters.cacheHits++;
    else if (ctx.counters) ctx.counters.cacheMisses++;
    if (cached) {
      segmentCount += cached.segments + (cached.windows ?? 0);
      if (ctx.hits) {
        ctx.hits.texts++;
        ctx.hits.segments += cached.segments + (cached.windows ?? 0);
      }
      results.push(Promise.resolve(cached));
      continue;
    }
    const ids = await ctx.classifier.textIds(item.text, ctx.whitespaceMitigation, ctx.signal, ctx.cache.capacity > 0, ctx.cacheScope);
    const segments = ctx.classifier.segments(ids, item.layout);
    const views: ScanView[] = segments.map(() => undefined);
    // A window shares its row with the frame and any template tokens, like a segment.
    const windowTokens = Math.min(item.windowTokens ?? 0, item.layout.maxLength - item.layout.prefix.length - item.layout.suffix.length);
    if (windowTokens > 0 && ids.length > windowTokens) {
      // Units come from the text before the whitespace fix (which removes newlines); each
      // unit gets the fix on its own, as the bundled models were trained.
      const units = textUnits(item.text);
      const unitIds = await ctx.classifier.unitIds(item.text, units, ctx.whitespaceMitigation, ctx.signal, ctx.cache.capacity > 0, ctx.cacheScope);
      for (const w of assembleWindows(units, unitIds, windowTokens)) {
        segments.push([...item.layout.prefix, ...w.ids, ...item.layout.suffix]);
        views.push({ start: w.start, end: w.end });
      }
    }
    segmentCount += segments.length;
    if (segmentCount > ctx.maxSegments) {
      throw new InputRefused(
        `the texts need more than ${ctx.maxSegments} segments of ${item.layout.maxLength} tokens; raise maxSegments or lower the request size limit`,
      );
    }
    const scored = classifyRows(ctx, segments).then((outputs) => {
      const result = ctx.score(outputs, item, views);
      if (key !== undefined) ctx.cache.set(key, result);
      return result;
    });
    // Handled from the start: a deadline can reject this while the loop still awaits the next
    // text's tokens, before Promise.all below attaches, and an unhandled rejection ends the
    // process. Promise.all still sees the rejection.
    scored.catch(() => undefined);
    results.push(scored);
  }
  return Promise.all(results);
}

/** The guard's settings and the request's scope: a text or row cached under another policy version is not reused. */
function scopedNamespace(ctx: { cacheNamespace: string; cacheScope?: string }): string {
  return `${ctx.cacheNamespace}\u0000${ctx.cacheScope ?? ''}`;
}

/**
 * How much further back in another scan's submission than in its own a scan accepts a shared row
 * (one batch). The batcher serves submissions in turn, so a row's wait grows with its place in its
 * submission: a scan shares a row only where it would have run it about as soon itself. The rules
 * reading one text at once share all of it (same rows, same places); a one-line check does not
 * wait behind a 128K-token document that happens to hold the same sentence late in its submission.
 */
const SHARE_SLACK_ROWS = 16;

/**
 * Scores rows through the row cache (when this scan caches at all): hits are reused, rows another
 * scan is scoring now are awaited rather than run again (where it would not have run them sooner
 * itself, SHARE_SLACK_ROWS), identical rows within the call run once, and only the rest go to the
 * batcher.
 */
async function classifyRows<R extends ItemResult, I extends ScanItem>(ctx: ScanContext<R, I>, rows: number[][]): Promise<SegmentOutput[]> {
  const cache = ctx.classifier.rowCache;
  if (ctx.cache.capacity === 0 || cache.capacity === 0 || rows.length === 0) return ctx.classifier.classify(rows, ctx.signal);
  const keys = await cache.keys(scopedNamespace(ctx), rows, ctx.signal);
  const outputs = new Array<SegmentOutput>(rows.length);
  let todo = keys.map((_, i) => i);
  // A shared run that failed (its scan's deadline, its client gone) sends its rows round again: the
  // first scan back runs them and marks them running, and the others share that run. Each scoring
  // them itself, a herd of waiters ran every row N times at 1/N speed and all timed out (503s).
  while (todo.length > 0) {
    const missing = new Map<string, number[]>();
    const shared = new Map<string, { output: Promise<SegmentOutput>; at: number[] }>();
    for (const i of todo) {
      const key = keys[i]!;
      const hit = cache.get(key);
      if (hit) {
        outputs[i] = hit;
        if (ctx.hits) ctx.hits.segments++;
        continue;
      }
      const waiting = shared.get(key)?.at ?? missing.get(key);
      if (waiting) {
        waiting.push(i);
        continue;
      }
      const running = cache.running(key);
      // Where this scan would run the row itself: after the rows it has not found elsewhere so far.
      const ownPlace = missing.size + shared.size;
      if (running && running.position <= ownPlace + SHARE_SLACK_ROWS) shared.set(key, { output: running.output, at: [i] });
      else missing.set(key, [i]);
    }
    const borrowed = [...shared.entries()];
    // One wait for every shared row, beside this scan's own run.
    const settledShares = borrowed.length === 0 ? Promise.resolve([]) : untilAborted(Promise.allSettled(borrowed.map(([, s]) => s.output)), ctx.signal);
    const [fresh, settled] = await Promise.all([scoreMissing(ctx, rows, missing), settledShares]);
    [...missing.values()].forEach((at, k) => {
      for (const i of at) outputs[i] = fresh[k]!;
    });
    todo = [];
    settled.forEach((result, j) => {
      const [key, { at }] = borrowed[j]!;
      const out = result.status === 'fulfilled' ? result.value : cache.get(key);
      if (out) for (const i of at) outputs[i] = out;
      else todo.push(...at);
    });
  }
  return outputs;
}

/**
 * Runs the rows no one has (one per key, in `missing`'s order), each marked running until its own
 * batch returns, so a scan sharing one row of a long submission waits for that row only.
 */
function scoreMissing<R extends ItemResult, I extends ScanItem>(ctx: ScanContext<R, I>, rows: number[][], missing: Map<string, number[]>): Promise<SegmentOutput[]> {
  if (missing.size === 0) return Promise.resolve([]);
  const cache = ctx.classifier.rowCache;
  const misses = [...missing.entries()];
  // Copies: an output is a view into its batch's buffer, which the cache must not keep alive.
  const copy = (out: SegmentOutput): SegmentOutput => ({ logits: out.logits.slice(), ...(out.categoryLogits ? { categoryLogits: out.categoryLogits.slice() } : {}) });
  const kept = new Array<SegmentOutput | undefined>(misses.length);
  const settlers = misses.map(([key], k) => {
    let settle!: { resolve: (out: SegmentOutput) => void; reject: (err: Error) => void };
    cache.track(key, new Promise<SegmentOutput>((resolve, reject) => (settle = { resolve, reject })), k);
    return settle;
  });
  const run = ctx.classifier
    .classify(
      misses.map(([, at]) => rows[at[0]!]!),
      ctx.signal,
      (k, out) => {
        kept[k] = copy(out);
        settlers[k]!.resolve(kept[k]);
      },
    )
    .then((all) => all.map((out, k) => kept[k] ?? copy(out)));
  // Rows whose batch never returned fail with the run (a settled row ignores this).
  run.catch((err: unknown) => {
    for (const s of settlers) s.reject(err instanceof Error ? err : new Error(String(err)));
  });
  return run;
}
