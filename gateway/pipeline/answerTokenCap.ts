/**
 * A token budget reserves `default_max_tokens` for each answer of a request that sets no limit
 * (gateway/access/rateLimit/tokenLimits.ts). Sent on without one, the engine would generate until
 * the context or the timeout ends it, charged only when it is done, so a client could run many
 * times its tokens per minute. The engine is sent the reserved amount as the limit instead. Pure.
 */
export function withAnswerTokenCap(
  body: Record<string, unknown>,
  field: 'max_tokens' | 'max_output_tokens',
  clientMax: number | undefined,
  cap: number | undefined,
): Record<string, unknown> {
  if (cap === undefined || clientMax !== undefined) return body;
  return { ...body, [field]: cap };
}
