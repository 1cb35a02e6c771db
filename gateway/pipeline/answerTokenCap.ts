/**
 * A token budget reserves each answer's limit (the client's, or `default_max_tokens` for a request
 * that sets none: gateway/access/rateLimit/tokenLimits.ts) and charges the rest only when the
 * answer is done. So under a budget the engine must be sent exactly the reserved limit, in the
 * member every engine reads (`field`): sent on without one, the engine would generate until the
 * context or the timeout ends it; a chat request's `max_completion_tokens` alone is read by vLLM
 * but not by TGI or Ollama, which read only `max_tokens` (the client reserved 1 token and got the
 * engine's default). Without a budget the body goes as sent. Pure.
 */
export function withAnswerTokenCap(body: Record<string, unknown>, field: 'max_tokens' | 'max_output_tokens', reserved: number | undefined): Record<string, unknown> {
  if (reserved === undefined) return body;
  return body[field] === reserved ? body : { ...body, [field]: reserved };
}
