import OpenAI, { BadRequestError, InternalServerError } from 'openai';
import { readEntries } from '../../../gateway/audit/auditQuery';
import { startFakeGuardServer, type FakeGuardServer, type RecordedRequest } from '../../support/fakeGuardServers';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';
import { readSse } from '../../support/gatewayHarness';
import { startRealGateway, type RealGateway } from '../telemetry/realGateway';
import { closedPort } from '../../support/closedPort';

/**
 * Faults are faults: a remote Llama Guard (backend `openai`) that is down or hangs must give the
 * client a retryable 503 guard_unavailable (never 400 content_policy_violation), leave an audit
 * record that says error, and take the replica out of /readyz until the guard works again.
 */
type Json = { error: { code: string; type: string; message: string; safety?: Record<string, unknown> } };

function remotePolicy(baseUrl: string, model: string, streaming = 'mode: buffer'): string {
  return remoteLlamaGuardPolicy(baseUrl, model, { guard: { timeout_ms: 400 }, streaming: streaming.split('\n').map((l) => l.trim()) });
}


const readyz = async (gw: RealGateway) => {
  const res = await fetch(`${gw.gateway.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; problems: Record<string, string> } };
};

/** Output checks carry the answer as the last (assistant) turn. */
const isOutputCheck = (req: RecordedRequest) => {
  const messages = req.body.messages as { role: string }[] | undefined;
  return messages?.[messages.length - 1]?.role === 'assistant';
};

describe('a remote guard that is down (nothing listens on its port)', () => {
  let gw: RealGateway;
  const log: string[] = [];
  beforeAll(async () => {
    const policy = remotePolicy(`http://127.0.0.1:${await closedPort()}/v1`, 'meta-llama/Llama-Guard-3-8B');
    gw = await startRealGateway({ policy, config: { guards: { unready_after_failures: 2, probe_timeout_ms: 500 } }, log: (line) => log.push(line) });
  });
  afterAll(async () => gw?.close());

  test('503 guard_unavailable with Retry-After, not a content verdict; nothing reaches the engine', async () => {
    const res = await gw.chat({ messages: [{ role: 'user', content: 'Plan a birthday party.' }] });
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('x-safety-verdict')).toBe('error');
    // Before the engine ran, a retry costs little: the SDKs may retry on their own.
    expect(res.headers.get('x-should-retry')).toBeNull();
    const body = (await res.json()) as Json;
    expect(body.error).toMatchObject({ type: 'api_error', code: 'guard_unavailable' });
    expect(body.error.safety).toMatchObject({ guards: ['llama_guard'], error_types: ['unavailable'], direction: 'input' });
    expect(JSON.stringify(body)).not.toMatch(/127\.0\.0\.1|ECONNREFUSED|content_policy_violation/);
    expect(gw.engine.requests).toHaveLength(0);
  });

  test('the official openai client sees a retryable server error (503, code guard_unavailable), not a BadRequestError', async () => {
    const client = new OpenAI({ baseURL: gw.baseUrl, apiKey: 'local', maxRetries: 0 });
    const err = await client.chat.completions.create({ model: 'dev', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(err).not.toBeInstanceOf(BadRequestError);
    expect((err as InternalServerError).status).toBe(503);
    expect((err as InternalServerError).code).toBe('guard_unavailable');
    expect((err as InternalServerError).headers?.get('retry-after')).toBeTruthy();
  });

  test('the audit record says error (a guard fault), not block', () => {
    const [entry] = readEntries(gw.auditDir).entries;
    expect(entry).toMatchObject({ action: 'error', status: 503, error: { type: 'guard_unavailable' } });
    expect(entry.phases[0]).toMatchObject({ direction: 'input', action: 'error' });
    expect(entry.phases[0].verdicts[0]).toMatchObject({ guard: 'llama_guard', error_type: 'unavailable' });
  });

  test('/readyz: not ready once the required guard failed its last checks, and it says which (the reason only in the log: /readyz answers anyone)', async () => {
    await (await gw.chat({ messages: [{ role: 'user', content: 'again' }] })).arrayBuffer();
    const ready = await readyz(gw);
    expect(ready.status).toBe(503);
    expect(ready.body.problems.guards).toMatch(/llama_guard \(\d+ checks failed in a row, last unavailable at .*; the reason is in the gateway's log\)/);
    expect(ready.body.problems.guards).not.toMatch(/127\.0\.0\.1|ECONNREFUSED/);
  });

  test("the operator's log says why, once a minute per kind of failure, not once per request", () => {
    const lines = log.filter((l) => l.startsWith('guard llama_guard'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^guard llama_guard \(meta-llama\/Llama-Guard-3-8B\) failed: unavailable: http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions: .*ECONNREFUSED/);
    expect(lines[0]).not.toMatch(/Plan a birthday party|again/);
  });
});

describe('a remote guard that hangs, then recovers', () => {
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm');
    gw = await startRealGateway({ policy: remotePolicy(fake.baseUrl, fake.model), config: { guards: { unready_after_failures: 2, probe_timeout_ms: 500 } } });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  test('healthy: answered, and ready', async () => {
    fake.behave({ kind: 'answer', text: 'safe' });
    expect((await gw.chat({ messages: [{ role: 'user', content: 'hello' }] })).status).toBe(200);
    expect((await readyz(gw)).status).toBe(200);
  });

  test('input check times out: 503 guard_unavailable (timeout), audited as error', async () => {
    fake.behave({ kind: 'hang' });
    for (let i = 0; i < 2; i++) {
      const res = await gw.chat({ messages: [{ role: 'user', content: `question ${i}` }] });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBeTruthy();
      expect(((await res.json()) as Json).error).toMatchObject({ code: 'guard_unavailable', safety: { error_types: ['timeout'] } });
    }
    const entries = readEntries(gw.auditDir).entries.slice(-2);
    expect(entries.map((e) => [e.action, e.status, e.error?.type])).toEqual([
      ['error', 503, 'guard_unavailable'],
      ['error', 503, 'guard_unavailable'],
    ]);
    expect((await readyz(gw)).status).toBe(503);
  });

  test('a client that leaves while the guard hangs: recorded as 499 client_closed, not as a guard outage', async () => {
    fake.behave({ kind: 'hang' });
    const before = readEntries(gw.auditDir).entries.length;
    const controller = new AbortController();
    const request = fetch(`${gw.gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'leaving soon' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    setTimeout(() => controller.abort(), 100); // well inside the guard's 400 ms timeout
    await request;
    let entries = readEntries(gw.auditDir).entries;
    for (let i = 0; i < 40 && entries.length === before; i++) {
      await new Promise((r) => setTimeout(r, 25));
      entries = readEntries(gw.auditDir).entries;
    }
    const entry = entries[entries.length - 1];
    // no verdict was reached (action error), and no guard failed: status and error name the client
    expect([entry.status, entry.error?.type, entry.action]).toEqual([499, 'client_closed', 'error']);
    // The check the client cut short is cancelled, not a guard timeout (which dashboards and the guard-error alert count).
    const verdicts = entry.phases.filter((p) => p.direction === 'input').flatMap((p) => p.verdicts);
    expect(verdicts.length).toBeGreaterThan(0);
    for (const v of verdicts) expect([v.label, v.error_type]).toEqual(['cancelled', 'cancelled']);
  });

  test('the guard works again: /readyz probes it and the replica is ready without any traffic', async () => {
    fake.behave({ kind: 'answer', text: 'safe' });
    const ready = await readyz(gw);
    expect(ready.status).toBe(200);
    expect(ready.body.problems.guards).toBeUndefined();
    expect((await gw.chat({ messages: [{ role: 'user', content: 'hello again' }] })).status).toBe(200);
  });

  test('it fails again: the probe reaches the server, never a verdict cached by the last probe, so the replica is not ready', async () => {
    // The previous test's probe of "Hello" succeeded: a verdict cache keeps it.
    fake.behave({ kind: 'hang' });
    for (let i = 0; i < 2; i++) expect((await gw.chat({ messages: [{ role: 'user', content: `question again ${i}` }] })).status).toBe(503);
    const ready = await readyz(gw);
    expect(ready.status).toBe(503);
    expect(ready.body.problems.guards).toBeDefined();
    fake.behave({ kind: 'answer', text: 'safe' });
    expect((await readyz(gw)).status).toBe(200);
  });

  test('output check fails on a non-streamed answer: 503, the answer withheld, audited with the output phase', async () => {
    fake.behave((req) => (isOutputCheck(req) ? { kind: 'error', status: 503, message: 'overloaded' } : { kind: 'answer', text: 'safe' }));
    await gw.script({ reply: 'SECRET-ANSWER-TEXT about cakes' });
    const res = await gw.chat({ messages: [{ role: 'user', content: 'cakes?' }] });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBeTruthy();
    // After the engine answered, an automatic retry would run the whole generation again.
    expect(res.headers.get('x-should-retry')).toBe('false');
    const text = await res.text();
    expect(text).not.toContain('SECRET-ANSWER-TEXT');
    expect(JSON.parse(text).error).toMatchObject({ code: 'guard_unavailable', safety: { direction: 'output' } });
    const entry = readEntries(gw.auditDir).entries.at(-1)!;
    expect(entry).toMatchObject({ action: 'error', status: 503, error: { type: 'guard_unavailable' } });
    expect(entry.phases.map((p) => [p.direction, p.action])).toEqual([
      ['input', 'allow'],
      ['output', 'error'],
    ]);
  });

  test('output check fails on a streamed answer (buffer): 503 before any byte, nothing of the answer', async () => {
    await gw.script({ reply: 'SECRET-ANSWER-TEXT streamed' });
    const res = await gw.chat({ stream: true, messages: [{ role: 'user', content: 'stream it' }] });
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('SECRET-ANSWER-TEXT');
    expect(JSON.parse(text).error.code).toBe('guard_unavailable');
  });
});

describe('a remote output guard that fails mid-stream (window mode)', () => {
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm');
    gw = await startRealGateway({ policy: remotePolicy(fake.baseUrl, fake.model, 'mode: window\n  window_tokens: 4\n  overlap_tokens: 1') });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  test('checked text is released, then an error event (guard_unavailable) and [DONE], no unchecked text', async () => {
    let outputChecks = 0;
    fake.behave((req) => (isOutputCheck(req) && ++outputChecks > 1 ? { kind: 'hang' } : { kind: 'answer', text: 'safe' }));
    await gw.script({ reply: 'one two three four five six seven UNCHECKED eight nine ten eleven' });
    const res = await gw.chat({ stream: true, messages: [{ role: 'user', content: 'count for me' }] });
    expect(res.status).toBe(200);
    const events = await readSse(res);
    expect(events.at(-1)).toBe('[DONE]');
    const error = JSON.parse(events.at(-2)!) as Json;
    expect(error.error.code).toBe('guard_unavailable');
    const released = events.slice(0, -2).join('');
    expect(released).toContain('one');
    expect(released).not.toContain('UNCHECKED');
    const entry = readEntries(gw.auditDir).entries.at(-1)!;
    expect(entry).toMatchObject({ action: 'error', status: 503, error: { type: 'guard_unavailable' } });
    expect(entry.phases.at(-1)).toMatchObject({ direction: 'output', action: 'error' });
  });
});

describe('several answers, one output check faulting', () => {
  let fake: FakeGuardServer;
  let gw: RealGateway;
  beforeAll(async () => {
    fake = await startFakeGuardServer('vllm');
    gw = await startRealGateway({ policy: remotePolicy(fake.baseUrl, fake.model) });
  });
  afterAll(async () => {
    await gw?.close();
    await fake?.close();
  });

  test("every choice's verdict is recorded, the faulting one's and the others' (the 503 waits for all)", async () => {
    const answer = (i: number, content: string) => ({ index: i, message: { role: 'assistant', content }, finish_reason: 'stop' });
    await gw.script({ raw_json: { id: 'chatcmpl-two', object: 'chat.completion', created: 1, model: 'dev', choices: [answer(0, 'ANSWER-ZERO'), answer(1, 'ANSWER-ONE')] } });
    fake.behave((req) => {
      const messages = req.body.messages as { role: string; content: string }[];
      const last = messages[messages.length - 1]!;
      if (last.role !== 'assistant') return { kind: 'answer', text: 'safe' };
      return last.content.includes('ZERO') ? { kind: 'error', status: 503, message: 'overloaded' } : { kind: 'answer', text: 'unsafe\nS1' };
    });
    const res = await gw.chat({ n: 2, messages: [{ role: 'user', content: 'two answers please' }] });
    expect(res.status).toBe(503);
    const entry = readEntries(gw.auditDir).entries.at(-1)!;
    const outputs = entry.phases.filter((p) => p.direction === 'output').map((p) => p.action).sort();
    expect(outputs).toEqual(['block', 'error']);
  });
});
