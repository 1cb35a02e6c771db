import type { ResponseObject } from '../../../engine/answerSchema';
import type { RequestRecord } from '../../record/requestRecord';

/**
 * What the request record keeps of a Responses answer. The record speaks one usage vocabulary
 * for every route (`prompt_tokens`, `completion_tokens`, `total_tokens`: what token refunds, the
 * audit log and the GenAI metrics read), so the Responses API's `input_tokens` / `output_tokens`
 * are recorded under those names, with the engine's other usage members kept as they are.
 */
export function recordUsage(usage: Readonly<Record<string, unknown>> | null | undefined): Record<string, unknown> | undefined {
  if (!usage) return undefined;
  const { input_tokens, output_tokens, ...rest } = usage;
  return { ...rest, ...(input_tokens !== undefined ? { prompt_tokens: input_tokens } : {}), ...(output_tokens !== undefined ? { completion_tokens: output_tokens } : {}) };
}

/** The finish reason of a response: why it is incomplete (`max_output_tokens`, ...), else its status. */
export function finishReasonsOf(response: ResponseObject | undefined): string[] {
  const reason = response?.incomplete_details?.reason ?? response?.status;
  return typeof reason === 'string' ? [reason] : [];
}

export function responseSummary(response: ResponseObject | undefined, durationMs: number, firstByteMs?: number): NonNullable<RequestRecord['engine']> {
  return {
    durationMs,
    ...(firstByteMs !== undefined ? { firstByteMs } : {}),
    id: response?.id ?? undefined,
    model: response?.model ?? undefined,
    usage: recordUsage(response?.usage),
    finishReasons: finishReasonsOf(response),
  };
}
