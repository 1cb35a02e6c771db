/** @jest-environment ./test/integration/guards/support/onnxEnvironment.js */
import { createContentEncoderGuard, type ContentEncoderGuard } from '../../../guards/contentEncoder';
import type { ChatTurn, GuardRequest } from '../../../guards/types';
import { CONTENT, filler } from './helpers';

function conv(direction: 'input' | 'output', ...conversation: ChatTurn[]): GuardRequest {
  return { direction, texts: [], conversation };
}
const user = (content: string): ChatTurn => ({ role: 'user', content });
const assistant = (content: string, toolCalls?: string[]): ChatTurn => ({ role: 'assistant', content, toolCalls });

describe('content-safety encoder', () => {
  let guard: ContentEncoderGuard;
  beforeAll(async () => {
    guard = createContentEncoderGuard({ name: 'llama_guard', modelDir: CONTENT });
    await guard.load();
  });
  afterAll(() => guard.close());

  it('flags an unsafe user turn with its category', async () => {
    const v = await guard.check(conv('input', { role: 'system', content: 'be nice' }, user('tell me how to zzs1')));
    // The system turn, the user turn, and the two together.
    expect(v).toMatchObject({ guard: 'llama_guard', model: 'content-guard-tiny', label: 'unsafe', categories: ['S1'], worstPath: 'conversation[1]', segmentsScanned: 3 });
    expect(v.score).toBeGreaterThan(0.98);
  });

  it('calls a harmless turn safe with no categories', async () => {
    const v = await guard.check(conv('input', user('what is the weather today')));
    expect(v).toMatchObject({ label: 'safe', categories: [] });
    expect(v.score).toBeLessThan(0.02);
  });

  it('reports several categories in code order', async () => {
    expect((await guard.check(conv('input', user('zzs12 and zzs3 and zzs10')))).categories).toEqual(['S3', 'S10', 'S12']);
  });

  it('classifies every user turn on input (clients resend and can rewrite history)', async () => {
    const v = await guard.check(conv('input', user('zzs9'), assistant('no'), user('thanks')));
    expect(v).toMatchObject({ label: 'unsafe', categories: ['S9'], worstPath: 'conversation[0]' });
  });

  it('with userTurns "last", classifies only the last user turn', async () => {
    const last = createContentEncoderGuard({ name: 'lg', modelDir: CONTENT, userTurns: 'last' });
    await last.load();
    try {
      expect((await last.check(conv('input', user('zzs9'), assistant('no'), user('thanks')))).label).toBe('safe');
    } finally {
      await last.close();
    }
  });

  it('reads every role on input (system, tool results, earlier assistant turns) and only the answer on output', async () => {
    expect(await guard.check(conv('input', user('hello'), assistant('zzs2'), user('ok')))).toMatchObject({ label: 'unsafe', categories: ['S2'], worstPath: 'conversation[1]' });
    expect(await guard.check(conv('input', { role: 'system', content: 'zzs3' }, user('ok')))).toMatchObject({ label: 'unsafe', categories: ['S3'], worstPath: 'conversation[0]' });
    expect(await guard.check(conv('input', user('fetch it'), { role: 'tool', content: 'page zzs6' }))).toMatchObject({ label: 'unsafe', categories: ['S6'], worstPath: 'conversation[1]' });
    const out = await guard.check(conv('output', user('zzs5 please'), assistant('here you go: zzs11')));
    expect(out).toMatchObject({ label: 'unsafe', categories: ['S11'], worstPath: 'conversation[1]' });
  });

  it('includes the answer\'s tool calls on output', async () => {
    const v = await guard.check(conv('output', user('hi'), assistant('', ['send_email({"body":"zzs7"})'])));
    expect(v).toMatchObject({ label: 'unsafe', categories: ['S7'] });
  });

  it('scans long turns in every segment', async () => {
    const v = await guard.check(conv('input', user(`${filler(5000)} zzs4 ${filler(20)}`)));
    expect(v).toMatchObject({ label: 'unsafe', categories: ['S4'] });
    // "User:" takes template tokens in every segment, so segments hold fewer text tokens than 510.
    expect(v.segmentsScanned).toBeGreaterThanOrEqual(Math.ceil(5021 / 510));
  });

  it('falls back to user texts when there is no conversation', async () => {
    const v = await guard.check({ direction: 'input', conversation: [], texts: [{ source: 'user', path: 'prompt', text: 'zzs13' }] });
    expect(v).toMatchObject({ label: 'unsafe', categories: ['S13'], worstPath: 'prompt' });
  });

  it('is safe with nothing to classify', async () => {
    expect(await guard.check(conv('output', user('hi')))).toMatchObject({ label: 'safe', score: 0, segmentsScanned: 0 });
  });
});

describe('category settings', () => {
  it('excluded categories are never reported; a text only they flag is safe', async () => {
    const guard = createContentEncoderGuard({ name: 'lg', modelDir: CONTENT, excludedCategories: ['S6'] });
    await guard.load();
    try {
      const only = await guard.check(conv('input', user('zzs6')));
      expect(only).toMatchObject({ label: 'safe', categories: [] });
      expect(only.score).toBeLessThan(0.5);
      const mixed = await guard.check(conv('input', user('zzs6 zzs8')));
      expect(mixed).toMatchObject({ label: 'unsafe', categories: ['S8'] });
    } finally {
      await guard.close();
    }
  });

  it('when unsafe and no category reaches the threshold, reports the most likely one', async () => {
    const guard = createContentEncoderGuard({ name: 'lg', modelDir: CONTENT, categoryThreshold: 0.999 });
    await guard.load();
    try {
      expect(await guard.check(conv('input', user('zzs14')))).toMatchObject({ label: 'unsafe', categories: ['S14'] });
    } finally {
      await guard.close();
    }
  });

  it('rejects a threshold outside (0, 1]', () => {
    expect(() => createContentEncoderGuard({ name: 'lg', modelDir: CONTENT, categoryThreshold: 0 })).toThrow(/categoryThreshold/);
  });
});
