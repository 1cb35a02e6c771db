import { conversationChars, estimateTokens, textsChars, timeoutFor } from '../../../guards/runtime/timeoutBudget';

describe('guard timeouts that grow with the text', () => {
  test('base + per 1K tokens (characters / 4), capped', () => {
    const budget = { baseMs: 5000, per1kTokensMs: 250, maxMs: 120_000 };
    expect(timeoutFor(budget, 0)).toBe(5000);
    expect(estimateTokens(4000)).toBe(1000);
    expect(timeoutFor(budget, 4000)).toBe(5250);
    // 128K tokens: 5 s + 32 s.
    expect(timeoutFor(budget, 512_000)).toBe(37_000);
    expect(timeoutFor(budget, 4_000_000)).toBe(120_000);
  });

  test('without a rate it is the fixed timeout; a cap below the base never shortens it', () => {
    expect(timeoutFor({ baseMs: 5000 }, 1_000_000)).toBe(5000);
    expect(timeoutFor({ baseMs: 5000, per1kTokensMs: 100, maxMs: 1000 }, 1_000_000)).toBe(5000);
  });

  test('counts what each guard reads: texts, or turns with their tool calls', () => {
    expect(textsChars([{ source: 'user', path: 'a', text: 'abcd' }, { source: 'tool', path: 'b', text: 'ef' }])).toBe(6);
    expect(conversationChars([{ role: 'user', content: 'abc' }, { role: 'assistant', content: 'de', toolCalls: ['f(x)'] }])).toBe(9);
    expect(textsChars(undefined)).toBe(0);
  });
});
