/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
/**
 * The encoder guards' time budget grows with the text they read (guards/runtime/timeoutBudget.ts):
 * the deadline in the verdict is the base plus the per-1K rate for the text, up to the cap. Real
 * tiny ONNX models. The budgets are chosen far from what the checks need (a few ms against
 * minutes), so no outcome depends on the machine's speed.
 */
import { createContentEncoderGuard } from '../../../guards/contentEncoder';
import { createPromptGuard } from '../../../guards/promptGuard';
import { CONTENT, filler, input, PG_V1, text } from './helpers';

describe('timeouts that grow with the text', () => {
  const long = filler(10_000); // about 57,000 characters: about 14,300 tokens by the estimate

  it('Prompt Guard: a fixed 1 ms budget refuses a long text; the same base with a per-1K rate scans all of it', async () => {
    const fixed = createPromptGuard({ name: 'pg', modelDir: PG_V1, timeoutMs: 1, cacheSize: 0 });
    const growing = createPromptGuard({ name: 'pg', modelDir: PG_V1, timeoutMs: 1, timeoutPer1kTokensMs: 10_000, maxTimeoutMs: 600_000, cacheSize: 0 });
    await fixed.load();
    await growing.load();
    try {
      expect((await fixed.check(input(text('document', long)))).error).toEqual({ type: 'timeout', message: 'guard did not finish within 1 ms' });
      const v = await growing.check(input(text('document', `${long} zzjailbreak`)));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('INJECTION');
      expect(v.segmentsScanned).toBeGreaterThan(30);
    } finally {
      await fixed.close();
      await growing.close();
    }
  });

  it('the cap bounds the grown budget, and the message says which budget ran out', async () => {
    const capped = createPromptGuard({ name: 'pg', modelDir: PG_V1, timeoutMs: 1, timeoutPer1kTokensMs: 10_000, maxTimeoutMs: 2, cacheSize: 0 });
    await capped.load();
    try {
      expect((await capped.check(input(text('document', long)))).error).toEqual({ type: 'timeout', message: 'guard did not finish within 2 ms' });
    } finally {
      await capped.close();
    }
  });

  it('the content guard counts every turn and the whole conversation it reads', async () => {
    const guard = createContentEncoderGuard({ name: 'cg', modelDir: CONTENT, timeoutMs: 1, timeoutPer1kTokensMs: 1, cacheSize: 0 });
    await guard.load();
    try {
      // Two turns of 40,000 characters each and the whole (80,001): 160,001 characters read,
      // 40,001 tokens, 1 + 40 ms. Counting the conversation once would give 1 + 20.
      const turn = 'x'.repeat(40_000);
      const v = await guard.check({ direction: 'input', texts: [], conversation: [{ role: 'user', content: turn }, { role: 'assistant', content: turn }] });
      expect(v.error).toEqual({ type: 'timeout', message: 'guard did not finish within 41 ms' });
    } finally {
      await guard.close();
    }
  });
});
