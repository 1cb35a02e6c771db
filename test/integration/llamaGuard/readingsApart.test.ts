/**
 * A remote Llama Guard check that reads each prompt of a /v1/completions list alone makes one call
 * per prompt, four at a time: its deadline grows with the calls (the template each one reads), and
 * the first call that fails stops the others (its error is the verdict, not a timeout after them).
 * A real loopback server answering like vLLM, each answer after a delay.
 */
import { createLlamaGuardRemote } from '../../../guards/llamaGuard/remote';
import type { ChatTurn, Guard, GuardRequest } from '../../../guards/types';
import { type FakeGuardServer, type RecordedRequest, startFakeGuardServer } from '../../support/fakeGuardServers';

const prompts = (n: number, prefix: string): ChatTurn[] => Array.from({ length: n }, (_, i) => ({ role: 'user', content: `${prefix} ${i}`, alone: true }));
const request = (conversation: ChatTurn[]): GuardRequest => ({ direction: 'input', texts: [], conversation });
const lastUser = (req: RecordedRequest) => {
  const messages = req.body.messages as { content: string }[];
  return messages[messages.length - 1]!.content;
};

describe('prompts read apart on a remote Llama Guard', () => {
  let server: FakeGuardServer;
  let guard: Guard;
  beforeAll(async () => {
    server = await startFakeGuardServer('vllm');
    guard = createLlamaGuardRemote({ backend: 'openai', name: 'llama_guard', variant: '8b', baseUrl: server.baseUrl, model: server.model, timeoutMs: 1000, timeoutPer1kTokensMs: 500 });
    await guard.load();
  });
  afterAll(async () => {
    await guard?.close();
    await server?.close();
  });

  test('16 short prompts at 300 ms a call: answered within the deadline their 16 calls get (one call\'s 1 s is too short)', async () => {
    server.behave({ kind: 'answer', text: 'safe', delayMs: 300 });
    const verdict = await guard.check(request(prompts(16, 'Name a river')));
    expect(verdict.error).toBeUndefined();
    expect(verdict.label).toBe('safe');
    expect(server.requests.length).toBe(16);
  });

  test('the first failed call stops the rest: its error is the verdict, and no call starts after it', async () => {
    server.requests.length = 0;
    server.behave((req) => (lastUser(req).includes('Broken 0') ? { kind: 'error', status: 500, message: 'guard server failure' } : { kind: 'answer', text: 'safe', delayMs: 20_000 }));
    const verdict = await guard.check(request(prompts(40, 'Broken')));
    // Not the deadline's timeout after waiting on the others.
    expect(verdict.error?.type).toBe('unavailable');
    // Four prompts were under way when the first failed (its call tried twice: a 500 is retried); none started after it.
    expect(new Set(server.requests.map(lastUser)).size).toBeLessThanOrEqual(4);
  });
});
