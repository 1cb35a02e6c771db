import { createContentEncoderGuard } from '../guards/contentEncoder';
import { createLlamaGuard } from '../guards/llamaGuard';
import { createPromptGuard } from '../guards/promptGuard';
import type { Guard } from '../guards/types';
import type { GuardSpec } from '../policies/schema';
import type { GatewayConfig } from './config';
import type { GuardSettings } from './policyRuntime';

export type GuardFactorySettings = GuardSettings;

/** The gateway config's `guards` section as the guards take it. */
export function guardSettingsFrom(guards: GatewayConfig['guards']): GuardSettings {
  return { threads: guards.threads, inlineBudgetMs: guards.inline_budget_ms, batchSize: guards.batch_size, batchWaitMs: guards.batch_wait_ms };
}

/** Maps a policy's guard spec to a guard instance (not yet loaded). The one place that knows every backend. */
export function createGuardFromSpec(name: string, spec: GuardSpec, settings: GuardFactorySettings): Guard {
  // What every encoder guard (Prompt Guard, the content encoder) takes from the gateway config.
  const encoder = {
    intraOpThreads: settings.threads,
    inlineBudgetMs: settings.inlineBudgetMs,
    maxBatchSize: settings.batchSize,
    batchWaitMs: settings.batchWaitMs,
  };
  if (spec.type === 'prompt_guard') {
    return createPromptGuard({ name, modelDir: spec.model, variant: spec.variant, temperature: spec.temperature, timeoutMs: spec.timeout_ms, fineWindowTokens: spec.fine_window_tokens, ...encoder });
  }
  switch (spec.backend) {
    case 'encoder':
      return createContentEncoderGuard({
        name,
        modelDir: spec.model,
        variant: spec.variant,
        timeoutMs: spec.timeout_ms,
        excludedCategories: spec.excluded_categories,
        fineWindowTokens: spec.fine_window_tokens,
        ...encoder,
      });
    case 'onnx':
      return createLlamaGuard({ backend: 'onnx', name, modelDir: spec.model, variant: spec.prompt_variant, onnxVariant: spec.variant, categories: spec.categories, excludedCategories: spec.excluded_categories, timeoutMs: spec.timeout_ms, intraOpThreads: settings.threads });
    case 'openai':
      return createLlamaGuard({
        backend: 'openai',
        name,
        baseUrl: spec.base_url ?? '',
        apiKey: spec.api_key_env ? process.env[spec.api_key_env] : undefined,
        model: spec.model,
        mode: spec.mode ?? (spec.categories || spec.excluded_categories.length ? 'completions' : 'chat'),
        variant: spec.prompt_variant,
        categories: spec.categories,
        excludedCategories: spec.excluded_categories,
        timeoutMs: spec.timeout_ms,
      });
  }
}
