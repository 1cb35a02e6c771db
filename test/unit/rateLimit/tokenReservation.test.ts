import { actualTokens, reservation, sameWindow, settlement, usageTotal } from '../../../gateway/access/rateLimit/tokenReservation';

describe('token reservation arithmetic', () => {
  test('reserves prompt plus max_tokens, or the default when unset', () => {
    expect(reservation(100, 50, 4096)).toBe(150);
    expect(reservation(100, undefined, 4096)).toBe(4196);
    expect(reservation(0, undefined, 0)).toBe(1);
  });

  test('usage total: total_tokens, else prompt + completion, else unknown', () => {
    expect(usageTotal({ prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 })).toBe(15);
    expect(usageTotal({ prompt_tokens: 10, completion_tokens: 5 })).toBe(15);
    expect(usageTotal({ completion_tokens: 5 })).toBe(5);
    expect(usageTotal({ total_tokens: 'many' })).toBeUndefined();
    expect(usageTotal({ total_tokens: -1 })).toBeUndefined();
    expect(usageTotal(undefined)).toBeUndefined();
  });

  test("actual cost: the engine's usage wins; else prompt plus the counted answer; unanswered costs the prompt", () => {
    expect(actualTokens(100, { usage: { total_tokens: 130 }, answered: true })).toBe(130);
    expect(actualTokens(100, { answered: true, countedCompletionTokens: 12 })).toBe(112);
    expect(actualTokens(100, { answered: false, countedCompletionTokens: 12 })).toBe(100);
  });

  test('settlement: positive is a refund, negative a further charge', () => {
    expect(settlement(4196, 130)).toBe(4066);
    expect(settlement(150, 160)).toBe(-10);
  });

  test('refunds only land in the window they were reserved from', () => {
    expect(sameWindow(1000, 60_000, 30_000)).toBe(true);
    expect(sameWindow(1000, 60_000, 61_000)).toBe(false);
  });
});
