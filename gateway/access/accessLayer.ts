import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeHandler } from '../routes/handlerChain';
import type Redis from 'ioredis';
import { authenticate } from './auth/authenticate';
import { clientAddressResolver } from './clientAddress';
import { KeyStore } from './auth/keyStore';
import { openAccessProblem } from './auth/loopback';
import type { GatewayConfig } from '../config';
import { bodyShapeError, textCountError } from './hardening/bodyShape';
import { jsonDepthVerifier } from './hardening/jsonDepth';
import { stalledWriteWatchdog } from './hardening/stalledWrites';
import { ConcurrencySlots } from './rateLimit/concurrencySlots';
import { LimiterStore } from './rateLimit/limiterStore';
import { createRedisClient, redactRedisUrl } from './rateLimit/redisClient';
import { RedisBreaker } from './rateLimit/redisBreaker';
import { storeErrorLog } from './rateLimit/storeErrorLog';
import { requestLimits } from './rateLimit/requestLimits';
import { settleTokens, tokenLimits } from './rateLimit/tokenLimits';
import type { RequestContext } from '../pipeline/requestContext';
import type { RequestRecord } from '../record/requestRecord';
import type { ValidatedRequest } from '../pipeline/requestSchemas';
import { preloadTokenizer } from './tokens/llama3Tokens';
import { chatPromptShape, completionPromptShape, responsesPromptShape, type PromptShape } from './tokens/promptTokens';

/** Everything between a connection and the guarded pipeline: keys, rate limits, hostile-input limits. */
export interface AccessLayer {
  /** express `trust proxy` (client addresses behind a load balancer). */
  trustProxy: boolean | number | string;
  keysEnabled: boolean;
  /** On /v1 before any body is read: slow-reader watchdog, authentication, request and concurrency limits. */
  beforeBody: NodeHandler[];
  /** The client's address under `trust_proxy` (as express's req.ip reads it). */
  clientOf(req: IncomingMessage): string | undefined;
  /** express.json `verify`: refuses too-deep JSON before it is parsed. */
  verifyJson: (req: IncomingMessage, res: ServerResponse, buf: Buffer) => void;
  /** On a guarded route once its body is validated: message/part counts, context length, token limits. Throws the 400 or 429. */
  admit(validated: ValidatedRequest, ctx: RequestContext, res: ServerResponse): Promise<void>;
  /** Once its texts are extracted: how many the guards would read (limits.texts). Throws the 400. */
  admitTexts(count: number): void;
  /** The pipeline's hook once a request's record is complete (token refunds from the engine's usage). */
  onFinished(record: RequestRecord, ctx: RequestContext): void;
  close(): Promise<void>;
  /** Policy id -> the apps whose keys are assigned it. */
  assignedPolicies(): Map<string, string[]>;
  /** Called after every successful reload of the keys file. */
  onKeysReload(listener: () => void): void;
}

export class StartupError extends Error {
  override name = 'StartupError';
}

/** Refuses an open gateway on a reachable address; called first thing at startup, before anything is loaded. */
export function assertListenAllowed(config: GatewayConfig): void {
  const problem = openAccessProblem(config.host, new KeyStore(config.keys).enabled);
  if (problem) throw new StartupError(problem);
}

/** Builds the layer (keys loaded and watched, Redis connected): called once the rest of the gateway loaded, so a failed start leaves nothing running. */
export function createAccessLayer(config: GatewayConfig, log: (line: string) => void): AccessLayer {
  assertListenAllowed(config);
  const keys = new KeyStore(config.keys, log);
  try {
    keys.load();
  } catch (err) {
    throw new StartupError(`cannot load API keys from ${config.keys.file}: ${(err as Error).message}`);
  }
  keys.watch();
  if (keys.enabled) log(`API keys: ${keys.size} active${config.keys.file ? ` (file ${config.keys.file}, changes apply without a restart)` : ''}`);
  else log(`no API keys configured: open access for anyone on this machine; listening on loopback (${config.host}) only`);

  let redis: Redis | undefined;
  const rl = config.rate_limits;
  if (rl.store === 'redis') {
    if (!rl.redis_url) throw new StartupError('rate_limits.store is redis but no Redis URL is set (rate_limits.redis_url or REDIS_URL)');
    redis = createRedisClient(rl.redis_url, log);
    log(`rate limits: shared in Redis at ${redactRedisUrl(rl.redis_url)} (in-memory insurance while it is unreachable)`);
  }
  // One breaker for every limit: once a Redis command fails, each answers from memory for a while
  // instead of each request waiting out one command timeout per limit.
  const breaker = new RedisBreaker(redis);
  const onStoreError = storeErrorLog(log);
  const store = new LimiterStore({
    redis,
    breaker,
    keyPrefix: rl.key_prefix,
    durations: { requests: 60, tokens: 60 },
    onStoreError,
  });
  const slots = new ConcurrencySlots({
    redis,
    breaker,
    keyPrefix: rl.key_prefix,
    // A slot is released when its response closes; its ttl only bounds how long a slot lost with
    // a crashed replica stays taken, so it must outlast the longest request.
    slotTtlMs: config.engine.total_timeout_ms + 60_000,
    onStoreError,
  });

  // Keys may carry token limits (and gain them on reload), so with keys the tokenizer is loaded up front.
  if (keys.enabled || rl.defaults.tokens_per_minute) preloadTokenizer();

  const limits = config.limits;
  const shapeLimits = { messages: limits.messages, content_parts: limits.content_parts };
  const tokens = tokenLimits({ store, limits, defaultMaxTokens: rl.default_max_tokens });
  const settle = settleTokens(store);
  const clientOf = clientAddressResolver(config.trust_proxy);

  return {
    trustProxy: config.trust_proxy,
    keysEnabled: keys.enabled,
    beforeBody: [stalledWriteWatchdog(limits.stalled_write_timeout_ms), authenticate(keys, rl.defaults, clientOf), requestLimits(store, slots)],
    clientOf,
    verifyJson: jsonDepthVerifier(limits.json_depth),
    async admit(validated, ctx, res) {
      // Every message and part costs guard time, so a request with a million tiny parts is refused before anything reads them.
      const tooMany = bodyShapeError(validated.request, shapeLimits);
      if (tooMany) throw tooMany;
      await tokens(ctx, res, promptShapeOf(validated), INPUT_PARAM[validated.kind]);
    },
    admitTexts(count) {
      // What the guards would read, counted where it is known: every string the extraction found.
      const tooMany = textCountError(count, limits.texts);
      if (tooMany) throw tooMany;
    },
    onFinished: (record, ctx) => settle(record, ctx),
    assignedPolicies: () => keys.assignedPolicies(),
    onKeysReload(listener) {
      keys.onReload = listener;
    },
    async close() {
      keys.close();
      if (redis) await redis.quit().catch(() => redis?.disconnect());
    },
  };
}

/** The request member a context-length error names. */
const INPUT_PARAM = { chat: 'messages', text: 'prompt', responses: 'input' } as const;

/** Pure: what the engine will read of a validated request, for the token count. */
function promptShapeOf(validated: ValidatedRequest): PromptShape {
  switch (validated.kind) {
    case 'chat':
      return chatPromptShape(validated.request);
    case 'text':
      return completionPromptShape(validated.request);
    case 'responses':
      return responsesPromptShape(validated.request);
  }
}

