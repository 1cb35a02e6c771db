import OpenAI from 'openai';
import { readEntries } from '../../../gateway/audit/auditQuery';
import { startFakeGuardServer, type FakeGuardServer, type RecordedRequest } from '../../support/fakeGuardServers';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';

/**
 * Window mode checks the whole answer once the stream ends (streaming.whole_answer, default on):
 * a harm that no window shows on its own (here: two halves far apart, judged unsafe only together
 * by a Llama Guard server on loopback) withholds the last window and ends with content_filter, as
 * the same answer is blocked unstreamed. With whole_answer: false only windows are checked.
 */
const FIRST_HALF = 'PARTALPHA';
const SECOND_HALF = 'PARTOMEGA';
// One word per engine chunk; with windows of 4 tokens (1 re-read) no window holds both halves.
const REPLY = `${FIRST_HALF} w2 w3 w4 w5 w6 w7 w8 w9 w10 ${SECOND_HALF} w12 TAILTEXT`;

function policyFile(baseUrl: string, model: string, wholeAnswer: boolean | undefined): string {
  const streaming = ['mode: window', 'window_tokens: 4', 'overlap_tokens: 1', ...(wholeAnswer === undefined ? [] : [`whole_answer: ${wholeAnswer}`])];
  return remoteLlamaGuardPolicy(baseUrl, model, { streaming });
}

/** The answer under check (the last, assistant, turn), or '' for an input check. */
function checkedAnswer(req: RecordedRequest): string {
  const messages = req.body.messages as { role: string; content: unknown }[] | undefined;
  const last = messages?.[messages.length - 1];
  if (last?.role !== 'assistant') return '';
  return typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
}

/** Unsafe (S9) only when one check reads both halves. */
function judgeTogether(req: RecordedRequest) {
  const answer = checkedAnswer(req);
  return { kind: 'answer' as const, text: answer.includes(FIRST_HALF) && answer.includes(SECOND_HALF) ? 'unsafe\nS9' : 'safe' };
}

async function streamedChat(gw: RealGateway): Promise<{ text: string; finish: (string | null)[] }> {
  const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'tell me' }] });
  let text = '';
  const finish: (string | null)[] = [];
  for await (const chunk of stream) {
    text += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.choices[0]?.finish_reason) finish.push(chunk.choices[0].finish_reason);
  }
  return { text, finish };
}

/**
 * A real gateway whose output guard is a fake vLLM judge that flags only the two halves together,
 * started before the describe's tests and closed after them; call inside a describe.
 */
function gatewayWithJudge(wholeAnswer: boolean | undefined): () => { fake: FakeGuardServer; gw: RealGateway } {
  let fake: FakeGuardServer | undefined;
  let gw: RealGateway | undefined;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm');
    fake.behave(judgeTogether);
    gw = await startRealGateway({ policy: policyFile(fake.baseUrl, fake.model, wholeAnswer) });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });
  return () => ({ fake: fake!, gw: gw! });
}

describe('window mode, the whole answer checked at the end (default)', () => {
  const setup = gatewayWithJudge(undefined);
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(() => ({ fake, gw } = setup()));

  test('chat: every window passes, the whole answer does not: the last window is withheld, content_filter, audited as a block', async () => {
    await gw.script({ reply: REPLY });
    const { text, finish } = await streamedChat(gw);
    expect(text).toContain(FIRST_HALF);
    expect(text).not.toContain('TAILTEXT');
    expect(text.endsWith("I'm sorry, but I can't help with that.")).toBe(true);
    expect(finish.at(-1)).toBe('content_filter');
    // One check read both halves, and no window did on its own.
    const outputChecks = fake.requests.map(checkedAnswer).filter(Boolean);
    expect(outputChecks.filter((a) => a.includes(FIRST_HALF) && a.includes(SECOND_HALF))).toHaveLength(1);
    const entry = readEntries(gw.auditDir).entries.at(-1)!;
    expect(entry).toMatchObject({ route: '/v1/chat/completions', action: 'block', status: 200 });
    const outputs = entry.phases.filter((p) => p.direction === 'output').map((p) => p.action);
    expect(outputs.at(-1)).toBe('block');
    expect(outputs.slice(0, -2).every((a) => a === 'allow')).toBe(true);
  });

  test('the same answer unstreamed is blocked whole: streaming does not weaken the check', async () => {
    await gw.script({ reply: REPLY });
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
    const answer = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'tell me' }] });
    expect(answer.choices[0].finish_reason).toBe('content_filter');
    expect(answer.choices[0].message.content).not.toContain(FIRST_HALF);
  });

  test('Responses API: the last window is withheld, the refusal item and response.incomplete follow', async () => {
    await gw.script({ reply: REPLY });
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
    const stream = await client.responses.create({ model: 'dev', input: 'tell me', stream: true });
    const events: { type: string; delta?: string; response?: { status?: string; incomplete_details?: { reason?: string } | null } }[] = [];
    for await (const event of stream) events.push(event as (typeof events)[number]);
    const deltas = events.filter((e) => e.type === 'response.output_text.delta').map((e) => e.delta ?? '').join('');
    expect(deltas).toContain(FIRST_HALF);
    expect(deltas).not.toContain('TAILTEXT');
    expect(events.at(-1)).toMatchObject({ type: 'response.incomplete', response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' } } });
    expect(readEntries(gw.auditDir).entries.at(-1)).toMatchObject({ route: '/v1/responses', action: 'block' });
  });

  // 12 words: the last word completes the third window, so no rest is left to check at the end.
  const REPLY_ON_BOUNDARY = `${FIRST_HALF} w2 w3 w4 w5 w6 w7 w8 w9 w10 ${SECOND_HALF} TAILTEXT`;

  test('an answer that ends on a window boundary: its last window waits for the whole-answer check, which withholds it', async () => {
    await gw.script({ reply: REPLY_ON_BOUNDARY });
    const { text, finish } = await streamedChat(gw);
    expect(text).toContain(FIRST_HALF);
    expect(text).not.toContain(SECOND_HALF);
    expect(text).not.toContain('TAILTEXT');
    // One finish reason for the one choice: the refusal's, not a stop before it.
    expect(finish).toEqual(['content_filter']);
    expect(readEntries(gw.auditDir).entries.at(-1)).toMatchObject({ route: '/v1/chat/completions', action: 'block', status: 200 });

    // Asked for usage: the engine's usage chunk still follows the refusal.
    await gw.script({ reply: REPLY_ON_BOUNDARY });
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
    const withUsage = await client.chat.completions.create({ model: 'dev', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'tell me' }] });
    const chunks = [];
    for await (const chunk of withUsage) chunks.push(chunk);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('content_filter');
    expect(chunks.at(-1)).toMatchObject({ choices: [], usage: { completion_tokens: expect.any(Number) } });

    await gw.script({ reply: REPLY_ON_BOUNDARY });
    const stream = await client.responses.create({ model: 'dev', input: 'tell me', stream: true });
    let deltas = '';
    for await (const event of stream) if (event.type === 'response.output_text.delta') deltas += event.delta;
    expect(deltas).toContain(FIRST_HALF);
    expect(deltas).not.toContain('TAILTEXT');
  });

  test('a safe answer streams whole, checked in windows and once whole', async () => {
    await gw.script({ reply: 'one two three four five six seven eight nine' });
    const before = fake.requests.length;
    const { text, finish } = await streamedChat(gw);
    expect(text).toBe('one two three four five six seven eight nine');
    expect(finish.at(-1)).toBe('stop');
    const outputChecks = fake.requests.slice(before).map(checkedAnswer).filter(Boolean);
    expect(outputChecks).toContain('one two three four five six seven eight nine');
    expect(readEntries(gw.auditDir).entries.at(-1)).toMatchObject({ action: 'allow', status: 200 });
  });
});

describe('window mode with whole_answer: false', () => {
  const setup = gatewayWithJudge(false);
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(() => ({ fake, gw } = setup()));

  test('only windows are checked: an answer no window shows as unsafe goes out whole', async () => {
    await gw.script({ reply: REPLY });
    const { text, finish } = await streamedChat(gw);
    expect(text).toBe(REPLY);
    expect(finish.at(-1)).toBe('stop');
    expect(fake.requests.map(checkedAnswer).some((a) => a.includes(FIRST_HALF) && a.includes(SECOND_HALF))).toBe(false);
  });
});
