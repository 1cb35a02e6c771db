import OpenAI, { InternalServerError } from 'openai';
import { readEntries } from '../../../gateway/audit/auditQuery';
import { startFakeGuardServer, type FakeGuardServer, type RecordedRequest } from '../../support/fakeGuardServers';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';
import { responsePayloads } from '../../bypass/support';

/**
 * Issue 17: on /v1/responses a guard fault is a fault, as on chat: 503 guard_unavailable with
 * Retry-After (never content_policy_violation), the answer withheld, an audit record that says
 * error; mid-stream (window mode) an `error` event with code guard_unavailable after the checked
 * text, nothing unchecked.
 */
function remotePolicy(baseUrl: string, model: string, streaming: string): string {
  return remoteLlamaGuardPolicy(baseUrl, model, { guard: { timeout_ms: 400 }, streaming: streaming.split('\n').map((l) => l.trim()) });
}

/** Output checks carry the answer as the last (assistant) turn. */
const isOutputCheck = (req: RecordedRequest) => {
  const messages = req.body.messages as { role: string }[] | undefined;
  return messages?.[messages.length - 1]?.role === 'assistant';
};
const post = (gw: RealGateway, body: Record<string, unknown>) => fetch(`${gw.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', ...body }) });

describe.each([
  ['buffer', 'mode: buffer'],
  ['window', 'mode: window\n  window_tokens: 4\n  overlap_tokens: 1'],
])('guard faults on /v1/responses (%s mode)', (mode, streaming) => {
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm');
    gw = await startRealGateway({ policy: remotePolicy(fake.baseUrl, fake.model, streaming) });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  test('input check fails: the openai client gets a retryable 503 guard_unavailable, nothing reaches the engine', async () => {
    fake.behave({ kind: 'error', status: 503, message: 'overloaded' });
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
    const before = gw.engine.stats.requests;
    const err = await client.responses.create({ model: 'dev', input: 'hello' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect({ status: (err as InternalServerError).status, code: (err as InternalServerError).code }).toEqual({ status: 503, code: 'guard_unavailable' });
    expect((err as InternalServerError).headers?.get('retry-after')).toBeTruthy();
    expect(gw.engine.stats.requests).toBe(before);
    expect(readEntries(gw.auditDir).entries.at(-1)).toMatchObject({ route: '/v1/responses', action: 'error', status: 503, error: { type: 'guard_unavailable' } });
  });

  test('output check fails on a whole answer: 503, the answer withheld, audited with the output phase', async () => {
    fake.behave((req) => (isOutputCheck(req) ? { kind: 'error', status: 503, message: 'overloaded' } : { kind: 'answer', text: 'safe' }));
    await gw.script({ reply: 'SECRET-ANSWER-TEXT about cakes' });
    const res = await post(gw, { input: 'cakes?' });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('SECRET-ANSWER-TEXT');
    expect(JSON.parse(text).error).toMatchObject({ code: 'guard_unavailable', safety: { direction: 'output' } });
    const entry = readEntries(gw.auditDir).entries.at(-1)!;
    expect(entry).toMatchObject({ action: 'error', status: 503 });
    expect(entry.phases.map((p) => [p.direction, p.action])).toEqual([
      ['input', 'allow'],
      ['output', 'error'],
    ]);
  });

  test(mode === 'buffer' ? 'output check fails on a stream: 503 before any byte' : 'output check fails mid-stream: checked text, then an error event (guard_unavailable), nothing unchecked', async () => {
    // buffer mode checks once, the whole answer; window mode's first window passes, the next one hangs.
    let outputChecks = 0;
    const passing = mode === 'buffer' ? 0 : 1;
    fake.behave((req) => (isOutputCheck(req) && ++outputChecks > passing ? { kind: 'hang' } : { kind: 'answer', text: 'safe' }));
    await gw.script({ reply: 'one two three four five six seven UNCHECKED eight nine ten eleven' });
    const res = await post(gw, { input: 'count for me', stream: true });
    const text = await res.text();
    expect(text).not.toContain('UNCHECKED');
    if (mode === 'buffer') {
      expect(res.status).toBe(503);
      expect(JSON.parse(text).error.code).toBe('guard_unavailable');
    } else {
      expect(res.status).toBe(200);
      const events = responsePayloads(text);
      expect(JSON.stringify(events)).toContain('one');
      expect(events.at(-1)).toMatchObject({ type: 'error', code: 'guard_unavailable', error: { code: 'guard_unavailable', safety: { direction: 'output' } } });
    }
    expect(readEntries(gw.auditDir).entries.at(-1)).toMatchObject({ route: '/v1/responses', action: 'error', status: 503, error: { type: 'guard_unavailable' } });
  });
});
