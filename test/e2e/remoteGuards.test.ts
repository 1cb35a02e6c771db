/**
 * Guards off the gateway's box, end to end: Prompt Guard on a classification server (TEI's
 * /predict, vLLM's /classify) and Llama Guard on two OpenAI-compatible servers, behind the real
 * gateway and the official `openai` client. The servers are loopback stand-ins implementing each
 * documented API (test/support/fakeClassifierServers.ts, fakeGuardServers.ts).
 */
import OpenAI, { BadRequestError, InternalServerError } from 'openai';
import { PolicyDir } from '../integration/policies/policyDir';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { startFakeClassifier, type ClassifierFlavor, type FakeClassifierServer } from '../support/fakeClassifierServers';
import { startFakeGuardServer, type FakeGuardServer, type RecordedRequest } from '../support/fakeGuardServers';

/** Llama Guard's stand-in: unsafe S2 when the conversation holds `zzs2`. */
function judge(req: RecordedRequest) {
  const unsafe = JSON.stringify(req.body.messages ?? req.body.prompt ?? '').includes('zzs2');
  return unsafe ? ({ kind: 'answer', text: 'unsafe\nS2', pUnsafe: 0.97 } as const) : ({ kind: 'answer', text: 'safe', pUnsafe: 0.02 } as const);
}

function policy(pg: FakeClassifierServer, lg: FakeGuardServer[]): string {
  return `id: remote
guards:
  prompt_guard:
    type: prompt_guard
    backend: ${pg.flavor}
    model: ${pg.model}
    url: ${pg.url}
  llama_guard:
    type: llama_guard
    backend: openai
    model: ${lg[0]!.model}
    base_url: [${lg.map((s) => s.baseUrl).join(', ')}]
input:
  - id: jailbreak
    guard: prompt_guard
    sources: [user]
    threshold: 0.9
  - id: unsafe-prompt
    guard: llama_guard
    threshold: 0.5
output:
  - id: unsafe-answer
    guard: llama_guard
    threshold: 0.5
streaming:
  mode: buffer
`;
}

describe.each<ClassifierFlavor>(['tei', 'vllm'])('remote guards through the gateway (Prompt Guard on %s)', (flavor) => {
  const files = new PolicyDir();
  let pg: FakeClassifierServer;
  let lg: FakeGuardServer[];
  let h: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    pg = await startFakeClassifier(flavor);
    lg = [await startFakeGuardServer('vllm'), await startFakeGuardServer('vllm')];
    for (const s of lg) s.behave(judge);
    h = await startHarness({ policy: files.write('remote.yaml', policy(pg, lg)) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', maxRetries: 0 });
  });
  afterAll(async () => {
    await h?.close();
    await pg?.close();
    for (const s of lg ?? []) await s.close();
    files.remove();
  });
  const lastRecord = () => h.recorder.records[h.recorder.records.length - 1]!;

  test('a benign chat is answered; both guards ran on their servers', async () => {
    await h.script({ reply: 'Bread needs flour, water, salt and yeast.' });
    const res = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'How do I bake bread?' }] }).withResponse();
    expect(res.response.headers.get('x-safety-verdict')).toBe('allow');
    expect(res.data.choices[0]!.message.content).toBe('Bread needs flour, water, salt and yeast.');
    expect(pg.requests.length).toBeGreaterThan(0);
    expect(lg[0]!.requests.length + lg[1]!.requests.length).toBeGreaterThanOrEqual(2);
    const verdicts = lastRecord().input!.verdicts.map((v) => v.verdict);
    expect(verdicts.map((v) => v.model).sort()).toEqual([lg[0]!.model, pg.model].sort());
  });

  test('a jailbreak deep in a long message is blocked by Prompt Guard on the classification server', async () => {
    const long = `${'Please read this report about the weather in the valley. '.repeat(800)} zzjailbreak`;
    const err = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: long }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe('content_policy_violation');
    expect(((err as BadRequestError).error as { safety: Record<string, unknown> }).safety).toMatchObject({ guard: 'prompt_guard', rule_id: 'jailbreak', label: 'JAILBREAK' });
    const verdict = lastRecord().input!.verdicts.find((v) => v.ruleId === 'jailbreak')!.verdict;
    expect(verdict.segmentsScanned).toBeGreaterThan(20);
  });

  test('unsafe content is blocked by Llama Guard while one of its two servers is down', async () => {
    lg[0]!.behave({ kind: 'error', status: 503, message: 'Service Unavailable' });
    try {
      const err = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'tell me zzs2 things' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BadRequestError);
      expect(((err as BadRequestError).error as { safety: Record<string, unknown> }).safety).toMatchObject({ guard: 'llama_guard', rule_id: 'unsafe-prompt', categories: ['S2'] });
      await h.script({ reply: 'Fine.' });
      const ok = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'Just say fine.' }] }).withResponse();
      expect(ok.response.status).toBe(200);
    } finally {
      lg[0]!.behave(judge);
    }
  });

  test('the same request again: Prompt Guard answers from its cache, and the record says so', async () => {
    const messages = [{ role: 'user' as const, content: 'What is a good name for a cat?' }];
    await h.script({ reply: 'Mittens.' });
    await client.chat.completions.create({ model: 'dev', messages });
    const sent = pg.requests.length;
    await h.script({ reply: 'Mittens.' });
    await client.chat.completions.create({ model: 'dev', messages });
    expect(pg.requests.length).toBe(sent);
    const pgVerdict = lastRecord().input!.verdicts.find((v) => v.ruleId === 'jailbreak')!.verdict;
    expect(pgVerdict.cacheHits).toEqual({ texts: 1, segments: 1 });
    const lgVerdict = lastRecord().input!.verdicts.find((v) => v.ruleId === 'unsafe-prompt')!.verdict;
    expect(lgVerdict.cacheHits).toEqual({ texts: 1, segments: 0 });
  });

  test('the classification server down: a retryable 503 guard_unavailable, never a content block', async () => {
    pg.fail({ kind: 'error', status: 503, message: 'Model is overloaded' });
    try {
      const err = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'A fresh question about tides?' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InternalServerError);
      expect((err as InternalServerError).status).toBe(503);
      expect((err as InternalServerError).code).toBe('guard_unavailable');
    } finally {
      pg.fail(undefined);
    }
  });
});
