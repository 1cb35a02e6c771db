import { createContentEncoderGuard } from '../guards/contentEncoder';
import { createLlamaGuard } from '../guards/llamaGuard';
import { createPromptGuard } from '../guards/promptGuard';
import type { Guard } from '../guards/types';
import type { GuardSpec } from '../policies/schema';

export interface GuardFactorySettings {
  threads: number;
}

/** Maps a policy's guard spec to a guard instance (not yet loaded). The one place that knows every backend. */
export function createGuardFromSpec(name: string, spec: GuardSpec, settings: GuardFactorySettings): Guard {
  if (spec.type === 'prompt_guard') {
    return createPromptGuard({ name, modelDir: spec.model, variant: spec.variant, temperature: spec.temperature, timeoutMs: spec.timeout_ms, intraOpThreads: settings.threads });
  }
  switch (spec.backend) {
    case 'encoder':
      return createContentEncoderGuard({ name, modelDir: spec.model, variant: spec.variant, timeoutMs: spec.timeout_ms, intraOpThreads: settings.threads, excludedCategories: spec.excluded_categories });
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
