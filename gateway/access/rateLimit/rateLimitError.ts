import { ApiError, NO_AUTOMATIC_RETRY } from '../../errors';
import { formatReset } from './headers';

export type LimitKind = 'requests' | 'tokens' | 'concurrency';

/** Why a request was refused, as the audit log and metrics name it. */
export type RateLimitReason = 'requests_per_minute' | 'tokens_per_minute' | 'request_exceeds_tpm' | 'concurrent_requests';

/** OpenAI's 429, carrying which limit refused the request (for the audit record and metrics). */
export class RateLimitError extends ApiError {
  constructor(
    message: string,
    readonly limit: { kind: LimitKind; limit: number; requested: number },
    readonly reason: RateLimitReason,
  ) {
    // A request larger than the whole per-minute budget never fits: no automatic retry.
    super(429, message, limit.kind === 'concurrency' ? 'requests' : limit.kind, 'rate_limit_exceeded', null, {}, reason === 'request_exceeds_tpm' ? NO_AUTOMATIC_RETRY : {});
    this.name = 'RateLimitError';
  }
}

/** OpenAI's 429 body: `type` names the exhausted limit, `code` is rate_limit_exceeded. */
export function rateLimitError(kind: LimitKind, limit: number, requested: number, resetMs: number): RateLimitError {
  const tooLarge = kind === 'tokens' && requested > limit;
  const message =
    kind === 'requests'
      ? `Rate limit reached for requests per minute (RPM): Limit ${limit}. Please try again in ${formatReset(resetMs)}.`
      : kind === 'tokens'
        ? tooLarge
          ? `Request too large for tokens per minute (TPM): Limit ${limit}, Requested ${requested}. Send fewer tokens or a lower max_tokens.`
          : `Rate limit reached for tokens per minute (TPM): Limit ${limit}, Requested ${requested}. Please try again in ${formatReset(resetMs)}.`
        : `Too many concurrent requests for this key: Limit ${limit}. Please try again when a request finishes.`;
  const reason: RateLimitReason = kind === 'requests' ? 'requests_per_minute' : kind === 'concurrency' ? 'concurrent_requests' : tooLarge ? 'request_exceeds_tpm' : 'tokens_per_minute';
  return new RateLimitError(message, { kind, limit, requested }, reason);
}
