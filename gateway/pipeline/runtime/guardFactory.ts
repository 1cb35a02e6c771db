import { createContentEncoderGuard } from '../../../guards/contentEncoder';
import { createLlamaGuard, createLlamaGuardRemote } from '../../../guards/llamaGuard';
import { promptVariantOf, promptVariantOfDirectory } from '../../../policies/llamaGuardVariant';
import { createPromptGuard } from '../../../guards/promptGuard';
import { createRemotePromptGuard } from '../../../guards/promptGuard/remote';
import type { TimeoutBudget } from '../../../guards/runtime/timeoutBudget';
import type { Guard } from '../../../guards/types';
import type { GuardSpec } from '../../../policies/schema';
import type { GuardSettings } from './guardSettings';

/** Segments and fine windows one check of an encoder guard may score before it refuses the request (bad_input). */
export const MAX_ROWS_PER_CHECK = 65_536;

/** Policy defaults of the growing guard timeout (policies/README.md, "Guards"). */
/**
 * 500 ms per 1,000 tokens read, capped at 240 s: a 120K-token conversation is about 270K tokens
 * read per guard (texts plus their joins; turns plus the whole), and both bundled guards took 60-104
 * s on 115K tokens together on this project's 2-core machine while it was busy with other work;
 * this gives them 140-145 s. A stuck guard on a short input still fails in seconds.
 */
export const DEFAULT_TIMEOUT_MS_PER_1K_TOKENS = 500;
export const DEFAULT_MAX_TIMEOUT_MS = 240_000;

/** A guard spec's timeout: base, per 1,000 tokens, cap (guards/runtime/timeoutBudget.ts). */
export function timeoutBudgetOf(spec: GuardSpec): Required<TimeoutBudget> {
  const per1kTokensMs = spec.timeout_ms_per_1k_tokens ?? DEFAULT_TIMEOUT_MS_PER_1K_TOKENS;
  const maxMs = Math.max(spec.timeout_ms, spec.max_timeout_ms ?? DEFAULT_MAX_TIMEOUT_MS);
  return { baseMs: spec.timeout_ms, per1kTokensMs, maxMs };
}

/** Maps a policy's guard spec to a guard instance (not yet loaded). The one place that knows every backend. */
export function createGuardFromSpec(name: string, spec: GuardSpec, settings: GuardSettings): Guard {
  // What every encoder guard (Prompt Guard, the content encoder) takes from the gateway config.
  const encoder = {
    // A 128K-token conversation with 64-token fine windows is about 9,000 rows per reading, and
    // the content guard reads it twice (each turn, then all together): room for that, and for
    // tokenizers less thrifty than Llama's. The request's context check bounds it before this.
    maxSegments: MAX_ROWS_PER_CHECK,
    intraOpThreads: settings.threads,
    inlineBudgetMs: settings.inlineBudgetMs,
    maxBatchSize: settings.batchSize,
    batchWaitMs: settings.batchWaitMs,
  };
  const budget = timeoutBudgetOf(spec);
  const timeouts = { timeoutMs: budget.baseMs, timeoutPer1kTokensMs: budget.per1kTokensMs, maxTimeoutMs: budget.maxMs };
  if (spec.type === 'prompt_guard') {
    if (spec.backend === 'tei' || spec.backend === 'vllm') {
      return createRemotePromptGuard({
        name,
        backend: spec.backend,
        url: spec.url ?? [],
        model: spec.model,
        apiKey: apiKeyFrom(name, spec.api_key_env),
        labels: spec.labels,
        temperature: spec.temperature,
        maxBatchSize: spec.max_batch_size,
        fineWindowTokens: spec.fine_window_tokens,
        tokenizerDir: spec.tokenizer,
        log: settings.log,
        ...timeouts,
      });
    }
    return createPromptGuard({ name, modelDir: spec.model, variant: spec.variant, temperature: spec.temperature, fineWindowTokens: spec.fine_window_tokens, ...timeouts, ...encoder });
  }
  switch (spec.backend) {
    case 'encoder':
      return createContentEncoderGuard({
        name,
        modelDir: spec.model,
        variant: spec.variant,
        excludedCategories: spec.excluded_categories,
        fineWindowTokens: spec.fine_window_tokens,
        ...timeouts,
        ...encoder,
      });
    case 'onnx':
      return createLlamaGuard({ backend: 'onnx', name, modelDir: spec.model, variant: spec.prompt_variant ?? promptVariantOfDirectory(spec.model), onnxVariant: spec.variant, categories: spec.categories, excludedCategories: spec.excluded_categories, intraOpThreads: settings.threads, ...timeouts });
    case 'openai':
      // Several base URLs: replicas with health checks and failover (guards/runtime/endpointPool.ts).
      return createLlamaGuardRemote({
        backend: 'openai',
        name,
        baseUrl: spec.base_url ?? '',
        apiKey: apiKeyFrom(name, spec.api_key_env),
        model: spec.model,
        mode: spec.mode ?? (spec.categories || spec.excluded_categories.length ? 'completions' : 'chat'),
        variant: spec.prompt_variant ?? promptVariantOf({ name: spec.model }),
        serverAddsBos: spec.server_adds_bos,
        categories: spec.categories,
        excludedCategories: spec.excluded_categories,
        cacheSize: 1024,
        log: settings.log,
        ...timeouts,
      });
  }
}

/**
 * The key a guard server wants, from the environment variable the policy names. A variable that
 * is named but unset (or empty) fails the policy load: sent without its key, every check would be
 * a 401, and with fail-closed rules every request blocked, with nothing at startup saying why.
 */
export function apiKeyFrom(guard: string, envName: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (!envName) return undefined;
  const value = env[envName];
  if (!value) throw new Error(`guard ${guard}: api_key_env names ${envName}, which is not set in the environment (or is empty)`);
  return value;
}
