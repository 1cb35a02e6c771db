import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { didYouMean } from '../policies/didYouMean';
import { knownKeysAt } from '../policies/schemaKeys';
import { applyAccessEnv } from './access/accessEnv';
import { KeysConfig } from './access/auth/keysConfig';
import { HardeningLimits } from './access/hardening/limitsConfig';
import { RateLimitsConfig } from './access/rateLimit/rateLimitsConfig';
import { AuditConfig } from './audit/auditConfig';
import { ReviewConfig } from './review/reviewConfig';
import { TelemetryConfig } from './telemetry/telemetryConfig';

/** Node cannot wait longer than this in one timer (a longer one fires after 1 ms). */
export const MAX_TIMER_MS = 2_147_483_647;
/** A timeout in ms that node's timers can hold. */
export const timerMs = () => z.number().int().positive().max(MAX_TIMER_MS, 'at most 2147483647 ms (about 24.8 days): longer timers fire at once');
/**
 * An engine's OpenAI base URL: http(s) only. `vllm:8000/v1` or `localhost:8000/v1` (no scheme)
 * parse as URLs with scheme `vllm:` / `localhost:`, and every request was then a retryable 503, a
 * config mistake that looked like an outage.
 */
const engineUrl = () => z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL with a host, e.g. http://vllm:8000/v1' });
export const GatewayConfig = z.strictObject({
  port: z.number().int().min(0).max(65535).default(8080),
  /** Interface to listen on. Without API keys the gateway refuses to listen beyond loopback. */
  host: z.string().trim().min(1, 'an interface address, e.g. 127.0.0.1 or 0.0.0.0').default('127.0.0.1'),
  engine: z
    .strictObject({
      /** OpenAI base URL including /v1. Unset: the in-process dev engine (a stand-in, not a model). */
      url: engineUrl().optional(),
      api_key: z.string().optional(),
      connect_timeout_ms: timerMs().default(5_000),
      first_byte_timeout_ms: timerMs().default(120_000),
      idle_timeout_ms: timerMs().default(60_000),
      total_timeout_ms: timerMs().default(600_000),
      /** More replicas of the same engine, besides `url` (or instead of it): health-checked, and tried in turn when one fails before answering; one without `api_key` gets the engine's. */
      upstreams: z.array(z.strictObject({ url: engineUrl(), api_key: z.string().optional() })).default([]),
      /** Other upstreams tried after a failure before the engine's first byte (never once bytes reached the client). */
      retries: z.number().int().min(0).max(5).default(1),
      /** How often each upstream's health is checked when there are several. */
      health_interval_ms: timerMs().default(5_000),
      /**
       * Path on the engine's origin that says whether it can generate, e.g. `/health` (vLLM, SGLang,
       * TGI). Unset: GET {url}/models, which vLLM keeps answering while its engine hangs.
       */
      health_path: z.string().regex(/^\/[^?#\s]*$/, 'a path on the engine origin, starting with /, e.g. /health').optional(),
      /** Largest engine answer read, streamed or not: a bigger one is a 502 engine_error, never buffered whole. */
      max_answer_bytes: z.number().int().positive().default(16 * 1024 * 1024),
    })
    .prefault({}),
  /** Policy file; default: policies/default.yaml shipped with the gateway. */
  policy: z.string().optional(),
  limits: z
    .strictObject({
      body_bytes: z.number().int().positive().default(4 * 1024 * 1024),
      ...HardeningLimits.shape,
    })
    .prefault({}),
  guards: z
    .strictObject({
      /** onnxruntime intra-op threads per session. */
      threads: z.number().int().min(1).max(64).default(1),
      /** ONNX worker threads (each hosts every encoder session; batches spread over them); default one per core, at most 8. */
      workers: z.number().int().min(1).max(64).optional(),
      /**
       * Encoder guards: a lone segment measured at load to score within this many ms runs on the
       * event loop instead of the ONNX worker (saves two thread hops); 0 keeps every run in the worker.
       */
      inline_budget_ms: z.number().min(0).max(20).default(2),
      /** Encoder guards: segments per ONNX run (concurrent requests share runs). */
      batch_size: z.number().int().min(1).max(256).default(16),
      /** Encoder guards: how long a segment may wait for others to fill its run (0: the next event-loop turn). */
      batch_wait_ms: z.number().min(0).max(1000).default(0),
      /** /readyz: a guard an `on_error: block` rule needs counts as failing after this many failed checks in a row. */
      unready_after_failures: z.number().int().min(1).max(1000).default(3),
      /** /readyz: how long the probe of a failing guard (so it can recover while drained) may take. */
      probe_timeout_ms: z.number().int().min(100).max(60_000).default(2_000),
      /**
       * Answers remembered (by hash) once every rule allowed them, so a client resending one as an
       * earlier assistant turn is not read as a forgery by jailbreak-score rules; 0: every earlier
       * assistant turn is read as the client's own text (pipeline/deliveredAnswers.ts).
       */
      delivered_answers: z.number().int().min(0).max(1_000_000).default(100_000),
    })
    .prefault({}),
  /** API keys (file and inline hashes). None: open access, and the gateway listens on loopback only. */
  keys: KeysConfig.prefault({}),
  rate_limits: RateLimitsConfig.prefault({}),
  /** express `trust proxy`: which proxies' X-Forwarded-For names the client (false: the socket address). */
  trust_proxy: z.union([z.boolean(), z.number().int().min(0), z.string().min(1)]).default(false),
  /** Seconds to wait for in-flight requests and streams on SIGTERM. */
  shutdown_grace_s: z.number().positive().max(MAX_TIMER_MS / 1000).default(30),
  /** The durable, hash-chained audit log of every decision. */
  audit: AuditConfig.prefault({}),
  /** OpenTelemetry (configured by the OTEL_* variables) besides these two settings. */
  telemetry: TelemetryConfig.prefault({}),
  /** The read-only review page over the audit log at /review. */
  review: ReviewConfig.prefault({}),
  /** GET /metrics: who may read it, and where it is served. */
  metrics: z
    .strictObject({
      /** Bearer key for GET /metrics (also SAFETY_METRICS_KEY); required to read it when API keys are configured. */
      api_key: z.string().min(16, 'use a long random key (16+ characters)').optional(),
      /** Serve GET /metrics on this port only (on `metrics.host`), not on the gateway's port. */
      port: z.number().int().min(0).max(65535).optional(),
      /** Interface of the metrics port; beyond loopback it needs `metrics.api_key`. */
      host: z.string().default('127.0.0.1'),
    })
    .prefault({}),
});
export type GatewayConfig = z.infer<typeof GatewayConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface ConfigSources {
  flags: Record<string, string | undefined>;
  env: NodeJS.ProcessEnv;
}

/** Builds the config: defaults < config file < environment < flags. Throws ConfigError with what, where and how to fix. */
export function loadConfig({ flags, env }: ConfigSources): GatewayConfig {
  // A flag given with an empty value (`--policy "$POLICY"`, the variable unset) is a mistake, not
  // "unset": --policy "" ran the shipped default, --engine-url "" the dev engine. (An empty
  // environment variable is unset, as usual.)
  for (const flag of ['config', 'policy', 'engine-url', 'host'] as const) {
    if (flags[flag] !== undefined && flags[flag]!.trim() === '') throw new ConfigError(`--${flag} was given an empty value; give a value or leave the flag out`);
  }
  const file = flags.config ?? env.SAFETY_CONFIG;
  const fromFile = file ? readConfigFile(file) : {};
  const merged: Record<string, unknown> = structuredClone(fromFile);
  const engine = (merged.engine ?? {}) as Record<string, unknown>;
  merged.engine = engine;
  const port = flags.port ?? env.PORT;
  if (port !== undefined) merged.port = toNumber(port, flags.port !== undefined ? '--port' : 'PORT');
  const host = flags.host ?? env.HOST;
  // An empty HOST is unset, like an empty ENGINE_URL (node would read "" as every interface).
  if (host !== undefined && host.trim() !== '') merged.host = host;
  const engineUrl = flags['engine-url'] ?? env.ENGINE_URL;
  if (engineUrl !== undefined && engineUrl !== '') engine.url = engineUrl;
  if (env.ENGINE_API_KEY) engine.api_key = env.ENGINE_API_KEY;
  const policy = flags.policy ?? env.SAFETY_POLICY;
  if (policy) merged.policy = policy;
  if (env.SAFETY_METRICS_KEY) merged.metrics = { ...((merged.metrics as object | undefined) ?? {}), api_key: env.SAFETY_METRICS_KEY };
  if (env.SAFETY_AUDIT_DIR) merged.audit = { ...((merged.audit as object | undefined) ?? {}), dir: env.SAFETY_AUDIT_DIR };
  if (env.SAFETY_AUDIT_SIGNING_KEY_FILE) merged.audit = { ...((merged.audit as object | undefined) ?? {}), signing_key_file: env.SAFETY_AUDIT_SIGNING_KEY_FILE };
  if (env.SAFETY_REVIEW_ADMIN_KEY) merged.review = { ...((merged.review as object | undefined) ?? {}), admin_key: env.SAFETY_REVIEW_ADMIN_KEY };
  const envProblems = applyAccessEnv(merged, env);
  if (envProblems.length) throw new ConfigError(`invalid configuration:\n${envProblems.map((p) => `- ${p}`).join('\n')}`);
  const result = GatewayConfig.safeParse(merged);
  if (!result.success) {
    const lines = result.error.issues.map((issue) => `- ${issue.path.join('.') || '(top level)'}: ${issueMessage(issue, merged)}${hint(issue.path.join('.'))}`);
    throw new ConfigError(`invalid configuration${file ? ` (file ${file})` : ''}:\n${lines.join('\n')}`);
  }
  // Every engine URL, replicas too: one without /v1 answered every other request with the engine's 404.
  const engineUrls = [
    ...(result.data.engine.url ? [{ at: 'engine.url', url: result.data.engine.url }] : []),
    ...result.data.engine.upstreams.map((u, i) => ({ at: `engine.upstreams[${i}].url`, url: u.url })),
  ];
  const withoutV1 = engineUrls.filter(({ url }) => !/\/v1\/?$/.test(new URL(url).pathname));
  if (withoutV1.length) {
    // Never the URL as given: it may carry credentials (user:password@, ?api-key=).
    throw new ConfigError(`invalid configuration:\n${withoutV1.map(({ at, url }) => `- ${at}: ${shownUrl(url)} should be the engine's OpenAI base URL ending in /v1 (e.g. http://127.0.0.1:8000/v1)`).join('\n')}`);
  }
  return result.data;
}

/** A URL for messages: scheme, host and path, without credentials or query. */
function shownUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}; check the --config flag or SAFETY_CONFIG`);
  }
  let parsed: unknown;
  // `.JSON` too; a byte-order mark (as Windows editors save) is not JSON, and YAML skips it anyway.
  const json = path.extname(file).toLowerCase() === '.json';
  try {
    parsed = json ? JSON.parse(text.replace(/^\uFEFF/, '')) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${json ? 'JSON' : 'YAML'}: ${syntaxErrorWhere(err as Error)}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${file} must hold a mapping of settings`);
  return parsed as Record<string, unknown>;
}

/**
 * Where a config file's syntax error is, never what is there: V8's JSON messages quote the text
 * around the error (`..."api_key": sk-live-SU"...`), and a config file holds secrets.
 */
function syntaxErrorWhere(err: Error): string {
  const yamlAt = (err as { linePos?: { line: number; col: number }[] }).linePos?.[0];
  if (yamlAt) return `line ${yamlAt.line}, column ${yamlAt.col}`;
  const position = /position (\d+)/.exec(err.message)?.[1];
  return position ? `at character ${position}` : 'a syntax error (its text is not shown: the file may hold secrets)';
}

function toNumber(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || value.trim() === '') throw new ConfigError(`invalid configuration:\n- ${name}: "${value}" is not a number`);
  return n;
}

/** Zod's message; an unknown key names the likely one it misspells (`engin`: did you mean `engine`?). */
function issueMessage(issue: z.core.$ZodIssue, merged: Record<string, unknown>): string {
  if (issue.code !== 'unrecognized_keys') return issue.message;
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const known = knownKeysAt(path, merged, GatewayConfig);
  return issue.keys.map((key) => `unknown key "${key}"${didYouMean(key, known)}`).join('; ');
}

function hint(key: string): string {
  switch (key) {
    case 'port':
      return ' (use a port number 0-65535, e.g. --port 8080 or PORT=8080)';
    case 'engine.url':
      return ' (set ENGINE_URL or --engine-url to the engine base URL, e.g. http://127.0.0.1:8000/v1)';
    default:
      return '';
  }
}
