/**
 * The content-safety encoder backend (issue "Llama Guard 3 ... item 4"): a small encoder
 * classifier (safe/unsafe plus a 14-way multi-label hazard head) that stands in for
 * Llama Guard 3 where a decoder is too slow. Same loader, session, batcher and text
 * sanitization as Prompt Guard. Which turns are classified: turns.ts. How outputs become a
 * decision: decision.ts.
 */
import * as path from 'node:path';
import { EncoderClassifier, type SegmentOutput } from '../encoder/encoderClassifier';
import { scanItems, type ScanView } from '../encoder/scanTexts';
import { describeEncoderRuntime, encoderGuardStats, type EncoderGuardStats } from '../encoder/stats';
import { countViews, inSentText, pickWorst, worstTextVerdict, worstView } from '../encoder/worst';
import { sigmoid, softmax } from '../onnx/probabilities';
import { checkNumericOptions } from '../runtime/numericOptions';
import { withDeadline } from '../runtime/deadline';
import { toGuardError } from '../runtime/errors';
import { LruCache } from '../runtime/lruCache';
import { prepareTexts } from '../text/prepareTexts';
import type { SegmentLayout } from '../text/segments';
import { errorVerdict, type CacheHits, type Guard, type GuardRequest, type Verdict } from '../types';
import { timeoutFor } from '../runtime/timeoutBudget';
import { combineSegments, decideSegment, type CategorySettings, type SegmentDecision } from './decision';
import { selectTurns, type TemplateRole, type UserTurnScope } from './turns';

import type { EncoderGuardOptions } from '../encoder/encoderGuardOptions';
export { decideSegment, combineSegments } from './decision';
export { selectTurns } from './turns';
export { splitTemplate } from '../encoder/template';

/** The content-safety encoder: the shared encoder options plus category handling; whitespace mitigation defaults off (not part of this model's recipe). */
export interface ContentEncoderGuardOptions extends EncoderGuardOptions {
  /** Category codes (e.g. `S6`) never reported; when only excluded ones fire, the text is safe. */
  excludedCategories?: string[];
  /** Sigmoid probability at which a category is reported; default 0.5. */
  categoryThreshold?: number;
  /** Input direction: classify every user turn (default) or only the last. */
  userTurns?: UserTurnScope;
}

interface TextDecision extends SegmentDecision {
  segments: number;
  windows: number;
  span?: { start: number; end: number };
}

export interface ContentEncoderGuard extends Guard {
  stats(): EncoderGuardStats;
}

export function createContentEncoderGuard(options: ContentEncoderGuardOptions): ContentEncoderGuard {
  checkNumericOptions(options);
  const threshold = options.categoryThreshold ?? 0.5;
  if (!(threshold > 0 && threshold <= 1)) throw new Error(`categoryThreshold must be in (0, 1], got ${threshold}`);
  const settings = {
    temperature: options.temperature ?? 1,
    timeoutMs: options.timeoutMs ?? 5000,
    cacheSize: options.cacheSize ?? 4096,
    whitespaceMitigation: options.whitespaceMitigation ?? false,
    maxSegments: options.maxSegments ?? 16384,
    userTurns: options.userTurns ?? 'all',
  };
  const categorySettings: CategorySettings = { excluded: new Set(options.excludedCategories ?? []), categoryThreshold: threshold };
  const model = options.model ?? path.basename(path.resolve(options.modelDir)) + (options.variant ? `:${options.variant}` : '');
  const cache = new LruCache<string, TextDecision>(settings.cacheSize);
  const cacheNamespace = `${model}|T=${settings.temperature}|ws=${settings.whitespaceMitigation ? 1 : 0}|x=${[...categorySettings.excluded].sort().join(',')}|ct=${threshold}`;
  let loaded: { classifier: EncoderClassifier; unsafeIndex: number; layouts: Record<TemplateRole, SegmentLayout> } | undefined;
  let loading: Promise<void> | undefined;
  const counters = { cacheHits: 0, cacheMisses: 0 };

  async function load(): Promise<void> {
    if (loaded) return;
    loading ??= (async () => {
      const classifier = await EncoderClassifier.load({
        modelDir: options.modelDir,
        variant: options.variant,
        maxLength: options.maxLength,
        intraOpThreads: options.intraOpThreads,
        maxBatchSize: options.maxBatchSize,
        batchWaitMs: options.batchWaitMs,
        inlineBudgetMs: options.inlineBudgetMs,
        inlineMaxTokens: options.inlineMaxTokens,
        rowCacheSize: options.rowCacheSize,
      });
      try {
        const unsafeIndex = findUnsafeIndex(classifier.labels, path.join(classifier.directory.dir, 'config.json'));
        const layouts = {} as Record<TemplateRole, SegmentLayout>;
        for (const role of ['user', 'assistant'] as const) {
          layouts[role] = classifier.templateLayout(classifier.directory.config.textTemplate?.[role]);
        }
        loaded = { classifier, unsafeIndex, layouts };
      } catch (err) {
        await classifier.close();
        throw err;
      }
    })();
    try {
      await loading;
    } finally {
      loading = undefined;
    }
  }

  async function check(request: GuardRequest): Promise<Verdict> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const l = loaded;
    if (!l) return errorVerdict(options.name, model, { type: 'unavailable', message: 'content encoder model is not loaded (load() was not called or failed)' }, elapsed());
    const turns = selectTurns(request, settings.userTurns);
    // The budget grows with the text read (runtime/timeoutBudget.ts): every turn, and the whole conversation again.
    const chars = turns.reduce((n, t) => n + t.text.length, 0);
    const timeoutMs = timeoutFor({ baseMs: settings.timeoutMs, per1kTokensMs: options.timeoutPer1kTokensMs, maxMs: options.maxTimeoutMs }, chars);
    const hits: CacheHits = { texts: 0, segments: 0 };
    try {
      return await withDeadline(timeoutMs, request.signal, async (signal) => {
        // Same preparation as Prompt Guard (findings included); the role rides in `source` to pick the template.
        const { items, findings } = await prepareTexts(
          turns.map((t) => ({ source: t.role, path: t.path, text: t.text })),
          signal,
        );
        const windowTokens = l.classifier.fineWindowTokens(options.fineWindowTokens);
        const scan = items.map((item) => ({ ...item, kind: item.source, layout: l.layouts[item.source as TemplateRole], windowTokens }));
        const categoryLabels = l.classifier.directory.config.categoryLabels;
        const decisions = await scanItems<TextDecision>(scan, {
          classifier: l.classifier,
          cache,
          cacheNamespace,
          whitespaceMitigation: settings.whitespaceMitigation,
          maxSegments: settings.maxSegments,
          signal,
          counters,
          cacheScope: request.cacheScope,
          hits,
          score: (outputs, _item, views) => decideText(outputs, views, l.unsafeIndex, categoryLabels, categorySettings, settings.temperature),
        });
        const scored = decisions.map((d, i) => ({ ...d, path: scan[i].path, label: d.unsafe ? 'unsafe' : 'safe' }));
        const unsafe = scored.filter((d) => d.unsafe);
        const worst = inSentText(pickWorst(unsafe.length ? unsafe : scored), turns, items);
        const combined = combineSegments(scored, categoryLabels);
        const verdict: Verdict = {
          ...worstTextVerdict({ name: options.name, model }, scored, 'safe', [...combined.categories, ...findings], elapsed(), worst),
          ...(combined.leanings ? { leanings: combined.leanings } : {}),
        };
        return cache.capacity > 0 ? { ...verdict, cacheHits: hits } : verdict;
      });
    } catch (err) {
      return errorVerdict(options.name, model, toGuardError(err), elapsed());
    }
  }

  return {
    name: options.name,
    model,
    load,
    check,
    stats() {
      return encoderGuardStats(counters, loaded?.classifier);
    },
    describeRuntime() {
      return describeEncoderRuntime(loaded?.classifier);
    },
    async close() {
      const l = loaded;
      loaded = undefined;
      cache.clear();
      await l?.classifier.close();
    },
  };
}

function findUnsafeIndex(labels: readonly string[], file: string): number {
  const i = labels.findIndex((l) => l.toLowerCase() === 'unsafe');
  if (i >= 0) return i;
  if (labels.length === 2) return 1;
  throw new Error(`${file} id2label (${labels.join(', ')}) has no "unsafe" label; a content-safety encoder needs {"0": "safe", "1": "unsafe"}.`);
}

function decideText(
  outputs: SegmentOutput[],
  views: readonly ScanView[],
  unsafeIndex: number,
  categoryLabels: readonly string[] | undefined,
  settings: CategorySettings,
  temperature: number,
): TextDecision {
  const decisions = outputs.map((out) => {
    const pUnsafe = softmax(out.logits, temperature)[unsafeIndex];
    const categoryProbs = out.categoryLogits ? Array.from(out.categoryLogits, sigmoid) : undefined;
    return decideSegment(pUnsafe, categoryProbs, categoryLabels, settings);
  });
  const worst = worstView(
    decisions.map((d) => d.score),
    views,
  );
  return { ...combineSegments(decisions, categoryLabels), ...countViews(views), ...(worst.span ? { span: worst.span } : {}) };
}
