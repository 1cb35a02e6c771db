import { knownEnvelope, usageAfterBlock } from '../../../gateway/streaming/chunkEnvelope';
import type { StreamChunk } from '../../../gateway/streaming/answerAccumulator';

const chunk = (extra: Record<string, unknown>): StreamChunk => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [], ...extra }) as unknown as StreamChunk;

describe('what of a blocked stream may still go out', () => {
  test('the last chunk carrying usage, as a usage-only chunk without unknown members', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
    const riding = chunk({ choices: [{ index: 0, delta: { content: 'unsafe words' }, finish_reason: 'stop' }], usage, note: 'unsafe words' });
    const out = usageAfterBlock([chunk({ choices: [{ index: 0, delta: { content: 'hi' } }] }), undefined, riding]);
    expect(out).toBeDefined();
    expect(JSON.parse(out!.replace(/^data: /, ''))).toEqual({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [], usage });
    expect(out).not.toContain('unsafe');
  });

  test('nothing when no held chunk carries usage', () => {
    expect(usageAfterBlock([chunk({ choices: [{ index: 0, delta: { content: 'hi' } }] }), undefined])).toBeUndefined();
    expect(usageAfterBlock([])).toBeUndefined();
  });

  test('the known envelope keeps bookkeeping members only', () => {
    expect(Object.keys(knownEnvelope(chunk({ usage: {}, x: 1, system_fingerprint: 'fp' })))).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage', 'system_fingerprint']);
  });
});
