import { retryAfterSeconds } from '../../../engine/client';

describe("retryAfterSeconds: an overloaded engine's Retry-After, passed on to the client", () => {
  const now = Date.parse('2026-12-06T12:00:00Z');

  test.each([
    ['seconds', '7', 7],
    ['seconds with spaces', ' 30 ', 30],
    ['an HTTP date 90 s ahead', 'Sun, 06 Dec 2026 12:01:30 GMT', 90],
    ['the first of repeated headers', ['5', '9'], 5],
    ['more than an hour, capped', '86400', 3600],
  ])('%s', (_name, header, expected) => {
    expect(retryAfterSeconds(header, now)).toBe(expected);
  });

  test.each([
    ['absent', undefined],
    ['empty', ''],
    ['not a number or a date', 'soon'],
    ['a date in the past', 'Sun, 06 Dec 2026 11:00:00 GMT'],
    ['negative', '-5'],
  ])('%s: none', (_name, header) => {
    expect(retryAfterSeconds(header, now)).toBeUndefined();
  });
});
