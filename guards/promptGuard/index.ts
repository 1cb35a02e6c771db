/**
 * Prompt Guard (v1 or v2, chosen by config.json's id2label) as a Guard: every text of the
 * request, every segment of every text, sanitized against known evasions first. See
 * scoring.ts for what the score means and ../README.md for the pipeline.
 */
import * as path from 'node:path';
import { EncoderClassifier, type SegmentOutput } from '../encoder/encoderClassifier';
import { scanItems, type ScanView } from '../encoder/scanTexts';
import { layoutFor, roleLayouts, type RoleLayouts } from './roleLayouts';
import { describeEncoderRuntime, encoderGuardStats, type EncoderGuardStats } from '../encoder/stats';
import { countViews, inSentText, pickWorst, worstTextVerdict, worstView } from '../encoder/worst';
import { softmax } from '../onnx/probabilities';
import { withDeadline } from '../runtime/deadline';
import { toGuardError } from '../runtime/errors';
import { LruCache } from '../runtime/lruCache';
import { prepareTexts } from '../text/prepareTexts';
import { errorVerdict, type CacheHits, type Guard, type GuardRequest, type Verdict } from '../types';
import { textsChars, timeoutFor } from '../runtime/timeoutBudget';
import { checkNumericOptions } from '../runtime/numericOptions';
import { PROMPT_GUARD_DEFAULTS, type PromptGuardOptions } from './options';
import { detectVariant, labelFor, scoreFromProbabilities, scoreKindFor, type PromptGuardVariant, type ScoreKind } from './scoring';

export type { PromptGuardOptions } from './options';
export { detectVariant, scoreKindFor, scoreFromProbabilities, labelFor } from './scoring';
export type { PromptGuardVariant, ScoreKind } from './scoring';

interface TextResult {
  score: number;
  label: string;
  segments: number;
  windows: number;
  span?: { start: number; end: number };
}

/** A Prompt Guard guard that also reports which Prompt Guard version it loaded. */
export interface PromptGuard extends Guard {
  /** Known after load(): 1 or 2, from id2label. */
  readonly version: 1 | 2 | undefined;
  stats(): EncoderGuardStats;
}

export type { EncoderGuardStats } from '../encoder/stats';

export function createPromptGuard(options: PromptGuardOptions): PromptGuard {
  checkNumericOptions(options);
  const settings = { ...PROMPT_GUARD_DEFAULTS, ...stripUndefined(options) };
  const model = options.model ?? path.basename(path.resolve(options.modelDir)) + (options.variant ? `:${options.variant}` : '');
  const cache = new LruCache<string, TextResult>(settings.cacheSize);
  const cacheNamespace = `${model}|T=${settings.temperature}|ws=${settings.whitespaceMitigation ? 1 : 0}`;
  let classifier: EncoderClassifier | undefined;
  let variant: PromptGuardVariant | undefined;
  let layouts: RoleLayouts | undefined;
  let loading: Promise<void> | undefined;
  const counters = { cacheHits: 0, cacheMisses: 0 };

  async function load(): Promise<void> {
    if (classifier) return;
    loading ??= (async () => {
      const loaded = await EncoderClassifier.load({
        modelDir: options.modelDir,
        variant: options.variant,
        maxLength: options.maxLength,
        intraOpThreads: options.intraOpThreads,
        maxBatchSize: settings.maxBatchSize,
        batchWaitMs: settings.batchWaitMs,
        inlineBudgetMs: options.inlineBudgetMs,
        inlineMaxTokens: options.inlineMaxTokens,
        rowCacheSize: options.rowCacheSize,
      });
      try {
        variant = detectVariant(loaded.labels, path.join(loaded.directory.dir, 'config.json'));
        layouts = roleLayouts(loaded);
      } catch (err) {
        await loaded.close();
        throw err;
      }
      classifier = loaded;
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
    if (!classifier || !variant || !layouts) {
      return errorVerdict(options.name, model, { type: 'unavailable', message: 'Prompt Guard model is not loaded (load() was not called or failed)' }, elapsed());
    }
    const c = classifier;
    const v = variant;
    const l = layouts;
    const timeoutMs = timeoutFor({ baseMs: settings.timeoutMs, per1kTokensMs: options.timeoutPer1kTokensMs, maxMs: options.maxTimeoutMs }, textsChars(request.texts));
    const hits: CacheHits = { texts: 0, segments: 0 };
    try {
      return await withDeadline(timeoutMs, request.signal, async (signal) => {
        const { items, findings } = await prepareTexts(request.texts ?? [], signal);
        const windowTokens = c.fineWindowTokens(settings.fineWindowTokens);
        const scanItemsList = items.map((item) => {
          const scoreKind = scoreKindFor(v, item.source, request.score);
          const { layout, marked } = layoutFor(l, item.source);
          // The marker changes the rows, so a marked text is cached apart from the same text bare.
          return { ...item, scoreKind, kind: marked ? `${scoreKind}|third_party` : scoreKind, layout, windowTokens };
        });
        const results = await scanItems<TextResult, (typeof scanItemsList)[number]>(scanItemsList, {
          classifier: c,
          cache,
          cacheNamespace,
          whitespaceMitigation: settings.whitespaceMitigation,
          maxSegments: settings.maxSegments,
          signal,
          counters,
          cacheScope: request.cacheScope,
          hits,
          score: (outputs, item, views) => scoreText(v, item.scoreKind, outputs, views, settings.temperature),
        });
        const scored = results.map((r, i) => ({ ...r, path: scanItemsList[i].path }));
        const worst = inSentText(pickWorst(scored), request.texts ?? [], items);
        const verdict = worstTextVerdict({ name: options.name, model }, scored, 'BENIGN', findings, elapsed(), worst);
        return cache.capacity > 0 ? { ...verdict, cacheHits: hits } : verdict;
      });
    } catch (err) {
      return errorVerdict(options.name, model, toGuardError(err), elapsed());
    }
  }

  return {
    name: options.name,
    model,
    get version() {
      return variant?.version;
    },
    load,
    check,
    stats() {
      return encoderGuardStats(counters, classifier);
    },
    describeRuntime() {
      return describeEncoderRuntime(classifier);
    },
    async close() {
      const c = classifier;
      classifier = undefined;
      cache.clear();
      await c?.close();
    },
  };
}

/** A text's score is the max over its segments (Meta's reference for long inputs) and fine windows. */
function scoreText(variant: PromptGuardVariant, kind: ScoreKind, outputs: SegmentOutput[], views: readonly ScanView[], temperature: number): TextResult {
  const scores = outputs.map((out) => scoreFromProbabilities(variant, kind, softmax(out.logits, temperature)));
  const worst = worstView(scores, views);
  return { score: worst.score, label: labelFor(kind, worst.score), ...countViews(views), ...(worst.span ? { span: worst.span } : {}) };
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
