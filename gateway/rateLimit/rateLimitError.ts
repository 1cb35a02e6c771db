import { ApiError } from '../errors';
import { formatReset } from './headers';

/** OpenAI's 429 body: `type` names the exhausted limit, `code` is rate_limit_exceeded. */
export function rateLimitError(kind: 'requests' | 'tokens' | 'concurrency', limit: number, requested: number, resetMs: number): ApiError {
  const message =
    kind === 'requests'
      ? `Rate limit reached for requests per minute (RPM): Limit ${limit}. Please try again in ${formatReset(resetMs)}.`
      : kind === 'tokens'
        ? requested > limit
          ? `Request too large for tokens per minute (TPM): Limit ${limit}, Requested ${requested}. Send fewer tokens or a lower max_tokens.`
          : `Rate limit reached for tokens per minute (TPM): Limit ${limit}, Requested ${requested}. Please try again in ${formatReset(resetMs)}.`
        : `Too many concurrent requests for this key: Limit ${limit}. Please try again when a request finishes.`;
  return new ApiError(429, message, kind === 'concurrency' ? 'requests' : kind, 'rate_limit_exceeded');
}
