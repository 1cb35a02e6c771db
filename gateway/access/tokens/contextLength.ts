import { ApiError } from '../../errors';

/** Context window of a model: its own entry, else the default (128K for Llama 3.1). */
export function contextWindow(model: string | undefined, byModel: Record<string, number>, fallback: number): number {
  return (model !== undefined ? byModel[model] : undefined) ?? fallback;
}

/**
 * The 400 OpenAI sends for a request that cannot fit, checked before the engine sees it: the
 * engine would refuse anyway, after queueing it and reading the whole prompt.
 */
export function contextLengthError(window: number, promptTokens: number, maxTokens: number | undefined, param: 'messages' | 'prompt' | 'input'): ApiError | undefined {
  const requested = promptTokens + (maxTokens ?? 0);
  if (requested <= window) return undefined;
  const detail = maxTokens ? `${requested} tokens (${promptTokens} in the ${param}, ${maxTokens} in the completion)` : `${promptTokens} tokens in the ${param}`;
  return new ApiError(
    400,
    `This model's maximum context length is ${window} tokens. However, you requested ${detail}. Please reduce the length of the ${param}${maxTokens ? ' or completion' : ''}.`,
    'invalid_request_error',
    'context_length_exceeded',
    param,
  );
}
