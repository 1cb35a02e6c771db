import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Which published Llama Guard 3 prompt (guards/llamaGuard/categories.ts names the same two). */
export type LlamaGuardVariant = '1b' | '8b';

/**
 * Which Llama Guard 3 prompt a model was trained on, when the policy does not say. The 1B and 8B
 * templates differ (S14, a space before `<|begin_of_text|>` and before `<|eot_id|>`), and the only
 * public ONNX export is the 1B: read from the model itself, the sizes Meta published (1B: hidden
 * size 2048; 8B: 4096), or a served model's name (`meta-llama/Llama-Guard-3-1B`; the 11B-Vision
 * model also takes the 1B prompt, GUARD-MODELS.md); 8b otherwise. Decided when the policy loads,
 * so `policy check` knows the categories the running guard will list.
 */
export function promptVariantOf(model: { config?: { hidden_size?: unknown }; name?: string }): LlamaGuardVariant {
  if (model.config?.hidden_size === 2048) return '1b';
  if (model.config?.hidden_size === 4096) return '8b';
  if (model.name && /(^|[^0-9.])(1|11)b(?![a-z0-9])/i.test(model.name)) return '1b';
  return '8b';
}

/** A local model directory's variant: its config.json, read here (an unreadable one is the guard's load to report). */
export function promptVariantOfDirectory(modelDir: string): LlamaGuardVariant {
  let config: { hidden_size?: unknown } | undefined;
  try {
    config = JSON.parse(readFileSync(path.join(modelDir, 'config.json'), 'utf8')) as { hidden_size?: unknown };
  } catch {
    config = undefined;
  }
  return promptVariantOf({ config, name: path.basename(modelDir) });
}
