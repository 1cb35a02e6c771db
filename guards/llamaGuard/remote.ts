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
import type { Guard, GuardRequest, Verdict } from '../types';
import { hasCustomCategories } from './categories';
import { type GuardCompletion, readChatCompletion, readErrorBody, readTextCompletion, type ReadResult } from './openaiResponse';
import { DEFAULT_MAX_NEW_TOKENS, DEFAULT_TIMEOUT_MS, type LlamaGuardRemoteOptions, type RemoteMode } from './options';
import { parseAssessment } from './parse';
import { promptBosPrefix, renderPrompt } from './prompt';
import { type CheckOutcome, errorMessage, runCheck } from './run';
import { unsafeProbabilityFromTop } from './score';
import type { GuardRole, GuardTurn } from './turns';

/** How many alternatives to ask for at each position: enough to usually hold both `safe` and `unsafe`. */
const TOP_LOGPROBS = 5;
/** Longest server error text kept in a verdict (server messages carry no conversation text, but can be long). */
const MAX_ERROR_CHARS = 300;

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
  options: LlamaGuardRemoteOptions,
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

export function createLlamaGuardRemote(options: LlamaGuardRemoteOptions): Guard {
  const mode = resolveMode(options);
  const baseUrl = normalizeBaseUrl(options.baseUrl);
  const dispatcher = new Agent({ keepAliveTimeout: 30_000 });
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
  if (options.apiKey) headers.authorization = `Bearer ${options.apiKey}`;
  const ctx = {
    guard: options.name,
    model: options.model,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    system: options.systemTurns ?? 'as_user',
  };

  async function call(turns: GuardTurn[], role: GuardRole, signal: AbortSignal): Promise<CheckOutcome> {
    const { path, body } = buildRemoteCall(options, mode, turns, role);
    let status: number;
    let text: string;
    try {
      // W3C trace context of the active (guard) span, so the guard server's spans join the request's trace.
      const traced = { ...headers };
      propagation.inject(context.active(), traced);
      const res = await httpRequest(baseUrl + path, { method: 'POST', headers: traced, body: JSON.stringify(body), signal, dispatcher });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      if (signal.aborted) throw err; // runCheck reports the deadline or the caller's abort
      return { kind: 'error', error: { type: 'unavailable', message: `${baseUrl}${path}: ${errorMessage(err)}` } };
    }
    const json = parseJson(text);
    const serverMessage = readErrorBody(json);
    if (status < 200 || status >= 300 || serverMessage !== undefined) {
      const detail = withoutConversation(clip(serverMessage ?? (text || 'empty body')), turns);
      const type = status >= 200 && status < 300 ? 'model_error' : httpErrorType(status);
      return { kind: 'error', error: { type, message: `${path} HTTP ${status}: ${detail}` } };
    }
    const read: ReadResult =
      json === undefined
        ? { ok: false, error: 'response is not JSON' }
        : mode === 'chat'
          ? readChatCompletion(json)
          : readTextCompletion(json);
    if (!read.ok) return { kind: 'error', error: { type: 'model_error', message: read.error } };
    return outcomeOf(read.completion, options.excludedCategories);
  }

  return {
    name: options.name,
    model: options.model,
    async load(): Promise<void> {
      // Nothing to load: the server holds the model. Startup must not depend on the guard server
      // being up already; an unreachable server shows up as `unavailable` verdicts instead.
    },
    check(request: GuardRequest): Promise<Verdict> {
      return runCheck(ctx, request, call);
    },
    async close(): Promise<void> {
      await dispatcher.close();
    },
  };
}

/** Parses the answer; scores it from logprobs when the server sent usable ones, else from the label. */
export function outcomeOf(completion: GuardCompletion, excluded: readonly string[] | undefined): CheckOutcome {
  const pUnsafe = completion.decisionTop ? unsafeProbabilityFromTop(completion.decisionTop) : undefined;
  if (completion.truncated) {
    // A cut-off category list would read as a valid, wrong one (`unsafe\nS1,S` -> S1 and S).
    return { kind: 'assessed', assessment: { ok: false, error: 'answer cut off at max_tokens' }, pUnsafe };
  }
  const assessment = parseAssessment(completion.text, excluded);
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
  const quotes = turns.some((t) => {
    const probe = t.text.slice(0, 24);
    return probe.length >= 8 && (message.includes(probe) || message.includes(JSON.stringify(probe).slice(1, -1)));
  });
  return quotes ? '(server message withheld: it quotes the conversation)' : message;
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS)}...` : text;
}
