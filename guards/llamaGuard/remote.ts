/**
 * Llama Guard 3 served by an OpenAI-compatible server (vLLM `meta-llama/Llama-Guard-3-8B`, Ollama
 * `llama-guard3:8b`, TGI, llama.cpp).
 *
 * `chat` mode sends the normalized conversation as messages and lets the server apply the model's
 * own template: right for the default categories. `completions` mode sends the prompt we render, so
 * custom categories and exclusions reach the model (the 8B template cannot take them at all). It
 * needs a server that passes the prompt through untemplated (vLLM, TGI, llama.cpp; not Ollama's
 * /v1/completions, which applies the model template).
 */
import { context, propagation } from '@opentelemetry/api';
import { Agent, request as httpRequest } from 'undici';
import { textCacheKey } from '../runtime/cacheKey';
import { type AttemptResult, EndpointPool, isRetryableStatus, statusMaybeTheCall } from '../runtime/endpointPool';
import { LruCache } from '../runtime/lruCache';
import { conversationChars, timeoutFor } from '../runtime/timeoutBudget';
import type { CacheHits, Guard, GuardRequest, Verdict } from '../types';
import { hasCustomCategories, knownCategoryCodes, promptCategories } from './categories';
import { type GuardCompletion, readChatCompletion, readErrorBody, readTextCompletion, type ReadResult } from './openaiResponse';
import { DEFAULT_MAX_NEW_TOKENS, DEFAULT_TIMEOUT_MS, type LlamaGuardRemoteOptions, type RemoteMode } from './options';
import { parseAssessment } from './parse';
import { promptBosPrefix, renderPrompt } from './prompt';
import { extraReadingChars } from './readApart';
import { type CheckOutcome, errorMessage, runCheck } from './run';
import { unsafeProbabilityFromTop } from './score';
import type { GuardRole, GuardTurn } from './turns';
import { AnswerTooLarge, readCappedText } from '../runtime/cappedText';
import { redactUrl } from '../runtime/redactUrl';
import { quotesAny } from '../runtime/quotedText';

/** How many alternatives to ask for at each position: enough to usually hold both `safe` and `unsafe`. */
const TOP_LOGPROBS = 5;
/** Longest server error text kept in a verdict (server messages carry no conversation text, but can be long). */
const MAX_ERROR_CHARS = 300;
/** A verdict is a few tokens with their logprobs: a megabyte is far past any real answer. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/** Picks the mode: `completions` whenever the prompt differs from the server's own template. */
export function resolveMode(options: Pick<LlamaGuardRemoteOptions, 'mode' | 'categories' | 'excludedCategories'>): RemoteMode {
  const custom = hasCustomCategories(options.categories, options.excludedCategories);
  if (options.mode === 'chat' && custom) {
    throw new Error(
      "Llama Guard remote backend: mode 'chat' cannot carry custom categories or exclusions (the server applies " +
        "its own template); use mode 'completions' or leave mode unset",
    );
  }
  return options.mode ?? (custom ? 'completions' : 'chat');
}

export interface RemoteCall {
  path: '/chat/completions' | '/completions';
  body: Record<string, unknown>;
}

/** The request body for one check: pure, so its exact shape is tested directly. */
export function buildRemoteCall(
  options: Omit<LlamaGuardRemoteOptions, 'baseUrl'>,
  mode: RemoteMode,
  turns: readonly GuardTurn[],
  role: GuardRole,
): RemoteCall {
  const logprobs = options.logprobs ?? true;
  const common = { model: options.model, max_tokens: options.maxTokens ?? DEFAULT_MAX_NEW_TOKENS, temperature: 0, stream: false };
  if (mode === 'chat') {
    const messages = turns.map((t) => ({ role: t.role === 'User' ? 'user' : 'assistant', content: t.text }));
    return {
      path: '/chat/completions',
      body: { ...common, messages, ...(logprobs ? { logprobs: true, top_logprobs: TOP_LOGPROBS } : {}) },
    };
  }
  let prompt = renderPrompt({
    variant: options.variant,
    role,
    turns,
    categories: options.categories,
    excludedCategories: options.excludedCategories,
  });
  const bos = promptBosPrefix(options.variant);
  if (options.serverAddsBos) prompt = prompt.slice(bos.length);
  return {
    path: '/completions',
    body: {
      ...common,
      prompt,
      ...(logprobs ? { logprobs: TOP_LOGPROBS } : {}),
      // vLLM would otherwise tokenize with a second BOS in front of ours.
      ...(options.serverAddsBos ? {} : { add_special_tokens: false }),
    },
  };
}

/** Maps an HTTP failure to the guard error type the policy's on_error sees. */
export function httpErrorType(status: number): 'unavailable' | 'model_error' {
  return status === 408 || status === 429 || status >= 500 ? 'unavailable' : 'model_error';
}

/**
 * The remote backend's options as the gateway gives them: one server or several replicas of it
 * (health-checked, failover: runtime/endpointPool.ts), a verdict cache, and a budget that grows
 * with the conversation.
 */
export interface LlamaGuardRemotePoolOptions extends Omit<LlamaGuardRemoteOptions, 'baseUrl'> {
  /** One base URL including `/v1`, or several replicas of the same model. */
  baseUrl: string | readonly string[];
  /** Added to timeoutMs per 1,000 tokens of conversation (characters / 4; runtime/timeoutBudget.ts); default 0. */
  timeoutPer1kTokensMs?: number;
  /** Cap on the grown budget; default none. */
  maxTimeoutMs?: number;
  /** Verdicts kept per exact request (LRU), within GuardRequest.cacheScope; default 0 (none; the gateway keeps 1024). */
  cacheSize?: number;
  /** Health checks of several replicas (GET {base}/models); default 5000 ms. */
  healthIntervalMs?: number;
  /** Told when a replica goes down or comes back (the gateway logs it). */
  log?: (line: string) => void;
}

export function createLlamaGuardRemote(options: LlamaGuardRemotePoolOptions): Guard {
  const mode = resolveMode(options);
  const baseUrls = (typeof options.baseUrl === 'string' ? [options.baseUrl] : [...options.baseUrl]).map(normalizeBaseUrl);
  if (baseUrls.length === 0) throw new Error('Llama Guard remote backend needs at least one base URL');
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const servers = new EndpointPool({
    urls: baseUrls,
    healthUrl: (base) => `${base}/models`,
    headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : undefined,
    dispatcher,
    healthIntervalMs: options.healthIntervalMs,
    onChange: (url, up, reason) => options.log?.(`guard ${options.name}: server ${redactUrl(url)} ${up ? 'up' : 'DOWN'}: ${reason}`),
  });
  // The same prepared conversation sent again (a retried request, an answer checked twice) is
  // answered from here; keyed by the exact request body, the model and the policy version.
  const cache = new LruCache<string, CheckOutcome>(options.cacheSize ?? 0);
  const ctx = {
    guard: options.name,
    model: options.model,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    system: options.systemTurns ?? 'as_user',
  };

  const knownCodes = knownCategoryCodes(options.variant, options.categories);
  const codeKeys = promptCategories(options.variant, options.categories, options.excludedCategories).keyOf;

  async function post(base: string, path: string, payload: string, turns: readonly GuardTurn[], signal: AbortSignal): Promise<AttemptResult<CheckOutcome>> {
    let status: number;
    let text: string;
    try {
      // W3C trace context of the active (guard) span, so the guard server's spans join the request's trace.
      const traced = { ...headers };
      propagation.inject(context.active(), traced);
      const res = await httpRequest(base + path, { method: 'POST', headers: traced, body: payload, signal, dispatcher });
      status = res.statusCode;
      text = await readCappedText(res.body, MAX_ANSWER_BYTES);
    } catch (err) {
      // An answer the gateway cannot read (too large, an error object in a 200, not JSON, the wrong shape) is this replica's fault, not the conversation's: the next one is asked.
      if (err instanceof AnswerTooLarge) return { ok: false, retryable: true, maybeTheCall: true, error: { type: 'model_error', message: `${redactUrl(base)}${path}: ${err.message}` } };
      if (signal.aborted) throw err; // runCheck reports the deadline or the caller's abort
      return { ok: false, retryable: true, error: { type: 'unavailable', message: `${redactUrl(base)}${path}: ${errorMessage(err)}` } };
    }
    const json = parseJson(text);
    const serverMessage = readErrorBody(json);
    if (status < 200 || status >= 300 || serverMessage !== undefined) {
      const detail = withoutConversation(clip(serverMessage ?? (text || 'empty body')), turns);
      const type = status >= 200 && status < 300 ? 'model_error' : httpErrorType(status);
      const answered = status >= 200 && status < 300;
      return { ok: false, retryable: answered || isRetryableStatus(status), busy: status === 429, maybeTheCall: answered || statusMaybeTheCall(status), error: { type, message: `${path} HTTP ${status}: ${detail}` } };
    }
    const read: ReadResult =
      json === undefined
        ? { ok: false, error: 'response is not JSON' }
        : mode === 'chat'
          ? readChatCompletion(json)
          : readTextCompletion(json);
    if (!read.ok) return { ok: false, retryable: true, maybeTheCall: true, error: { type: 'model_error', message: read.error } };
    return { ok: true, value: outcomeOf(read.completion, options.excludedCategories, knownCodes, codeKeys) };
  }

  async function call(turns: GuardTurn[], role: GuardRole, signal: AbortSignal, scope: string | undefined, hits: CacheHits, tryTimeoutMs: number): Promise<CheckOutcome> {
    const { path, body } = buildRemoteCall(options, mode, turns, role);
    const payload = JSON.stringify(body);
    const key = cache.capacity > 0 ? textCacheKey(`${options.model}\u0000${scope ?? ''}`, path, payload) : undefined;
    const cached = key === undefined ? undefined : cache.get(key);
    if (cached) {
      hits.texts += 1;
      return cached;
    }
    const result = await servers.run((base, trySignal) => post(base, path, payload, turns, trySignal), signal, tryTimeoutMs);
    if (!result.ok) return { kind: 'error', error: result.error };
    // Only readable answers: an unreadable one is an error verdict, and the next check should ask again.
    if (key !== undefined && result.value.kind === 'assessed' && result.value.assessment.ok) cache.set(key, result.value);
    return result.value;
  }

  return {
    name: options.name,
    model: options.model,
    async load(): Promise<void> {
      // Nothing to load: the server holds the model. Startup must not depend on the guard server
      // being up already; an unreachable server shows up as `unavailable` verdicts instead.
      servers.start();
    },
    async check(request: GuardRequest): Promise<Verdict> {
      const hits: CacheHits = { texts: 0, segments: 0 };
      const timeoutMs = timeoutFor({ baseMs: ctx.timeoutMs, per1kTokensMs: options.timeoutPer1kTokensMs, maxMs: options.maxTimeoutMs }, conversationChars(request.conversation) + extraReadingChars(request.conversation ?? [], request.direction));
      const verdict = await runCheck({ ...ctx, timeoutMs }, request, (turns, role, signal) => call(turns, role, signal, request.cacheScope, hits, timeoutMs / 2));
      return cache.capacity > 0 && !verdict.error ? { ...verdict, cacheHits: hits } : verdict;
    },
    describeRuntime(): string {
      return `${mode} API at ${baseUrls.map(redactUrl).join(', ')}${baseUrls.length > 1 ? ' (round-robin over healthy servers, failover)' : ''}`;
    },
    async close(): Promise<void> {
      servers.close();
      cache.clear();
      await dispatcher.close();
    },
  };
}

/** Parses the answer; scores it from logprobs when the server sent usable ones, else from the label. */
export function outcomeOf(completion: GuardCompletion, excluded: readonly string[] | undefined, known?: ReadonlySet<string>, keyOf?: ReadonlyMap<string, string>): CheckOutcome {
  const pUnsafe = completion.decisionTop ? unsafeProbabilityFromTop(completion.decisionTop) : undefined;
  if (completion.truncated) {
    // A cut-off category list would read as a valid, wrong one (`unsafe\nS1,S` -> S1 and S).
    return { kind: 'assessed', assessment: { ok: false, error: 'answer cut off at max_tokens' }, pUnsafe };
  }
  const assessment = parseAssessment(completion.text, excluded, known, keyOf);
  return { kind: 'assessed', assessment, pUnsafe };
}

/** `http://host:8000/v1/` -> `http://host:8000/v1`; refuses what is not an http(s) URL. */
export function normalizeBaseUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`Llama Guard remote backend needs a base URL including /v1 (e.g. http://vllm:8000/v1), got ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`Llama Guard remote backend: base URL must be http(s), got ${url.protocol}`);
  return url.toString().replace(/\/+$/, '');
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/**
 * A verdict holds no content, and some servers quote the request in their validation errors
 * (pydantic's `input` field): such a message is withheld rather than recorded.
 */
export function withoutConversation(message: string, turns: readonly GuardTurn[]): string {
  return quotesAny(message, turns.map((t) => t.text)) ? '(server message withheld: it quotes the conversation)' : message;
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
