/**
 * Prompt Guard on a classification server beside the engine (text-embeddings-inference's
 * `/predict`, vLLM's `/classify`; teiApi.ts, vllmApi.ts), for operators who run it on a GPU.
 * The gateway keeps everything that decides what is scanned and what a score means:
 * - texts prepared as on the local path (text/prepareTexts.ts: sanitized, look-alikes mapped,
 *   decoded payloads and the #normalized variant scored as texts of their own, findings);
 * - every text cut into half-overlapping segments under the 512-token window, by characters
 *   (charSegments.ts: the server tokenizes), plus fine windows when `fineWindowTokens` is set;
 * - scores as Meta's reference computes them (scoring.ts: softmax(logits / T); v1 jailbreak
 *   p[JAILBREAK] for what users write, injection p[INJECTION] + p[JAILBREAK] for third-party
 *   text; v2 p[MALICIOUS]), labels in id2label order (serverScores.ts), max over segments;
 * - caches of texts and segments, within the request's cache scope (the policy version).
 * - Meta's whitespace-attack fix (text/whitespaceAttack.ts) when `tokenizerDir` holds the served
 *   model's tokenizer.json: each text that the fix changes is also scored fixed (`#whitespace`).
 *
 * Segments go to the server in batches (`maxBatchSize` per request, a few requests in flight).
 * A failed request is tried at another replica (runtime/endpointPool.ts) where that can help;
 * a segment the server finds too long is split in two and sent again, never truncated. Every
 * failure is a verdict with `error` (unavailable, timeout, model_error, bad_input): check()
 * never throws.
 */
import { existsSync, readFileSync } from 'node:fs';
import nodePath from 'node:path';
import { context, propagation } from '@opentelemetry/api';
import { Agent, request as httpRequest } from 'undici';
import { countViews, pickWorst, worstTextVerdict, worstView } from '../encoder/worst';
import { softmax } from '../onnx/probabilities';
import { textCacheKey, textCacheKeyAsync } from '../runtime/cacheKey';
import { withDeadline } from '../runtime/deadline';
import { type AttemptResult, EndpointPool, isRetryableStatus, statusMaybeTheCall } from '../runtime/endpointPool';
import { InputRefused, toGuardError } from '../runtime/errors';
import { LruCache } from '../runtime/lruCache';
import { textsChars, timeoutFor, type TimeoutBudget } from '../runtime/timeoutBudget';
import { pause } from '../runtime/yield';
import type { CharSpan } from '../text/fineWindows';
import { prepareTexts } from '../text/prepareTexts';
import { removeTokenSplittingSpaces } from '../tokenizer/longText';
import { TextTokenizer } from '../tokenizer/textTokenizer';
import { type CacheHits, errorVerdict, type Guard, type GuardError, type GuardRequest, isThirdPartySource, type Verdict } from '../types';
import { charSegments, charWindows, estimateTokens, offsetAtTokens, SEGMENT_TOKENS } from './charSegments';
import type { RemotePromptGuardOptions } from './options';
import { detectVariant, labelFor, type PromptGuardVariant, type ScoreKind, scoreFromProbabilities } from './scoring';
import { labelOrder, orderedLogits, type ServerRow, type ServerScores } from './serverScores';
import { readTeiError, readTeiPredict, teiPredictBody, teiSaysTooLong } from './teiApi';
import { readVllmClassify, readVllmError, vllmClassifyBody, vllmSaysTooLong } from './vllmApi';
import { AnswerTooLarge, readCappedText } from '../runtime/cappedText';
import { redactUrl } from '../runtime/redactUrl';
import { quotesAny } from '../runtime/quotedText';

/** How often a segment the server calls too long is split again before the check gives up. */
const MAX_SPLITS = 3;
/** Scores for a batch of segments are a few kilobytes; anything near this is not a classification answer. */
const MAX_ANSWER_BYTES = 4 * 1024 * 1024;
const MAX_ERROR_CHARS = 300;

interface TextResult {
  score: number;
  label: string;
  segments: number;
  windows: number;
  span?: CharSpan;
}

/** A failure that already knows its verdict error type. */
class ServerFailure extends Error {
  constructor(readonly guardError: GuardError) {
    super(guardError.message);
    this.name = 'ServerFailure';
  }
}

/** What one request to the server came to. */
/** `limit`: the window the server says it has, in tokens, when its message names one. */
type BatchAnswer = { kind: 'rows'; rows: ServerRow[] } | { kind: 'too_long'; limit?: number };

export interface RemotePromptGuard extends Guard {
  /** Known after the first answer: 1 or 2, from the labels. */
  readonly version: 1 | 2 | undefined;
  stats(): { cacheHits: number; cacheMisses: number; requests: number; segmentsSent: number; splits: number };
}

export function createRemotePromptGuard(options: RemotePromptGuardOptions): RemotePromptGuard {
  const urls = (typeof options.url === 'string' ? [options.url] : [...options.url]).map(normalizeRootUrl);
  const path = options.backend === 'tei' ? '/predict' : '/classify';
  const temperature = options.temperature ?? 1;
  if (!(temperature > 0)) throw new Error(`temperature must be > 0, got ${temperature}`);
  const maxBatch = options.maxBatchSize ?? 32;
  const inFlight = options.maxConcurrentRequests ?? 4;
  const maxSegments = options.maxSegments ?? 16384;
  const windowTokens = options.fineWindowTokens ?? 0;
  const model = options.model;
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const servers = new EndpointPool({
    urls,
    healthUrl: (base) => `${base}/health`,
    headers: options.apiKey ? { authorization: headers.authorization! } : undefined,
    dispatcher,
    healthIntervalMs: options.healthIntervalMs,
    onChange: (url, up, reason) => options.log?.(`guard ${options.name}: server ${redactUrl(url)} ${up ? 'up' : 'DOWN'}: ${reason}`),
  });
  const textCache = new LruCache<string, TextResult>(options.cacheSize ?? 4096);
  const rowCache = new LruCache<string, number[][]>(textCache.capacity === 0 ? 0 : (options.rowCacheSize ?? 16384));
  const namespace = `${options.backend}|${model}|T=${temperature}|w=${windowTokens}|labels=${options.labels?.join(',') ?? ''}|ws=${options.tokenizerDir ? 1 : 0}`;
  let tokenizer: TextTokenizer | undefined;
  const counters = { cacheHits: 0, cacheMisses: 0, requests: 0, segmentsSent: 0, splits: 0 };
  let resolved: { labels: string[]; variant: PromptGuardVariant } | undefined;

  /** One request with these segment texts at one replica. */
  async function post(base: string, texts: readonly string[], signal: AbortSignal): Promise<AttemptResult<BatchAnswer>> {
    const body = options.backend === 'tei' ? teiPredictBody(texts) : vllmClassifyBody(model, texts);
    let status: number;
    let raw: string;
    try {
      const traced = { ...headers };
      // W3C trace context of the guard span, so the server's spans join the request's trace.
      propagation.inject(context.active(), traced);
      counters.requests++;
      const res = await httpRequest(base + path, { method: 'POST', headers: traced, body: JSON.stringify(body), signal, dispatcher });
      status = res.statusCode;
      raw = await readCappedText(res.body, MAX_ANSWER_BYTES);
    } catch (err) {
      // An answer the gateway cannot read (too large, not JSON, the wrong shape) is this replica's fault, not the text's: the next one is asked.
      if (err instanceof AnswerTooLarge) return { ok: false, retryable: true, maybeTheCall: true, error: { type: 'model_error', message: `${redactUrl(base)}${path}: ${err.message}` } };
      if (signal.aborted) throw err; // withDeadline reports the deadline or the caller's abort
      return { ok: false, retryable: true, error: { type: 'unavailable', message: `${redactUrl(base)}${path}: ${(err as Error).message}` } };
    }
    const json = parseJson(raw);
    if (status < 200 || status >= 300) {
      const message = (options.backend === 'tei' ? readTeiError(json) : readVllmError(json))?.message ?? (raw || 'empty body');
      if (options.backend === 'tei' ? teiSaysTooLong(status, message) : vllmSaysTooLong(status, message)) return { ok: true, value: { kind: 'too_long', ...statedLimit(message) } };
      const type = status === 408 || status === 429 || status >= 500 ? 'unavailable' : 'model_error';
      return { ok: false, retryable: isRetryableStatus(status), busy: status === 429, maybeTheCall: statusMaybeTheCall(status), error: { type, message: `${path} HTTP ${status}: ${withoutTexts(clip(message), texts)}` } };
    }
    const read: ServerScores = json === undefined ? { ok: false, error: `${path} answer is not JSON` } : options.backend === 'tei' ? readTeiPredict(json, texts.length) : readVllmClassify(json, texts.length);
    if (!read.ok) return { ok: false, retryable: true, maybeTheCall: true, error: { type: 'model_error', message: read.error } };
    return { ok: true, value: { kind: 'rows', rows: read.rows } };
  }

  /** Logit vectors (in label order) for each segment text: one each, more for a segment the server made us split. */
  async function scoreSegments(texts: readonly string[], signal: AbortSignal, hedgeAfterMs: (batch: readonly string[]) => number, depth = 0): Promise<number[][][]> {
    const out: number[][][] = new Array(texts.length);
    const batches: number[][] = [];
    for (let i = 0; i < texts.length; i += maxBatch) batches.push(Array.from({ length: Math.min(maxBatch, texts.length - i) }, (_, k) => i + k));
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) {
        const batch = batches[next++]!;
        const batchTexts = batch.map((i) => texts[i]!);
        counters.segmentsSent += batch.length;
        const result = await servers.run((base, trySignal) => post(base, batchTexts, trySignal), signal, hedgeAfterMs(batchTexts));
        if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
        if (!result.ok) throw new ServerFailure(result.error);
        if (result.value.kind === 'too_long') {
          // Which input was too long the server does not say: split each of this batch's in two
          // (overlapping by a third, so nothing is only at a cut), score the halves, keep them all.
          if (depth >= MAX_SPLITS) {
            // Each split keeps two thirds: about 30% of a segment sized for the model's window. Text
            // that short, at most one token a character, cannot fill the window: the server's window
            // is not the model's (a wrong --max-input-length, another model), a fault. Longer text
            // may just be that dense (a tokenizer's worst case): the request's bad input, as before.
            // A server that says its window is smaller than the segments it is sent (TEI's "less than N
            // tokens", vLLM's "maximum context length is N tokens") is set below the model's window.
            const limit = result.value.limit;
            if (limit !== undefined && limit < SEGMENT_TOKENS + 2) throw new ServerFailure({ type: 'model_error', message: `the server's window is ${limit} tokens, under the ${SEGMENT_TOKENS}-token segments the gateway sizes for the model: is its maximum input length set below the model's?` });
            const longest = Math.max(...batchTexts.map((t) => t.length));
            if (longest + 2 <= SEGMENT_TOKENS) throw new ServerFailure({ type: 'model_error', message: `the server says texts of at most ${longest} characters are too long after ${MAX_SPLITS} splits: is its maximum input length set below the model's?` });
            throw new ServerFailure({ type: 'bad_input', message: `a segment is still longer than the server's window after ${MAX_SPLITS} splits` });
          }
          counters.splits++;
          const halves = batchTexts.map(splitInTwo);
          const scored = await scoreSegments(halves.flat(), signal, hedgeAfterMs, depth + 1);
          let at = 0;
          batch.forEach((i, k) => {
            const parts = scored.slice(at, at + halves[k]!.length);
            at += halves[k]!.length;
            out[i] = parts.flat();
          });
          continue;
        }
        const rows = result.value.rows;
        try {
          resolved ??= resolveLabels(rows[0]!);
          batch.forEach((i, k) => (out[i] = [orderedLogits(rows[k]!, resolved!.labels)]));
        } catch (err) {
          throw new ServerFailure({ type: 'model_error', message: (err as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, batches.length) }, worker));
    return out;
  }

  function resolveLabels(row: ServerRow): { labels: string[]; variant: PromptGuardVariant } {
    const labels = labelOrder(row, options.labels);
    return { labels, variant: detectVariant(labels, `the ${options.backend} server's labels`) };
  }

  async function check(request: GuardRequest): Promise<Verdict> {
    const started = performance.now();
    const elapsed = () => performance.now() - started;
    const budget = { baseMs: options.timeoutMs ?? 5000, per1kTokensMs: options.timeoutPer1kTokensMs, maxMs: options.maxTimeoutMs };
    const timeoutMs = timeoutFor(budget, textsChars(request.texts));
    const hits: CacheHits = { texts: 0, segments: 0 };
    const scope = `${namespace}\u0000${request.cacheScope ?? ''}`;
    try {
      return await withDeadline(timeoutMs, request.signal, async (signal) => {
        const { items, findings } = await prepareTexts(request.texts ?? [], signal);
        interface Plan {
          path: string;
          third: boolean;
          key?: string;
          cached?: TextResult;
          spans: CharSpan[];
          views: (CharSpan | undefined)[];
          rowKeys: string[];
        }
        const plans: Plan[] = [];
        const missing = new Map<string, string>();
        // Scores of cached segments, taken now: the LRU may evict them before the scoring below.
        const known = new Map<string, number[][]>();
        let rows = 0;
        /** Takes a text's result from the cache when it is there (true). */
        const fromCache = (path: string, third: boolean, key: string | undefined): boolean => {
          const cached = key === undefined ? undefined : textCache.get(key);
          if (!cached) return false;
          counters.cacheHits++;
          // A text the whitespace fix leaves alone has nothing of its own to report.
          if (cached === UNCHANGED_BY_FIX) return true;
          hits.texts++;
          hits.segments += cached.segments + cached.windows;
          plans.push({ path, third, cached, spans: [], views: [], rowKeys: [] });
          return true;
        };
        /** Plans a text's segments and windows for scoring (the result goes to the cache under `key`). */
        const planScoring = (path: string, third: boolean, text: string, key: string | undefined): void => {
          counters.cacheMisses++;
          const segments = charSegments(text);
          const windows = windowTokens > 0 ? charWindows(text, windowTokens) : [];
          const spans = [...segments, ...windows];
          rows += spans.length;
          if (rows > maxSegments) throw new InputRefused(`the texts need more than ${maxSegments} segments and windows; raise maxSegments or lower the request size limit`);
          const rowKeys = spans.map((s) => {
            const segment = text.slice(s.start, s.end);
            const rowKey = textCacheKey(scope, 'segment', segment);
            const cachedRow = known.get(rowKey) ?? rowCache.get(rowKey);
            if (cachedRow) {
              known.set(rowKey, cachedRow);
              hits.segments++;
            } else missing.set(rowKey, segment);
            return rowKey;
          });
          plans.push({ path, third, key, spans, views: [...segments.map(() => undefined), ...windows], rowKeys });
        };
        for (const item of items) {
          await pause(signal);
          const third = request.score === 'injection' || isThirdPartySource(item.source);
          const kind = third ? 'injection' : 'jailbreak';
          const cacheable = textCache.capacity > 0;
          const key = cacheable ? await textCacheKeyAsync(scope, kind, item.text, signal) : undefined;
          if (!fromCache(item.path, third, key)) planScoring(item.path, third, item.text, key);
          if (!tokenizer) continue;
          // Meta's whitespace-attack fix: the fixed text's result is kept under the original text
          // (it depends on nothing else), so a cached text is not tokenized again.
          const fixedPath = `${item.path}#whitespace`;
          const fixedKey = cacheable ? await textCacheKeyAsync(scope, `${kind}|whitespace`, item.text, signal) : undefined;
          if (fromCache(fixedPath, third, fixedKey)) continue;
          const fixed = await removeTokenSplittingSpaces(tokenizer, item.text, { signal });
          if (fixed !== item.text) planScoring(fixedPath, third, fixed, fixedKey);
          else if (fixedKey !== undefined) textCache.set(fixedKey, UNCHANGED_BY_FIX);
        }
        if (missing.size > 0) {
          const keys = [...missing.keys()];
          // After half its budget another replica is asked too: one that never answers leaves time for it (endpointPool.ts).
          // A batch's budget is what a check of its texts alone would get: with half the whole check's
          // as each batch's delay, a long input's first batches at a hung replica cost half of minutes.
          const scored = await scoreSegments([...missing.values()], signal, (batch) => batchHedgeMs(budget, timeoutMs, batch));
          keys.forEach((k, i) => {
            known.set(k, scored[i]!);
            rowCache.set(k, scored[i]!);
          });
        }
        const variant = resolved?.variant;
        const results = plans.map((plan) => {
          if (plan.cached) return { ...plan.cached, path: plan.path };
          if (!variant) return { score: 0, label: 'BENIGN', segments: 0, windows: 0, path: plan.path };
          const kind: ScoreKind = variant.version === 2 ? 'malicious' : plan.third ? 'injection' : 'jailbreak';
          const scores = plan.rowKeys.map((k) => {
            const vectors = known.get(k)!;
            return Math.max(0, ...vectors.map((v) => scoreFromProbabilities(variant, kind, softmax(v, temperature))));
          });
          const worst = worstView(scores, plan.views);
          const result: TextResult = { score: worst.score, label: labelFor(kind, worst.score), ...countViews(plan.views), ...(worst.span ? { span: worst.span } : {}) };
          if (plan.key !== undefined) textCache.set(plan.key, result);
          return { ...result, path: plan.path };
        });
        const verdict = worstTextVerdict({ name: options.name, model }, results, 'BENIGN', findings, elapsed(), pickWorst(results));
        return textCache.capacity > 0 ? { ...verdict, cacheHits: hits } : verdict;
      });
    } catch (err) {
      const error = err instanceof ServerFailure ? err.guardError : toGuardError(err);
      return errorVerdict(options.name, model, error, elapsed());
    }
  }

  return {
    name: options.name,
    model,
    get version() {
      return resolved?.variant.version;
    },
    async load(): Promise<void> {
      // The server holds the model. Start-up must not wait for it; an unreachable server shows up
      // as `unavailable` verdicts (and /readyz) instead. Only the tokenizer, when named, is read here.
      if (options.tokenizerDir && !tokenizer) tokenizer = loadTokenizer(options.tokenizerDir);
      servers.start();
    },
    check,
    stats() {
      return { ...counters };
    },
    describeRuntime() {
      // Said at every start: without the served model's tokenizer, spaced-out attacks ("i g n o r e") are scored as sent.
      const whitespace = options.tokenizerDir ? "Meta's whitespace-attack fix on" : "WITHOUT Meta's whitespace-attack fix (set `tokenizer:` to the served model's tokenizer folder; the local backend applies it)";
      return `${options.backend} ${path} at ${urls.map(redactUrl).join(', ')}${urls.length > 1 ? ' (round-robin over healthy servers, failover)' : ''}; segments cut by characters, ${maxBatch} per request; ${whitespace}`;
    },
    async close(): Promise<void> {
      servers.close();
      textCache.clear();
      rowCache.clear();
      await dispatcher.close();
    },
  };
}

/** When a batch's try gets company (a hedge): after half the budget a check of the batch's texts alone would have, never later than half the whole check's. */
export function batchHedgeMs(budget: TimeoutBudget, checkTimeoutMs: number, batch: readonly string[]): number {
  let chars = 0;
  for (const text of batch) chars += text.length;
  return Math.min(checkTimeoutMs, timeoutFor(budget, chars)) / 2;
}

/** Two halves of a segment, each about two thirds of it, overlapping by the middle third (cut at whitespace where one is near). */
export function splitInTwo(text: string): string[] {
  const total = estimateTokens(text);
  let end = offsetAtTokens(text, (total * 2) / 3);
  let start = offsetAtTokens(text, total / 3);
  // A text too short to cut by the estimate (one dense character run): cut by characters.
  if (end <= 0 || end >= text.length || start <= 0 || start >= end) {
    end = Math.max(1, Math.ceil((text.length * 2) / 3));
    start = Math.floor(text.length / 3);
  }
  return [text.slice(0, end), text.slice(start)];
}

/** `http://tei:80/` -> `http://tei:80`; refuses what is not an http(s) URL. */
export function normalizeRootUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Prompt Guard remote backend needs the server's URL (e.g. http://tei:80), got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Prompt Guard remote backend: URL must be http(s), got ${url.protocol}`);
  return url.toString().replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}

/** A verdict holds no content: a server message that quotes what was sent is withheld. */
function withoutTexts(message: string, texts: readonly string[]): string {
  return quotesAny(message, texts) ? '(server message withheld: it quotes the request)' : message;
}

/** The served model's tokenizer, from a folder with its tokenizer.json (tokenizer_config.json when there). */
function loadTokenizer(dir: string): TextTokenizer {
  const read = (file: string): Record<string, unknown> | undefined => {
    const at = nodePath.join(dir, file);
    return existsSync(at) ? (JSON.parse(readFileSync(at, 'utf8')) as Record<string, unknown>) : undefined;
  };
  try {
    const json = read('tokenizer.json');
    if (!json) throw new Error('no tokenizer.json (the served model\'s tokenizer)');
    return new TextTokenizer(json, read('tokenizer_config.json') ?? {});
  } catch (err) {
    throw new Error(`tokenizer ${dir}: ${(err as Error).message} (it is for the whitespace-attack fix: remove \`tokenizer:\` from the guard to run without it)`);
  }
}

/** Kept for a text the whitespace-attack fix leaves as it is: nothing more to score for it. */
const UNCHANGED_BY_FIX: TextResult = Object.freeze({ score: 0, label: 'BENIGN', segments: 0, windows: 0 });

/** Pure: the window a server's too-long message names (TEI: "must have less than 512 tokens"; vLLM: "maximum context length is 512 tokens"), if any. */
export function statedLimit(message: string): { limit?: number } {
  const m = /(?:less than|maximum (?:context|model) length is|max_model_len(?: is|=| of)?)\s*(\d{1,7})\s*tokens?/i.exec(message);
  return m ? { limit: Number(m[1]) } : {};
}
