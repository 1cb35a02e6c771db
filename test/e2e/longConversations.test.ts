/**
 * Issue 14, end to end: whole 128K-token conversations through the gateway (every segment and
 * every fine window of both guards, timeouts that grow with the text), and verdicts reused across
 * the turns of a chat and thrown away by a policy change. Real gateway, dev engine, official
 * `openai` client, the tiny fixture ONNX models (a marker word such as `zzjailbreak` is flagged
 * wherever it sits; test/fixtures/README.md). No timing assertions.
 */
import OpenAI, { BadRequestError } from 'openai';
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { toAuditEntry } from '../../gateway/audit/auditEntry';
import { countTokensSync } from '../../gateway/access/tokens/llama3Tokens';
import { captureContent } from '../../gateway/telemetry/contentCapture';
import type { RequestRecord } from '../../gateway/record/requestRecord';
import { PolicyDir } from '../integration/policies/policyDir';
import { FIXTURE_POLICY, startHarness, type Harness } from '../support/gatewayHarness';

const WORDS = ['hello', 'world', 'please', 'tell', 'the', 'weather', 'today', 'for', 'my', 'people', 'time', 'day', 'good', 'make', 'work', 'know', 'year', 'way', 'back', 'new', 'first'];

/** `n` benign words (one fixture token, about one Llama 3 token each), pseudo-random, in sentences and lines. */
function words(n: number, seed: number): string {
  let state = (seed * 2654435761 + 1) >>> 0;
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    out.push(WORDS[(state >>> 16) % WORDS.length]! + ((i + 1) % 12 === 0 ? ((i + 1) % 48 === 0 ? '.\n' : '.') : ''));
  }
  return out.join(' ');
}

/** A chat of `turns` user/assistant pairs of `perMessage` words each, ending on a user turn. */
function conversation(turns: number, perMessage: number, jailbreakAtWord?: number): ChatCompletionMessageParam[] {
  const messages: ChatCompletionMessageParam[] = [];
  let at = 0;
  for (let t = 0; t < turns; t++) {
    let user = words(perMessage, t);
    // In the user turn that holds word `jailbreakAtWord`, or the first one after it.
    if (jailbreakAtWord !== undefined && jailbreakAtWord < at + perMessage && !messages.some((m) => String(m.content).includes('zzjailbreak'))) {
      const parts = user.split(' ');
      parts.splice(Math.max(0, jailbreakAtWord - at), 0, 'zzjailbreak');
      user = parts.join(' ');
    }
    messages.push({ role: 'user', content: user });
    at += perMessage;
    if (t < turns - 1) {
      messages.push({ role: 'assistant', content: words(perMessage, t + 100) });
      at += perMessage;
    }
  }
  return messages;
}

/** A policy file (fine windows on, so every window of the long texts is scanned too) extending the fixture policy. */
function policyText(threshold: number): string {
  return [
    'id: long',
    `extends: ${FIXTURE_POLICY}`,
    'guards:',
    '  prompt_guard:',
    '    type: prompt_guard',
    `    model: ${FIXTURE_POLICY.replace(/policies\/fixture\.yaml$/, 'models/prompt-guard-v1-tiny')}`,
    '    fine_window_tokens: 64',
    '  llama_guard:',
    '    type: llama_guard',
    '    backend: encoder',
    `    model: ${FIXTURE_POLICY.replace(/policies\/fixture\.yaml$/, 'models/content-guard-tiny')}`,
    '    fine_window_tokens: 64',
    'input:',
    '  - id: jailbreak',
    '    guard: prompt_guard',
    '    sources: [user]',
    `    threshold: ${threshold}`,
    '',
  ].join('\n');
}

/** The verdicts of the rules that read this conversation (the fixture's tool-source rule has no texts here). */
function inputVerdicts(record: RequestRecord | undefined) {
  return (record?.input?.verdicts ?? []).filter((v) => v.ruleId === 'jailbreak' || v.ruleId === 'unsafe-prompt').map((v) => v.verdict);
}

describe('long conversations and cached verdicts through the gateway', () => {
  const files = new PolicyDir();
  let h: Harness;
  let client: OpenAI;

  beforeAll(async () => {
    h = await startHarness({ policy: files.write('long.yaml', policyText(0.9)) });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'test-key', maxRetries: 0, timeout: 120_000 });
  });
  afterAll(async () => {
    await h?.close();
    files.remove();
  });

  const lastRecord = () => h.recorder.records[h.recorder.records.length - 1];

  test('a 120K-token benign conversation is answered 200, every segment and fine window of both guards scanned', async () => {
    await h.script({ reply: 'Here is a summary of our long chat.' });
    const messages = conversation(30, 2000);
    const { data, response } = await client.chat.completions.create({ model: 'dev', messages, max_tokens: 64 }).withResponse();
    expect(response.status).toBe(200);
    expect(data.choices[0]!.message.content).toBe('Here is a summary of our long chat.');
    expect(response.headers.get('x-safety-verdict')).toBe('allow');
    const verdicts = inputVerdicts(lastRecord());
    expect(verdicts.map((v) => v.guard).sort()).toEqual(['llama_guard', 'prompt_guard']);
    for (const v of verdicts) {
      expect(v.error).toBeUndefined();
      // 118K words in 59 long turns, each scanned on its own (long turns are not joined): hundreds
      // of half-overlapping segments and thousands of fine windows per guard.
      expect(v.segmentsScanned).toBeGreaterThan(200);
      expect(v.windowsScanned).toBeGreaterThan(2000);
    }
  });

  test('a jailbreak at token 100K of a 128K-token conversation is blocked', async () => {
    // 117,810 words: about 127,500 Llama 3 tokens (under the 131,072-token context check), the
    // marker about 100K tokens in, as the gateway's own tokenizer counts them.
    const messages = conversation(32, 1870, 92_300);
    const texts = messages.map((m) => String(m.content));
    const at = texts.findIndex((t) => t.includes('zzjailbreak'));
    const before = texts.slice(0, at).join(' ') + ' ' + texts[at]!.slice(0, texts[at]!.indexOf('zzjailbreak'));
    expect(countTokensSync(texts.join(' '))).toBeGreaterThan(127_000);
    expect(Math.abs(countTokensSync(before) - 100_000)).toBeLessThan(2_000);
    const blocked = await client.chat.completions.create({ model: 'dev', messages, max_tokens: 64 }).catch((e: unknown) => e);
    expect(blocked).toBeInstanceOf(BadRequestError);
    const err = blocked as BadRequestError;
    expect(err.code).toBe('content_policy_violation');
    expect((err.error as { safety: Record<string, unknown> }).safety).toMatchObject({ guard: 'prompt_guard', label: 'JAILBREAK', rule_id: 'jailbreak' });
    const pg = inputVerdicts(lastRecord()).find((v) => v.guard === 'prompt_guard')!;
    expect(pg.worstPath).toBe(`messages[${at}].content`);
    expect(pg.score).toBeGreaterThan(0.9);
  });

  test('turn after turn of a growing chat, earlier messages are answered from the cache and the audit record says so', async () => {
    const chat: ChatCompletionMessageParam[] = [];
    const hits: { texts: number; segments: number }[] = [];
    for (let turn = 0; turn < 6; turn++) {
      chat.push({ role: 'user', content: `${words(300, 500 + turn)} question ${turn}` });
      await h.script({ reply: `Answer number ${turn}.` });
      const completion = await client.chat.completions.create({ model: 'dev', messages: chat, max_tokens: 32 });
      chat.push({ role: 'assistant', content: completion.choices[0]!.message.content ?? '' });
      const record = lastRecord()!;
      const pg = inputVerdicts(record).find((v) => v.guard === 'prompt_guard')!;
      hits.push(pg.cacheHits!);
      const entry = toAuditEntry(record, captureContent(record.content, 'none', 'salt'), 'salt');
      const audited = entry.phases[0]!.verdicts.find((v) => v.guard === 'prompt_guard')!;
      expect(audited.cache_hits).toEqual(pg.cacheHits);
    }
    // Turn 1 has nothing to reuse; every later turn reuses each earlier user message whole, and
    // the join of all user messages reuses its unchanged segments and windows.
    expect(hits[0]!.texts).toBe(0);
    for (let turn = 2; turn < 6; turn++) {
      expect(hits[turn]!.texts).toBeGreaterThanOrEqual(turn);
      expect(hits[turn]!.segments).toBeGreaterThan(hits[turn - 1]!.segments);
    }
  });

  test('a new policy version scans everything again', async () => {
    const messages = conversation(2, 400);
    await client.chat.completions.create({ model: 'dev', messages, max_tokens: 16 });
    const { response } = await client.chat.completions.create({ model: 'dev', messages, max_tokens: 16 }).withResponse();
    const before = response.headers.get('x-safety-policy');
    const repeated = inputVerdicts(lastRecord());
    // The same request again: every text, so every segment and window, from the cache.
    for (const v of repeated) expect(v.cacheHits).toEqual({ texts: v.guard === 'prompt_guard' ? 2 : 3, segments: v.segmentsScanned + (v.windowsScanned ?? 0) });

    files.save('long.yaml', policyText(0.91));
    expect((await h.gateway.policies.reload()).status).toBe('reloaded');
    const after = await client.chat.completions.create({ model: 'dev', messages, max_tokens: 16 }).withResponse();
    expect(after.response.headers.get('x-safety-policy')).not.toBe(before);
    // Nothing of the old version is reused: no text, and only rows that repeat within this request
    // (a message's windows are also the first windows of the join) can come from the cache.
    for (const v of inputVerdicts(lastRecord())) {
      expect(v.cacheHits!.texts).toBe(0);
      expect(v.cacheHits!.segments).toBeLessThan((v.segmentsScanned + (v.windowsScanned ?? 0)) / 2);
    }
    // ... and the new version's verdicts are cached in turn.
    await client.chat.completions.create({ model: 'dev', messages, max_tokens: 16 });
    expect(inputVerdicts(lastRecord()).every((v) => v.cacheHits!.texts > 0)).toBe(true);
  });
});
