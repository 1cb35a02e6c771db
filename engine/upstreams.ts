import type { EngineSignal } from './abortEmitter';
import { CappedBody } from './cappedBody';
import { EngineClient, type Engine, type EngineClientOptions, type EngineResponse } from './client';
import { failureCause, type EngineError } from './errors';
import { failoverOrder, isRetryable } from './failover';
import { UpstreamHealth } from './health';

export interface UpstreamPoolOptions {
  /** Further upstreams tried after a retryable failure (so at most retries + 1 attempts). */
  retries: number;
  healthIntervalMs: number;
  /** EngineClientOptions.healthPath. */
  healthPath?: string;
  log?: (line: string) => void;
}

/** Health checks an upstream whose stream sent no headers in time sits out, whatever they say (30 s at the default 5 s interval). */
const TIMEOUT_HOLD_CHECKS = 6;

/**
 * Several replicas of one engine behind one Engine: requests go round-robin over the healthy
 * ones, a failure before the first byte moves on to the next (never after: by then the client may
 * hold part of an answer), and a periodic GET /models brings failed replicas back.
 */
export class UpstreamPool implements Engine {
  readonly options: EngineClientOptions;
  private readonly clients: EngineClient[];
  private readonly health: UpstreamHealth;
  /** Replicas that refused the gateway's key: their health check is made with the key (GET /models) until one passes. */
  private readonly keyRefused = new Set<number>();
  private turn = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    upstreams: EngineClientOptions[],
    private readonly settings: UpstreamPoolOptions,
  ) {
    if (upstreams.length === 0) throw new Error('an upstream pool needs at least one upstream');
    this.clients = upstreams.map((o) => new EngineClient(o));
    this.options = upstreams[0];
    const log = settings.log ?? (() => undefined);
    this.health = new UpstreamHealth(upstreams.length, (i, up, reason) => log(`engine upstream ${i + 1}/${upstreams.length} (${redactBase(upstreams[i].baseUrl)}) ${up ? 'up' : 'DOWN'}: ${reason}`));
  }

  /** Starts the periodic health checks (unref'd: they never keep the process alive). */
  start(): this {
    this.timer ??= setInterval(() => void this.checkAll(), this.settings.healthIntervalMs).unref();
    return this;
  }

  async checkAll(): Promise<void> {
    const timeout = Math.min(2000, this.settings.healthIntervalMs);
    await Promise.all(this.clients.map((_, i) => this.probe(i, timeout)));
  }

  /** One replica's health check, its state updated; a replica that refused the key is checked with it. */
  private async probe(index: number, timeoutMs: number): Promise<boolean> {
    const keyed = this.keyRefused.has(index);
    let ok = await this.clients[index].ping(timeoutMs, keyed);
    // Refused the key while an open check was on its way: that check says nothing of the key.
    if (!keyed && this.keyRefused.has(index)) ok = false;
    if (keyed && ok) this.keyRefused.delete(index);
    this.health.checked(index, ok);
    return ok;
  }

  isUp(index: number): boolean {
    return this.health.isUp(index);
  }

  /** Round-robin over the healthy upstreams (all of them when none is), as the guarded routes' first try. */
  nextUpstream(): EngineClientOptions {
    const [index] = failoverOrder(this.clients.length, (i) => this.health.isUp(i), this.turn++);
    return this.clients[index ?? 0].options;
  }

  upstreamFailed(upstream: EngineClientOptions, reason: string, keyRefused = false): void {
    const index = this.clients.findIndex((c) => c.options === upstream);
    if (index < 0) return;
    if (keyRefused) this.keyRefused.add(index);
    this.health.failed(index, reason);
  }

  post(path: string, body: unknown, signal?: EngineSignal): Promise<EngineResponse> {
    const streamed = (body as { stream?: unknown } | null)?.stream === true;
    return this.attempt((c, left) => c.post(path, body, signal, left), signal, streamed);
  }

  get(path: string, signal?: EngineSignal): Promise<EngineResponse> {
    return this.attempt((c, left) => c.get(path, signal, left), signal);
  }

  /** Ready when any upstream answers. */
  async ping(timeoutMs = 2000): Promise<boolean> {
    const results = await Promise.all(this.clients.map((_, i) => this.probe(i, timeoutMs)));
    return results.some(Boolean);
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
  }

  /**
   * Tries the upstreams in failover order under one total timeout: each attempt gets what is left
   * of it (a stream's first-byte timeout on one replica then a whole fresh total on the next
   * would let one request run past `total_timeout_ms`), and none starts once it is spent.
   */
  private async attempt(call: (client: EngineClient, totalMs: number) => Promise<EngineResponse>, signal?: EngineSignal, streamed = false): Promise<EngineResponse> {
    const order = failoverOrder(this.clients.length, (i) => this.health.isUp(i), this.turn++).slice(0, this.settings.retries + 1);
    const endsAt = performance.now() + this.options.totalTimeoutMs;
    let lastError: unknown;
    // An overloaded replica's answer, with its Retry-After: what the client is told if no replica answers (a refused connection after it says nothing of when to come back).
    let busy: EngineError | undefined;
    for (const [position, index] of order.entries()) {
      const left = Math.floor(endsAt - performance.now());
      // Too little left to be worth a replica (under a second, or its connect timeout): the failure
      // already seen is the answer, not a timeout on a fresh replica.
      if (lastError && left < Math.min(this.options.connectTimeoutMs, 1000)) break;
      try {
        const res = await call(this.clients[index], left);
        // A replica refusing the gateway's own key (a wrong or rotated engine.upstreams[].api_key)
        // started nothing: marked down (its health check, made with the same key, keeps it down) and
        // the next replica tried; the last one's refusal is the answer (a 502 about the key).
        if ((res.status === 401 || res.status === 403) && position < order.length - 1) {
          res.body.resume();
          this.upstreamFailed(this.clients[index].options, `HTTP ${res.status}: the engine refused the gateway's key`, true);
          continue;
        }
        // vLLM sends a stream's headers before it schedules the request: a replica that hangs after
        // them has still sent nothing anyone read, so the wait for its first chunk fails over too.
        if (streamed && res.status === 200 && res.body instanceof CappedBody) await res.body.firstChunk();
        return res;
      } catch (err) {
        // A stream's headers come as generation starts: none by its first-byte timeout, and the replica
        // may be hung behind a health route that still passes. (A whole answer's first-byte timeout can
        // be a long generation, which says nothing about the replica.)
        if (!signal?.aborted && streamed && (err as EngineError).failure === 'timeout' && (err as EngineError).stage === 'first_byte') {
          this.health.failed(index, failureCause(err as EngineError), this.settings.healthIntervalMs * TIMEOUT_HOLD_CHECKS);
        }
        if (signal?.aborted || !isRetryable(err, streamed)) throw err;
        // Overloaded (429) is busy, not broken: tried on another replica, not marked down.
        // The log line gets the cause in fixed words: the error's message can carry the engine's own text (newlines included).
        if ((err as EngineError).upstreamStatus !== 429) this.health.failed(index, failureCause(err as EngineError));
        if ((err as EngineError).retryAfterSeconds !== undefined) busy = err as EngineError;
        lastError = err;
      }
    }
    throw busy ?? lastError;
  }
}

/** Upstream URLs may carry credentials; logs get scheme, host and path only. */
function redactBase(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return '(invalid url)';
  }
}

export interface EngineSettings {
  upstreams: { url: string; apiKey?: string }[];
  connectTimeoutMs: number;
  firstByteTimeoutMs: number;
  idleTimeoutMs: number;
  totalTimeoutMs: number;
  /** Largest answer body read (EngineClientOptions.maxAnswerBytes). */
  maxAnswerBytes?: number;
  retries: number;
  healthIntervalMs: number;
  /** EngineClientOptions.healthPath. */
  healthPath?: string;
  log?: (line: string) => void;
}

/** One upstream: a plain client, exactly as before pools existed. Several: a health-checked pool. */
export function createEngine(settings: EngineSettings): Engine {
  const options = settings.upstreams.map((u) => ({
    baseUrl: u.url,
    apiKey: u.apiKey,
    connectTimeoutMs: settings.connectTimeoutMs,
    firstByteTimeoutMs: settings.firstByteTimeoutMs,
    idleTimeoutMs: settings.idleTimeoutMs,
    totalTimeoutMs: settings.totalTimeoutMs,
    maxAnswerBytes: settings.maxAnswerBytes,
    healthPath: settings.healthPath,
  }));
  if (options.length === 1) return new EngineClient(options[0]);
  return new UpstreamPool(options, { retries: settings.retries, healthIntervalMs: settings.healthIntervalMs, log: settings.log }).start();
}
