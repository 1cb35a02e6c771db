/**
 * Through the real gateway: Llama Guard on two vLLM-like replicas, one of which answers HTTP 500
 * to every completion (vLLM after an engine fault with VLLM_KEEP_ALIVE_ON_ENGINE_DEATH, or any
 * internal error) while its GET /v1/models health route still answers 200. The other replica
 * works: every request is answered by it (half of them were 503 guard_unavailable).
 */
import { PolicyDir } from '../policies/policyDir';
import { startHarness, type Harness } from '../../support/gatewayHarness';
import { startFakeGuardServer, type FakeGuardServer } from '../../support/fakeGuardServers';

describe('gateway with one Llama Guard replica answering 500', () => {
  const files = new PolicyDir();
  let a: FakeGuardServer;
  let b: FakeGuardServer;
  let h: Harness;
  beforeAll(async () => {
    a = await startFakeGuardServer('vllm');
    b = await startFakeGuardServer('vllm');
    a.behave({ kind: 'error', status: 500, message: 'EngineCore encountered an issue. See stack trace (above) for the root cause.' });
    b.behave({ kind: 'answer', text: 'safe', pUnsafe: 0.02 });
    const policy = `id: lg500
guards:
  llama_guard:
    type: llama_guard
    backend: openai
    model: ${a.model}
    base_url: [${a.baseUrl}, ${b.baseUrl}]
input:
  - id: unsafe-prompt
    guard: llama_guard
    threshold: 0.5
`;
    h = await startHarness({ policy: files.write('lg500.yaml', policy) });
  });
  afterAll(async () => {
    await h?.close();
    await a?.close();
    await b?.close();
    files.remove();
  });

  test('every request is answered (the working replica takes the checks the broken one fails)', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await fetch(`${h.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer test-key' },
        body: JSON.stringify({ model: 'llama-3.1-405b', messages: [{ role: 'user', content: `How do I bake bread, take ${i}?` }] }),
      });
      await res.text();
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 200]);
  });
});
