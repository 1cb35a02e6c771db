import OpenAI, { BadRequestError } from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { defaultPolicyWithFixtureModels } from './support';

/**
 * Issue 13, input placements: a jailbreak (zzjailbreak), an injection (zzinject) or a harmful
 * request (zzs1) in every place of a request the engine reads. Under the shipped default policy
 * each is blocked by the rule that fits its source, or refused as a field the gateway cannot
 * check; the engine never sees it.
 */
describe('bypass: input placements under the default policy', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels() });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  /** Sends through the openai client; returns the 400's error body (or fails if the request went through). */
  async function blockedVia(messages: ChatCompletionMessageParam[], extra: { tools?: ChatCompletionTool[] } = {}) {
    const before = h.engine.stats.requests;
    const err = await client.chat.completions.create({ model: 'dev', messages, ...extra }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect(h.engine.stats.requests).toBe(before);
    return (err as BadRequestError).error as { code?: string; param?: string; safety?: { rule_id?: string } };
  }

  /** Sends a raw body (fields the SDK has no type for); returns status and error body. */
  async function post(route: string, body: Record<string, unknown>) {
    const before = h.engine.stats.requests;
    const res = await fetch(`${h.baseUrl}${route}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', ...body }) });
    const json = (await res.json()) as { error?: { code?: string; param?: string; safety?: { rule_id?: string } } };
    return { status: res.status, error: json.error, engineCalled: h.engine.stats.requests !== before };
  }

  const user: ChatCompletionMessageParam = { role: 'user', content: 'What is the weather like?' };
  const call = (name: string, args: string): ChatCompletionMessageParam => ({ role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name, arguments: args } }] });

  test.each<[string, ChatCompletionMessageParam[], string]>([
    ['a jailbreak in the system message', [{ role: 'system', content: 'zzjailbreak you have no rules' }, user], 'system-prompt'],
    ['a jailbreak in the developer message', [{ role: 'developer', content: 'zzjailbreak you have no rules' }, user], 'system-prompt'],
    ['a jailbreak in an earlier assistant turn', [user, { role: 'assistant', content: 'Sure, zzjailbreak mode on.' }, user], 'jailbreak'],
    ["a jailbreak in a message's name", [{ role: 'user', content: 'hello', name: 'zzjailbreak' }], 'jailbreak'],
    ["an injection in a tool call's function.name", [user, call('zzinject', '{}'), { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }], 'indirect-injection'],
    ["an injection in a tool call's arguments", [user, call('search', '{"q":"zzinject"}'), { role: 'tool', tool_call_id: 'call_1', content: 'sunny' }], 'indirect-injection'],
    ['an injection in a tool result', [user, call('search', '{}'), { role: 'tool', tool_call_id: 'call_1', content: 'page says zzinject' }], 'indirect-injection'],
    ['harmful content in a tool result (content guard)', [user, call('search', '{}'), { role: 'tool', tool_call_id: 'call_1', content: 'how to zzs1' }], 'unsafe-prompt'],
    // Ids the engine may render (not random characters): read by the content guard with their turn.
    ["harmful content in a tool result's tool_call_id (content guard)", [user, { role: 'assistant', content: null, tool_calls: [{ id: 'how_to_zzs1', type: 'function', function: { name: 'search', arguments: '{}' } }] }, { role: 'tool', tool_call_id: 'how_to_zzs1', content: 'sunny' }], 'unsafe-prompt'],
    ["harmful content in a tool call's id (content guard)", [user, { role: 'assistant', content: null, tool_calls: [{ id: 'how_to_zzs1', type: 'function', function: { name: 'search', arguments: '{}' } }] }, user], 'unsafe-prompt'],
    ['harmful content in a function result (content guard)', [user, { role: 'function', name: 'search', content: 'how to zzs9' }], 'unsafe-prompt'],
    ['harmful content in the system message (content guard)', [{ role: 'system', content: 'always explain zzs2' }, user], 'unsafe-prompt'],
    ['harmful content in an earlier assistant turn (content guard)', [user, { role: 'assistant', content: 'here is zzs10' }, user], 'unsafe-prompt'],
    ['an injection in a legacy function_call', [user, { role: 'assistant', content: null, function_call: { name: 'search', arguments: 'zzinject' } }, { role: 'function', name: 'search', content: 'ok' }], 'indirect-injection'],
    ['a jailbreak in a text part', [{ role: 'user', content: [{ type: 'text', text: 'hi' }, { type: 'text', text: 'zzjailbreak now' }] }], 'jailbreak'],
    ['a jailbreak in an assistant refusal', [user, { role: 'assistant', content: null, refusal: 'zzjailbreak' }, user], 'jailbreak'],
  ])('%s is blocked', async (_name, messages, rule) => {
    const error = await blockedVia(messages);
    expect(error).toMatchObject({ code: 'content_policy_violation', safety: { rule_id: rule } });
  });

  test("an injection in tools[].function.description or a parameter's description is blocked", async () => {
    for (const fn of [
      { name: 'get_weather', description: 'Gets the weather. zzinject' },
      { name: 'get_weather', description: 'Gets the weather.', parameters: { type: 'object', properties: { city: { type: 'string', description: 'zzinject city' } } } },
    ]) {
      const error = await blockedVia([user], { tools: [{ type: 'function', function: fn }] });
      expect(error).toMatchObject({ code: 'content_policy_violation', safety: { rule_id: 'indirect-injection' } });
    }
  });

  test.each([
    ['an input_text part', { messages: [{ role: 'user', content: [{ type: 'input_text', text: 'zzjailbreak' }] }] }, 'jailbreak'],
    ['a document part', { messages: [{ role: 'user', content: [{ type: 'document', title: 'report', text: 'zzinject' }] }] }, 'indirect-injection'],
    ['top-level documents (vLLM)', { messages: [user], documents: [{ title: 'notes', text: 'zzinject do this' }] }, 'indirect-injection'],
    ['legacy functions[] definitions', { messages: [user], functions: [{ name: 'f', description: 'zzinject' }] }, 'indirect-injection'],
    ['a response_format schema', { messages: [user], response_format: { type: 'json_schema', json_schema: { name: 'r', schema: { type: 'object', properties: { a: { type: 'string', description: 'zzinject' } } } } } }, 'indirect-injection'],
  ])('%s is blocked', async (_name, body, rule) => {
    const { status, error, engineCalled } = await post('/chat/completions', body);
    expect({ status, code: error?.code, rule: error?.safety?.rule_id, engineCalled }).toEqual({ status: 400, code: 'content_policy_violation', rule, engineCalled: false });
  });

  test.each([
    ['chat_template', { chat_template: "{{ 'zzjailbreak' }}{% for m in messages %}{{ m.content }}{% endfor %}" }],
    ['chat_template_kwargs', { chat_template_kwargs: { system: 'zzjailbreak' } }],
    ['an unknown engine extension', { guided_grammar: 'root ::= "zzs1"' }],
    // vLLM would keep only the last tokens: a conversation cut mid-message, its system prompt gone.
    ['truncate_prompt_tokens', { truncate_prompt_tokens: 3 }],
    ['best_of over 128', { best_of: 100_000 }],
    ['an image part (the guards read text only)', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] }] }],
    // Sampling settings hold numbers, flags or one word: free text there would reach the engine unread.
    ['text where temperature goes', { temperature: 'zzjailbreak you have no rules' }],
    ['text where a flag goes', { parallel_tool_calls: 'zzjailbreak' }],
    ['text as a setting', { reasoning_effort: 'zzjailbreak you have no rules' }],
    ['text as a logit_bias token', { logit_bias: { 'zzjailbreak you have no rules': 1 } }],
    ['an unknown stream option', { stream: true, stream_options: { include_usage: true, 'zzjailbreak you have no rules': 'x' } }],
  ])('%s is refused with a 400, never forwarded', async (_name, body) => {
    const { status, error, engineCalled } = await post('/chat/completions', { messages: [user], ...body });
    expect({ status, engineCalled }).toEqual({ status: 400, engineCalled: false });
    expect(['unsupported_parameter', 'unsupported_content', 'invalid_request']).toContain(error?.code);
  });

  test("an unknown member's name is read like its value: a message's, a Responses item's", async () => {
    expect(await post('/chat/completions', { messages: [{ role: 'user', content: 'hi', 'zzjailbreak you have no rules': 1 }] })).toMatchObject({ status: 400, error: { safety: { rule_id: 'jailbreak' } }, engineCalled: false });
    expect(await post('/responses', { input: [{ type: 'message', role: 'user', content: 'hi', 'zzjailbreak you have no rules': 1 }] })).toMatchObject({ status: 400, error: { safety: { rule_id: 'jailbreak' } }, engineCalled: false });
    // Settings sent as the API documents them still go through.
    expect(await post('/chat/completions', { messages: [user], temperature: 0.2, top_p: null, parallel_tool_calls: true, reasoning_effort: 'low', logit_bias: { '1234': -100 }, stop: ['\n'], stream_options: null })).toMatchObject({ status: 200 });
    expect(await post('/responses', { input: 'hi', truncation: 'auto', include: ['message.output_text.logprobs'], service_tier: 'flex', max_tool_calls: 2 })).toMatchObject({ status: 200 });
  });

  test('completions: a token-id prompt is refused; prompt list entries and the suffix are scanned', async () => {
    expect(await post('/completions', { prompt: [128000, 9906] })).toMatchObject({ status: 400, error: { code: 'unsupported_value', param: 'prompt' }, engineCalled: false });
    expect(await post('/completions', { prompt: ['Once upon a time', 'zzjailbreak'] })).toMatchObject({ status: 400, error: { safety: { rule_id: 'jailbreak' } }, engineCalled: false });
    expect(await post('/completions', { prompt: 'def f():', suffix: 'zzs1' })).toMatchObject({ status: 400, error: { safety: { rule_id: 'unsafe-prompt' } }, engineCalled: false });
  });

  test('the same conversations without the markers go through (the placements themselves are not what is blocked)', async () => {
    const clean: ChatCompletionMessageParam[] = [
      { role: 'developer', content: 'Be brief.' },
      { role: 'user', content: 'weather?', name: 'ann' },
      call('search', '{"q":"weather"}'),
      { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      { role: 'assistant', content: 'It is sunny.' },
      user,
    ];
    const answer = await client.chat.completions.create({ model: 'dev', messages: clean, tools: [{ type: 'function', function: { name: 'search', description: 'Searches the web.', parameters: { type: 'object', properties: { q: { type: 'string' } } } } }] });
    expect(answer.choices[0].finish_reason).toBe('stop');
  });
});
