import { formatReset, rateLimitHeaders, retryAfterSeconds } from '../../../gateway/access/rateLimit/headers';
import { rateLimitError } from '../../../gateway/access/rateLimit/rateLimitError';

describe('rate limit headers', () => {
  test.each([
    [0, '0ms'],
    [20, '20ms'],
    [999, '999ms'],
    [999.2, '1s'],
    [1000, '1s'],
    [1500, '1.5s'],
    [59_999, '59.999s'],
    [60_000, '1m0s'],
    [360_000, '6m0s'],
    [61_250, '1m1.25s'],
    [-5, '0ms'],
  ])('reset %p ms reads %p, as OpenAI writes it', (ms, text) => {
    expect(formatReset(ms)).toBe(text);
  });

  test("OpenAI's header names, remaining never negative", () => {
    expect(rateLimitHeaders('requests', { limit: 60, remaining: 59, resetMs: 1000 })).toEqual({
      'x-ratelimit-limit-requests': '60',
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-reset-requests': '1s',
    });
    expect(rateLimitHeaders('tokens', { limit: 1000, remaining: -3, resetMs: 6 * 60_000 })).toEqual({
      'x-ratelimit-limit-tokens': '1000',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-tokens': '6m0s',
    });
  });

  test('Retry-After is whole seconds, at least 1', () => {
    expect(retryAfterSeconds(0)).toBe(1);
    expect(retryAfterSeconds(1001)).toBe(2);
    expect(retryAfterSeconds(30_000)).toBe(30);
  });

  test('429 bodies: code rate_limit_exceeded, type names the limit', () => {
    expect(rateLimitError('requests', 3, 1, 2000).body().error).toMatchObject({ type: 'requests', code: 'rate_limit_exceeded', message: expect.stringContaining('Limit 3') });
    expect(rateLimitError('tokens', 100, 50, 2000).body().error).toMatchObject({ type: 'tokens', message: expect.stringContaining('try again in 2s') });
    expect(rateLimitError('tokens', 100, 500, 2000).message).toMatch(/Request too large.*Requested 500/);
    expect(rateLimitError('concurrency', 2, 1, 0).status).toBe(429);
  });
});
