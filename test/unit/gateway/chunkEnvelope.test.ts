import { knownEnvelope, usageAfterBlock, writableEnvelope } from '../../../gateway/streaming/chunkEnvelope';
import type { StreamChunk } from '../../../gateway/streaming/answerAccumulator';

const CONTEXT = { model: 'dev' };
/** A stream whose bookkeeping never changed. */
const READING = { context: CONTEXT, changedMembers: new Set<string>(), writableMeta: {} };

const chunk = (extra: Record<string, unknown>): StreamChunk => ({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [], ...extra }) as unknown as StreamChunk;

describe('what of a blocked stream may still go out', () => {
  test('the last chunk carrying usage, as a usage-only chunk without unknown members', () => {
    const usage = { prompt_tokens: 3, completion_tokens: 5, total_tokens: 8 };
    const riding = chunk({ choices: [{ index: 0, delta: { content: 'unsafe words' }, finish_reason: 'stop' }], usage, note: 'unsafe words' });
    const out = usageAfterBlock([chunk({ choices: [{ index: 0, delta: { content: 'hi' } }] }), undefined, riding], READING);
    expect(out).toBeDefined();
    expect(JSON.parse(out!.replace(/^data: /, ''))).toEqual({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [], usage });
    expect(out).not.toContain('unsafe');
  });

  test('nothing when no held chunk carries usage', () => {
    expect(usageAfterBlock([chunk({ choices: [{ index: 0, delta: { content: 'hi' } }] }), undefined], READING)).toBeUndefined();
    expect(usageAfterBlock([], READING)).toBeUndefined();
  });

  test('the known envelope keeps bookkeeping members only', () => {
    expect(Object.keys(knownEnvelope(chunk({ usage: {}, x: 1, system_fingerprint: 'fp_44709d6fcb' }), CONTEXT))).toEqual(['id', 'object', 'created', 'model', 'choices', 'usage', 'system_fingerprint']);
  });

  test('and only bookkeeping engines send: words in an id, model, fingerprint, tier or usage name (read as text, maybe what was blocked) are not written again', () => {
    const words = 'you-are-worthless';
    const envelope = knownEnvelope(chunk({ id: words, model: words, system_fingerprint: words, service_tier: words, object: words, usage: { prompt_tokens: 1, [words]: 2, prompt_tokens_details: { cached_tokens: 0, [words]: 1 } } }), CONTEXT);
    expect(JSON.stringify(envelope)).not.toContain('worthless');
    expect(envelope).toMatchObject({ id: expect.stringMatching(/^chatcmpl-[0-9a-f]{24}$/), model: 'dev', object: 'chat.completion.chunk', usage: { prompt_tokens: 1, prompt_tokens_details: { cached_tokens: 0 } } });
    expect(envelope).not.toHaveProperty('system_fingerprint');
    expect(envelope).not.toHaveProperty('service_tier');
  });

  test('after a block, an id, fingerprint or model whose change was read as text is the gateway\'s own or left out, never the engine\'s', () => {
    const reading = { context: CONTEXT, changedMembers: new Set(['id', 'system_fingerprint', 'model']), writableMeta: { id: 'chatcmpl-gateway1', model: 'dev' } };
    const envelope = writableEnvelope(chunk({ id: 'zzs11', system_fingerprint: 'fp_zzs11', model: 'zzs11', usage: { prompt_tokens: 1 } }), reading);
    expect(envelope).toMatchObject({ id: 'chatcmpl-gateway1', model: 'dev' });
    expect(JSON.stringify(envelope)).not.toContain('zzs11');
    expect(usageAfterBlock([chunk({ id: 'zzs11', usage: { prompt_tokens: 1 } })], reading)).not.toContain('zzs11');
  });
});
