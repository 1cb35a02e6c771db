/**
 * Token-budget arithmetic. A request reserves its prompt tokens plus the most it may generate
 * before it reaches the engine; once the engine reports usage, the difference is given back (or,
 * if the engine used more than reserved, taken).
 */

/** Tokens reserved up front: prompt plus max_tokens (or the configured default when the request sets none). */
export function reservation(promptTokens: number, maxTokens: number | undefined, defaultMaxTokens: number): number {
  return Math.max(1, promptTokens + (maxTokens ?? defaultMaxTokens));
}

export interface EngineUsage {
  prompt_tokens?: unknown;
  completion_tokens?: unknown;
  total_tokens?: unknown;
}

/** Total tokens from an OpenAI usage block; undefined when it has no usable numbers. */
export function usageTotal(usage: EngineUsage | undefined): number | undefined {
  if (!usage) return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);
  const total = n(usage.total_tokens);
  if (total !== undefined) return Math.round(total);
  const prompt = n(usage.prompt_tokens);
  const completion = n(usage.completion_tokens);
  return prompt !== undefined || completion !== undefined ? Math.round((prompt ?? 0) + (completion ?? 0)) : undefined;
}

export interface Outcome {
  /** The engine's usage block, when it sent one. */
  usage?: EngineUsage;
  /** Completion tokens counted by the gateway from the answer text (streams without usage). */
  countedCompletionTokens?: number;
  /** Whether the request got an answer (the engine generated). */
  answered: boolean;
}

/**
 * Tokens the request really cost. Without usage, an answered request costs its prompt plus the
 * answer as counted; one that never got an answer (blocked, rejected, failed) costs its prompt,
 * which the guards still read.
 */
export function actualTokens(promptTokens: number, outcome: Outcome): number {
  const fromUsage = usageTotal(outcome.usage);
  if (fromUsage !== undefined) return fromUsage;
  return promptTokens + (outcome.answered ? (outcome.countedCompletionTokens ?? 0) : 0);
}

/** Positive: tokens to give back; negative: tokens still to take. */
export function settlement(reserved: number, actual: number): number {
  return reserved - actual;
}

/**
 * A refund only makes sense inside the window the reservation was taken from: after it reset,
 * giving points back would hand the next window a bonus.
 */
export function sameWindow(takenAtMs: number, resetMsAtTake: number, nowMs: number): boolean {
  return nowMs < takenAtMs + resetMsAtTake;
}
