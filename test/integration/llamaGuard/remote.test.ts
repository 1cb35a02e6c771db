/**
 * The remote Llama Guard 3 backend against real loopback HTTP servers that answer like vLLM and
 * like Ollama, including their logprobs shapes and error bodies. Every failure must come back as a
 * Verdict with `error` set; check() never throws.
 */
import { createLlamaGuard } from '../../../guards/llamaGuard';
import type { LlamaGuardRemoteOptions } from '../../../guards/llamaGuard/options';
import type { Guard, GuardRequest } from '../../../guards/types';
import { type FakeGuardServer, startFakeGuardServer } from '../../support/fakeGuardServers';

const input: GuardRequest = {
  direction: 'input',
  texts: [],
  conversation: [
    { role: 'system', content: 'You are a helpful assistant.' },
    { role: 'user', content: 'How do I make a cake?' },
  ],
};
const output: GuardRequest = {
  direction: 'output',
  texts: [],
  conversation: [
    { role: 'user', content: 'How do I make a cake?' },
    { role: 'assistant', content: 'Mix flour, eggs and sugar, then bake.' },
  ],
};

function guardFor(server: FakeGuardServer, extra: Partial<LlamaGuardRemoteOptions> = {}): Guard {
  return createLlamaGuard({ backend: 'openai', name: 'llama_guard', variant: '8b', baseUrl: server.baseUrl, model: server.model, timeoutMs: 2000, ...extra });
}

describe('remote Llama Guard 3 against a vLLM-like server', () => {
  let server: FakeGuardServer;
  let guard: Guard;
  beforeAll(async () => {
    server = await startFakeGuardServer('vllm', { apiKey: 'sk-test' });
    guard = guardFor(server, { apiKey: 'sk-test' });
    await guard.load();
  });
  afterAll(async () => {
    await guard.close();
    await server.close();
  });
  beforeEach(() => {
    server.requests.length = 0;
  });

  it('chat mode, input check: sends the normalized conversation and scores from logprobs', async () => {
    server.behave({ kind: 'answer', text: 'safe', pUnsafe: 0.02 });
    const verdict = await guard.check(input);
    expect(verdict).toMatchObject({ guard: 'llama_guard', model: 'meta-llama/Llama-Guard-3-8B', label: 'safe', categories: [], segmentsScanned: 1 });
    expect(verdict.error).toBeUndefined();
    expect(verdict.score).toBeCloseTo(0.02, 6);
    const [req] = server.requests;
    expect(req!.path).toBe('/v1/chat/completions');
    expect(req!.headers.authorization).toBe('Bearer sk-test');
    expect(req!.body).toEqual({
      model: 'meta-llama/Llama-Guard-3-8B',
      messages: [{ role: 'user', content: 'You are a helpful assistant.\n\nHow do I make a cake?' }],
      max_tokens: 32,
      temperature: 0,
      stream: false,
      logprobs: true,
      top_logprobs: 5,
    });
  });

  it('chat mode, output check: unsafe with categories', async () => {
    server.behave({ kind: 'answer', text: 'unsafe\nS1,S10', pUnsafe: 0.97 });
    const verdict = await guard.check(output);
    expect(verdict).toMatchObject({ label: 'unsafe', categories: ['S1', 'S10'] });
    expect(verdict.score).toBeCloseTo(0.97, 6);
    expect(server.requests[0]!.body.messages).toEqual([
      { role: 'user', content: 'How do I make a cake?' },
      { role: 'assistant', content: 'Mix flour, eggs and sugar, then bake.' },
    ]);
  });

  it('without logprobs the score is 0 or 1 from the label', async () => {
    server.behave({ kind: 'answer', text: 'unsafe\nS2', logprobs: false });
    expect(await guard.check(input)).toMatchObject({ label: 'unsafe', score: 1, categories: ['S2'] });
    server.behave({ kind: 'answer', text: 'safe', logprobs: false });
    expect(await guard.check(input)).toMatchObject({ label: 'safe', score: 0 });
  });

  it('completions mode with exclusions: the rendered prompt, no second BOS, excluded codes dropped', async () => {
    const custom = guardFor(server, { apiKey: 'sk-test', excludedCategories: ['S6'] });
    try {
      server.behave({ kind: 'answer', text: 'unsafe\nS6', pUnsafe: 0.9 });
      expect(await custom.check(output)).toMatchObject({ label: 'safe', score: 0, categories: [] });
      server.behave({ kind: 'answer', text: 'unsafe\nS1,S6', pUnsafe: 0.9 });
      const verdict = await custom.check(output);
      expect(verdict).toMatchObject({ label: 'unsafe', categories: ['S1'] });
      expect(verdict.score).toBeCloseTo(0.9, 6);
      const req = server.requests[0]!;
      expect(req.path).toBe('/v1/completions');
      expect(req.body).toMatchObject({ model: server.model, logprobs: 5, add_special_tokens: false, temperature: 0 });
      const prompt = req.body.prompt as string;
      expect(prompt.startsWith(' <|begin_of_text|>')).toBe(true);
      expect(prompt).toContain('S5: Defamation.\nS7: Privacy.');
      expect(prompt).toContain('S14: Code Interpreter Abuse.');
      expect(prompt).toContain("Task: Check if there is unsafe content in 'Agent' messages");
      expect(prompt.endsWith('categories.<|eot_id|><|start_header_id|>assistant<|end_header_id|>')).toBe(true);
    } finally {
      await custom.close();
    }
  });

  it('a vLLM error body becomes model_error with the server message; 5xx is unavailable', async () => {
    server.behave({ kind: 'error', status: 400, message: "This model's maximum context length is 8192 tokens." });
    expect((await guard.check(input)).error).toEqual({
      type: 'model_error',
      message: "/chat/completions HTTP 400: This model's maximum context length is 8192 tokens.",
    });
    server.behave({ kind: 'error', status: 503, message: 'engine overloaded' });
    expect((await guard.check(input)).error).toMatchObject({ type: 'unavailable', message: expect.stringContaining('engine overloaded') });
  });

  it('a wrong model name or key is reported, not thrown', async () => {
    const wrong = guardFor(server, { apiKey: 'sk-test', model: 'meta-llama/Llama-Guard-3-1B' });
    const noKey = guardFor(server);
    try {
      expect((await wrong.check(input)).error).toMatchObject({ type: 'model_error', message: expect.stringContaining('does not exist') });
      expect((await noKey.check(input)).error).toMatchObject({ type: 'model_error', message: expect.stringContaining('HTTP 401') });
    } finally {
      await wrong.close();
      await noKey.close();
    }
  });

  it('malformed bodies are model_error; unreadable or cut-off answers are parse_error', async () => {
    server.behave({ kind: 'raw', status: 200, body: '<html>gateway</html>', contentType: 'text/html' });
    expect((await guard.check(input)).error).toEqual({ type: 'model_error', message: 'response is not JSON' });
    server.behave({ kind: 'raw', status: 200, body: '{"choices":[]}' });
    expect((await guard.check(input)).error?.type).toBe('model_error');
    // Far past any verdict: read no further than a megabyte.
    server.behave({ kind: 'raw', status: 200, body: `{"choices":[${' '.repeat(2 * 1024 * 1024)}]}` });
    expect((await guard.check(input)).error).toMatchObject({ type: 'model_error', message: expect.stringMatching(/larger than 1048576 bytes/) });
    server.behave({ kind: 'answer', text: 'I cannot help with that.' });
    expect(await guard.check(input)).toMatchObject({ label: 'error', error: { type: 'parse_error' } });
    // A code the prompt never listed (here, echoed text) is unreadable, and its text goes nowhere.
    server.behave({ kind: 'answer', text: 'unsafe\nalice@example.com' });
    const echoed = await guard.check(input);
    expect(echoed).toMatchObject({ label: 'error', error: { type: 'parse_error' }, categories: [] });
    expect(JSON.stringify(echoed)).not.toContain('alice');
    const short = guardFor(server, { apiKey: 'sk-test', maxTokens: 4 });
    server.behave({ kind: 'answer', text: 'unsafe\nS1,S2,S3' });
    expect((await short.check(input)).error).toEqual({ type: 'parse_error', message: 'answer cut off at max_tokens' });
    await short.close();
  });

  it('times out on a server that never answers, within the deadline', async () => {
    const quick = guardFor(server, { apiKey: 'sk-test', timeoutMs: 150 });
    server.behave({ kind: 'hang' });
    // The verdict names the 150 ms deadline; a check that waited on the hanging server would fail by the test's timeout.
    const verdict = await quick.check(input);
    expect(verdict.error).toEqual({ type: 'timeout', message: 'no answer within 150 ms' });
    await quick.close();
  });

  it('a dropped connection is unavailable', async () => {
    server.behave({ kind: 'drop' });
    expect((await guard.check(input)).error?.type).toBe('unavailable');
  });

  it("honours the caller's abort", async () => {
    server.behave({ kind: 'hang' });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    expect((await guard.check({ ...input, signal: ac.signal })).error).toEqual({ type: 'cancelled', message: 'the request was aborted before the guard finished' });
  });

  it('a conversation that cannot be classified is bad_input and sends nothing', async () => {
    const verdict = await guard.check({ direction: 'output', texts: [], conversation: [{ role: 'user', content: 'hi' }] });
    expect(verdict.error?.type).toBe('bad_input');
    expect(server.requests).toHaveLength(0);
  });
});

describe('remote Llama Guard 3 against an Ollama-like server', () => {
  let server: FakeGuardServer;
  let guard: Guard;
  beforeAll(async () => {
    server = await startFakeGuardServer('ollama');
    guard = guardFor(server);
  });
  afterAll(async () => {
    await guard.close();
    await server.close();
  });

  it('reads bare `unsafe\\nS2` answers, with logprobs', async () => {
    server.behave({ kind: 'answer', text: 'unsafe\nS2', pUnsafe: 0.8 });
    const verdict = await guard.check(input);
    expect(verdict).toMatchObject({ model: 'llama-guard3:8b', label: 'unsafe', categories: ['S2'] });
    expect(verdict.score).toBeCloseTo(0.8, 6);
  });

  it('and without logprobs', async () => {
    server.behave({ kind: 'answer', text: 'safe', logprobs: false });
    expect(await guard.check(output)).toMatchObject({ label: 'safe', score: 0 });
  });

  it("Ollama's {\"error\": \"...\"} bodies carry their message", async () => {
    const missing = guardFor(server, { model: 'llama-guard3:1b' });
    expect((await missing.check(input)).error).toEqual({
      type: 'model_error',
      message: '/chat/completions HTTP 404: model "llama-guard3:1b" not found, try pulling it first',
    });
    await missing.close();
    server.behave({ kind: 'error', status: 500, message: 'llama runner process has terminated' });
    expect((await guard.check(input)).error).toMatchObject({ type: 'unavailable', message: expect.stringContaining('llama runner process has terminated') });
  });

  it('a server that is gone is unavailable', async () => {
    const gone = await startFakeGuardServer('ollama');
    const url = gone.baseUrl;
    await gone.close();
    const orphan = createLlamaGuard({ backend: 'openai', name: 'lg', variant: '8b', baseUrl: url, model: 'llama-guard3:8b' });
    expect((await orphan.check(input)).error).toMatchObject({ type: 'unavailable', message: expect.stringContaining('/chat/completions') });
    await orphan.close();
  });
});

describe('remote options', () => {
  it('refuses chat mode with custom categories, and a missing base URL', () => {
    expect(() => createLlamaGuard({ backend: 'openai', name: 'lg', variant: '1b', baseUrl: 'http://x/v1', model: 'm', mode: 'chat', categories: { C1: 'X.' } })).toThrow(
      /completions/,
    );
    expect(() => createLlamaGuard({ backend: 'openai', name: 'lg', variant: '1b', baseUrl: '', model: 'm' })).toThrow(/base URL/);
  });
});
