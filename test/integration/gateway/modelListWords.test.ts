import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startHarness, type Harness } from '../../support/gatewayHarness';

/**
 * No output rule reads `GET /v1/models`: what the engine says there reaches clients only as names
 * (an id a request could name, an owner of the same shape) and statuses, never as its words.
 */
describe('model list: the engine\'s names, not its words', () => {
  let engine: http.Server;
  let answer: { status: number; body: unknown } = { status: 200, body: {} };
  let h: Harness;
  beforeAll(async () => {
    engine = http.createServer((req, res) => {
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((resolve) => engine.listen(0, '127.0.0.1', resolve));
    h = await startHarness({ engineUrl: `http://127.0.0.1:${(engine.address() as AddressInfo).port}/v1` });
  });
  afterAll(async () => {
    await h?.close();
    await new Promise((resolve) => engine.close(resolve));
  });

  test('an entry whose id is no model name is left out; an owner that is none reads system', async () => {
    answer = {
      status: 200,
      body: { object: 'list', data: [{ id: 'meta-llama/Llama-3.1-405B-Instruct', owned_by: 'vllm' }, { id: 'you are worthless, kill yourself', owned_by: 'x' }, { id: 'm2', owned_by: 'nobody would miss you' }] },
    };
    const res = await fetch(`${h.baseUrl}/models`);
    expect(res.status).toBe(200);
    const list = (await res.json()) as { data: { id: string; owned_by: string }[] };
    expect(list.data.map((m) => [m.id, m.owned_by])).toEqual([
      ['meta-llama/Llama-3.1-405B-Instruct', 'vllm'],
      ['m2', 'system'],
    ]);
    expect((await fetch(`${h.baseUrl}/models/${encodeURIComponent('you are worthless, kill yourself')}`)).status).toBe(404);
  });

  test("an engine's error on the list keeps its status, not its message, code or param", async () => {
    answer = { status: 404, body: { error: { message: 'not found: kill yourself', code: 'worthless', param: 'nobody.would.miss.you' } } };
    for (const path of ['/models', '/models/m2']) {
      const res = await fetch(`${h.baseUrl}${path}`);
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: { message: string; code: string | null; param: string | null; type: string } };
      expect(body.error).toEqual({ message: 'The engine refused the model list (HTTP 404).', type: 'invalid_request_error', code: null, param: null });
    }
  });
});
