import { Readable } from 'node:stream';
import { context, propagation } from '@opentelemetry/api';
import { Agent, request, type Dispatcher } from 'undici';
import type { EngineSignal } from './abortEmitter';
import { CappedBody } from './cappedBody';
import { classifyEngineError, EngineError } from './errors';
import { RequestDeadline } from './requestDeadline';
import { StreamPace } from './streamPace';

export interface EngineClientOptions {
  /** OpenAI base URL including /v1, e.g. http://127.0.0.1:8000/v1 (as vLLM documents it). */
  baseUrl: string;
  apiKey?: string;
  connectTimeoutMs: number;
  /**
   * Time allowed until the answer begins: a whole answer's headers (vLLM sends them once it is
   * generated), a stream's first event (its headers come before the engine schedules it: StreamPace).
   */
  firstByteTimeoutMs: number;
  /** Longest silence allowed between body chunks. */
  idleTimeoutMs: number;
  /** Whole request, start to last byte. */
  totalTimeoutMs: number;
  /** Largest answer body read (streamed or not); past it the answer fails as a bad gateway (502). Default 16 MiB. */
  maxAnswerBytes?: number;
  /**
   * Path on the engine's origin that says whether it can generate (vLLM, SGLang and TGI: `/health`).
   * Unset: GET {baseUrl}/models, which vLLM's API server keeps answering while its engine hangs.
   */
  healthPath?: string;
}

export const DEFAULT_MAX_ANSWER_BYTES = 16 * 1024 * 1024;

export interface EngineResponse {
  status: number;
  contentType: string;
  body: Readable;
  /** The upstream that answered (with several, the one failover settled on): for the span's server.* attributes. */
  server?: { address: string; port: number };
}

/** What the gateway needs of an engine: one upstream (EngineClient) or several with failover (UpstreamPool). */
export interface Engine {
  /** The (first) upstream's settings. */
  readonly options: EngineClientOptions;
  /** The upstream a passthrough request goes to: with several, the next healthy one in turn. */
  nextUpstream(): EngineClientOptions;
  /**
   * A failure seen outside post/get (a passthrough request) on that upstream: with several, it is
   * marked down until a health check passes. `keyRefused`: it refused the gateway's key, so only a
   * check made with the key (GET /models) brings it back, never an open health route.
   */
  upstreamFailed(upstream: EngineClientOptions, reason: string, keyRefused?: boolean): void;
  post(path: string, body: unknown, signal?: EngineSignal): Promise<EngineResponse>;
  get(path: string, signal?: EngineSignal): Promise<EngineResponse>;
  ping(timeoutMs?: number): Promise<boolean>;
  close(): Promise<void>;
}

/** One OpenAI-compatible upstream (vLLM, SGLang, TGI, Ollama, llama.cpp server). */
export class EngineClient implements Engine {
  private readonly agent: Agent;
  private readonly base: string;
  private readonly server: { address: string; port: number };
  /** Per engine path, `${base}${path}` as undici's request(url) splits it (see dispatch()); null: a scheme undici refuses. */
  private readonly targets = new Map<string, { origin: string; path: string } | null>();

  nextUpstream(): EngineClientOptions {
    return this.options;
  }

  /** One upstream has no other to send traffic to: nothing to mark. */
  upstreamFailed(): void {}

  constructor(readonly options: EngineClientOptions) {
    this.base = options.baseUrl.replace(/\/+$/, '');
    const url = new URL(this.base);
    this.server = { address: url.hostname, port: Number(url.port) || (url.protocol === 'https:' ? 443 : 80) };
    this.agent = new Agent({
      connect: { timeout: options.connectTimeoutMs },
      headersTimeout: options.firstByteTimeoutMs,
      bodyTimeout: options.idleTimeoutMs,
      keepAliveTimeout: 10_000,
    });
  }

  /**
   * POSTs a JSON body to `<base><path>`. Resolves once headers arrive; the caller consumes `body`
   * (a Readable with backpressure). Engine 5xx and network failures reject with EngineError;
   * 4xx answers resolve so their OpenAI-shaped bodies can reach the client.
   */
  async post(path: string, body: unknown, signal?: EngineSignal, totalMs?: number): Promise<EngineResponse> {
    return this.send('POST', path, JSON.stringify(body), signal, totalMs, (body as { stream?: unknown } | null)?.stream === true);
  }

  async get(path: string, signal?: EngineSignal, totalMs?: number): Promise<EngineResponse> {
    return this.send('GET', path, undefined, signal, totalMs);
  }

  /**
   * True when the health path (default GET /models) answers 200 within `timeoutMs`. `keyed`: GET
   * /models whatever the health path (vLLM's /health is open to any caller, so it says nothing of the key).
   */
  async ping(timeoutMs = 2000, keyed = false): Promise<boolean> {
    try {
      const path = this.options.healthPath && !keyed ? `${healthPrefix(this.base)}${this.options.healthPath}` : '/models';
      const res = await this.send('GET', path, undefined, AbortSignal.timeout(timeoutMs));
      res.body.resume();
      return res.status === 200;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  /**
   * `totalMs`: what is left of the call's total timeout (a failover attempt gets the rest of it, not a fresh one).
   * `streamed`: the first-byte timeout runs until the stream's first chunk, not its headers (StreamPace).
   */
  private async send(method: 'GET' | 'POST', path: string, payload: string | undefined, signal?: EngineSignal, totalMs = this.options.totalTimeoutMs, streamed = false): Promise<EngineResponse> {
    const startedAt = performance.now();
    const deadline = new RequestDeadline(totalMs, signal);
    const headers: Record<string, string> = { accept: 'application/json, text/event-stream' };
    if (payload !== undefined) headers['content-type'] = 'application/json';
    if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
    // W3C trace context (traceparent, tracestate) of the active span, so the engine's own spans join
    // the request's trace; a no-op when OpenTelemetry is not set up.
    propagation.inject(context.active(), headers);
    let res;
    try {
      res = await this.dispatch(method, path, headers, payload, deadline, streamed);
    } catch (err) {
      deadline.done();
      if (deadline.timedOut) throw new EngineError('timeout', 'the engine did not answer in time (total timeout)', undefined, 'total');
      throw classifyEngineError(err, 'request');
    }
    const contentType = String(res.headers['content-type'] ?? '');
    if (res.statusCode === 429 || res.statusCode >= 500) {
      // A stream's error body is read under the idle timeout: undici's body timeout is off for
      // streams (StreamPace times an answer, and there is none here), and a stalled error body held
      // the request, and its failover, until the total timeout.
      const stall = streamed ? setTimeout(() => res.body.destroy(), this.options.idleTimeoutMs) : undefined;
      stall?.unref();
      try {
        return await this.failed(res, deadline);
      } finally {
        clearTimeout(stall);
      }
    }
    // The total timeout runs until the body is over: read to its end, failed, or destroyed.
    res.body.once('close', deadline.done);
    // Surface total-timeout aborts during the body as timeouts, not as generic aborts.
    res.body.on('error', () => undefined);
    const body = capped(res.body, this.options.maxAnswerBytes ?? DEFAULT_MAX_ANSWER_BYTES);
    if (streamed) body.keepPace(new StreamPace(this.options.firstByteTimeoutMs - (performance.now() - startedAt), this.options.idleTimeoutMs, (err) => body.destroy(err)), path === '/responses' ? beginsResponse : undefined);
    return { status: res.statusCode, contentType, body, server: this.server };
  }

  /** An engine 429 or 5xx as the EngineError it is (nothing was generated), its error body read first. */
  private async failed(res: Dispatcher.ResponseData, deadline: RequestDeadline): Promise<never> {
    if (res.statusCode === 429) {
      // Overloaded (TGI's full queue): nothing was generated, so another replica may take it.
      await res.body.dump().catch(() => undefined);
      deadline.done();
      throw new EngineError('unreachable', 'the engine is overloaded (HTTP 429)', 429, undefined, retryAfterSeconds(res.headers['retry-after']));
    }
    if (res.statusCode === 503) {
      // Unavailable (vLLM while its engine is down or starting, a proxy with no backend): nothing
      // was generated; the client is told 503 engine_unavailable, with the engine's Retry-After.
      const text = await readErrorHead(res.body);
      deadline.done();
      throw new EngineError('unreachable', `the engine is unavailable (HTTP 503)${summarizeUpstream(text)}`, 503, undefined, retryAfterSeconds(res.headers['retry-after']));
    }
    if (res.statusCode >= 500) {
      const text = await readErrorHead(res.body);
      deadline.done();
      throw new EngineError('bad_gateway', `the engine answered ${res.statusCode}${summarizeUpstream(text)}`, res.statusCode);
    }
    throw new Error('failed() takes a 429 or 5xx');
  }

  /**
   * undici's request to `${base}${path}`, made on the agent with the origin and path that
   * request(url) would split the URL into, found once per path (the gateway's own few): the
   * top-level request(url) parses the URL and copies the options on every call. A scheme undici
   * refuses goes through request(url), which throws its own error as before.
   */
  private dispatch(method: 'GET' | 'POST', path: string, headers: Record<string, string>, body: string | undefined, signal: RequestDeadline, streamed: boolean): Promise<Dispatcher.ResponseData> {
    let target = this.targets.get(path);
    if (target === undefined) {
      const url = new URL(`${this.base}${path}`);
      target = /^https?:$/.test(url.protocol) ? { origin: url.origin, path: url.search ? `${url.pathname}${url.search}` : url.pathname } : null;
      if (this.targets.size < 64) this.targets.set(path, target);
    }
    // A stream's silences are timed by StreamPace (its first chunk may take the whole first-byte timeout).
    const bodyTimeout = streamed ? 0 : undefined;
    if (target === null) return request(`${this.base}${path}`, { method, headers, body, signal, dispatcher: this.agent, bodyTimeout });
    return this.agent.request({ origin: target.origin, path: target.path, method, headers, body, signal, bodyTimeout });
  }
}

/**
 * What turns an origin path into a path under `base` (which ends in `/v1` or the like): `..`
 * segments up to the origin, so `${base}${prefix}/health` is `{origin}/health`.
 */
function healthPrefix(base: string): string {
  const depth = new URL(base).pathname.split('/').filter(Boolean).length;
  return '/..'.repeat(depth);
}

/**
 * Whether a Responses stream's chunk holds an event past its opening ones: vLLM sends
 * `response.created` and `response.in_progress` before it schedules the request, so those say
 * nothing of queueing and prefill. Read by data line, not by any `"type"` (the opening events'
 * response object holds nested ones, and vLLM writes the event's own type last); a line split
 * across chunks may count early, which only gives that stream the idle timeout as before.
 */
export function beginsResponse(chunk: Buffer): boolean {
  for (const line of chunk.toString('latin1').split('\n')) {
    if (line.startsWith('data:') && !line.includes('"response.created"') && !line.includes('"response.in_progress"')) return true;
  }
  return false;
}

/** The body under the answer cap; consumers see its error where they read. */
function capped(body: Readable, max: number): CappedBody {
  const stream = new CappedBody(body, max);
  // An unread body must not crash the process with its error.
  stream.on('error', () => undefined);
  return stream;
}

/** What an engine's error body can say fits in its first 64 KiB: read that much, then drop the rest (an engine can stream any amount). */
const ERROR_BODY_BYTES = 64 * 1024;

async function readErrorHead(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk as Buffer);
      size += (chunk as Buffer).length;
      if (size >= ERROR_BODY_BYTES) break; // leaving the loop destroys the body
    }
  } catch {
    /* a broken error body still gets its status reported */
  }
  return Buffer.concat(chunks).subarray(0, ERROR_BODY_BYTES).toString('utf8');
}

/** The engine's own error message, kept short, for operators; never includes our request content. */
function summarizeUpstream(text: string): string {
  try {
    const parsed = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof parsed.error === 'string' ? parsed.error : (parsed.error?.message ?? parsed.message);
    if (typeof message === 'string' && message) return `: ${message.slice(0, 200)}`;
  } catch {
    /* not JSON */
  }
  return '';
}

/** A `Retry-After` in seconds (a date, as HTTP also allows, is counted from now); undefined when absent or unreadable. */
export function retryAfterSeconds(header: string | string[] | undefined, now = Date.now()): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  const seconds = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Math.ceil((Date.parse(value) - now) / 1000);
  return Number.isFinite(seconds) && seconds >= 0 ? Math.min(seconds, 3600) : undefined;
}
