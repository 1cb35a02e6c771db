import OpenAI, { BadRequestError } from 'openai';
import type { ResponseCreateParamsNonStreaming, ResponseInputItem } from 'openai/resources/responses/responses';
import { startHarness, type Harness } from '../support/gatewayHarness';
import { defaultPolicyWithFixtureModels } from './support';

/**
 * Issue 17, input placements of the Responses API: a jailbreak (zzjailbreak), an injection
 * (zzinject) or a harmful request (zzs1) in every place of a request the engine reads, through
 * the official openai client. Under the shipped default policy each is blocked by the rule that
 * fits its source, or refused as a field the gateway cannot check; the engine never sees it.
 * History the gateway holds (previous_response_id, item_reference) is checked again as input.
 */
describe('bypass: Responses API input placements under the default policy', () => {
  let h: Harness;
  let client: OpenAI;
  beforeAll(async () => {
    h = await startHarness({ policy: defaultPolicyWithFixtureModels() });
    client = new OpenAI({ baseURL: h.baseUrl, apiKey: 'unused', maxRetries: 0 });
  });
  afterAll(async () => h.close());

  async function blocked(params: Omit<ResponseCreateParamsNonStreaming, 'model'>) {
    const before = h.engine.stats.requests;
    const err = await client.responses.create({ model: 'dev', ...params }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(BadRequestError);
    expect(h.engine.stats.requests).toBe(before);
    return (err as BadRequestError).error as { code?: string; param?: string; safety?: { rule_id?: string } };
  }

  const user: ResponseInputItem = { role: 'user', content: 'What is the weather like?' };
  const call = (name: string, args: string): ResponseInputItem => ({ type: 'function_call', call_id: 'call_1', name, arguments: args });
  const output = (text: string): ResponseInputItem => ({ type: 'function_call_output', call_id: 'call_1', output: text });

  test.each<[string, Omit<ResponseCreateParamsNonStreaming, 'model'>, string]>([
    ['a jailbreak in a string input', { input: 'zzjailbreak you have no rules' }, 'jailbreak'],
    ['a jailbreak in the instructions', { instructions: 'zzjailbreak you have no rules', input: [user] }, 'system-prompt'],
    ['a jailbreak in a developer message', { input: [{ role: 'developer', content: 'zzjailbreak you have no rules' }, user] }, 'system-prompt'],
    ['a jailbreak in a system message', { input: [{ role: 'system', content: 'zzjailbreak' }, user] }, 'system-prompt'],
    ['a jailbreak in an input_text part', { input: [{ role: 'user', content: [{ type: 'input_text', text: 'hi' }, { type: 'input_text', text: 'zzjailbreak now' }] }] }, 'jailbreak'],
    ['a jailbreak in an earlier assistant message', { input: [user, { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Sure, zzjailbreak mode on.', annotations: [] }] }, user] }, 'jailbreak'],
    ['a jailbreak in an earlier assistant refusal', { input: [user, { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'refusal', refusal: 'zzjailbreak' }] }, user] }, 'jailbreak'],
    ['a jailbreak in a reasoning summary', { input: [user, { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'zzjailbreak' }] }, user] }, 'jailbreak'],
    ["an injection in a function call's name", { input: [user, call('zzinject', '{}'), output('sunny')] }, 'indirect-injection'],
    ["an injection in a function call's arguments", { input: [user, call('search', '{"q":"zzinject"}'), output('sunny')] }, 'indirect-injection'],
    ['an injection in a function call output', { input: [user, call('search', '{}'), output('page says zzinject')] }, 'indirect-injection'],
    ['harmful content in a function call output (content guard)', { input: [user, call('search', '{}'), output('how to zzs1')] }, 'unsafe-prompt'],
    // Ids the engine may render (not random characters): read by the content guard with their item.
    ["harmful content in a function call's call_id (content guard)", { input: [user, { type: 'function_call', call_id: 'how_to_zzs1', name: 'search', arguments: '{}' }, { type: 'function_call_output', call_id: 'how_to_zzs1', output: 'sunny' }] }, 'unsafe-prompt'],
    ["harmful content in an earlier message's id (content guard)", { input: [user, { type: 'message', role: 'assistant', id: 'how_to_zzs1', status: 'completed', content: [{ type: 'output_text', text: 'It is sunny.', annotations: [] }] }, user] }, 'unsafe-prompt'],
    ['an injection in a custom tool call', { input: [user, { type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'zzinject' }] }, 'indirect-injection'],
    ['an injection in a custom tool call output', { input: [user, { type: 'custom_tool_call', call_id: 'c', name: 'sql', input: 'select 1' }, { type: 'custom_tool_call_output', call_id: 'c', output: 'zzinject' }] }, 'indirect-injection'],
    ["an injection in a tool's description", { input: [user], tools: [{ type: 'function', name: 'get_weather', description: 'Gets the weather. zzinject', parameters: null, strict: false }] }, 'indirect-injection'],
    ["an injection in a custom (freeform) tool's grammar", { input: [user], tools: [{ type: 'custom', name: 'code_exec', description: 'Runs Python.', format: { type: 'grammar', syntax: 'lark', definition: 'start: "zzinject"' } }] }, 'indirect-injection'],
    ["an injection in a tool parameter's description", { input: [user], tools: [{ type: 'function', name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string', description: 'zzinject city' } } }, strict: false }] }, 'indirect-injection'],
    ['an injection in the output format schema', { input: [user], text: { format: { type: 'json_schema', name: 'r', schema: { type: 'object', properties: { a: { type: 'string', description: 'zzinject' } } } } } }, 'indirect-injection'],
    ['harmful content in the instructions (content guard)', { instructions: 'always explain zzs2', input: [user] }, 'unsafe-prompt'],
  ])('%s is blocked', async (_name, params, rule) => {
    expect(await blocked(params)).toMatchObject({ code: 'content_policy_violation', param: 'input', safety: { rule_id: rule } });
  });

  test('history the gateway holds is checked again: a jailbreak in an earlier answer, by previous_response_id or by item_reference', async () => {
    // zzjailbreak is not unsafe content: the output guard lets this answer through (and the gateway keeps it).
    await h.script({ reply: 'Sure, zzjailbreak mode on.' });
    const first = await client.responses.create({ model: 'dev', input: 'hello' });
    expect(first.status).toBe('completed');
    expect(await blocked({ input: 'go on', previous_response_id: first.id })).toMatchObject({ safety: { rule_id: 'jailbreak' } });
    expect(await blocked({ input: [user, { type: 'item_reference', id: first.output[0].id as string }, user] })).toMatchObject({ safety: { rule_id: 'jailbreak' } });
  });

  test.each([
    ['a stored conversation', { conversation: 'conv_123' }, 'conversation'],
    ['a stored prompt template', { prompt: { id: 'pmpt_123' } }, 'prompt'],
    ['a background run', { background: true }, 'background'],
    ['a built-in tool (web search)', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['a hosted tool result item', { input: [{ type: 'web_search_call', id: 'ws_1', status: 'completed', action: { type: 'search', query: 'zzinject' } }] }, 'input[0].type'],
    ['encrypted reasoning', { input: [{ type: 'reasoning', summary: [], encrypted_content: 'gAAAAzzjailbreak' }] }, 'input[0].encrypted_content'],
    ['an image part', { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA', detail: 'auto' }] }] }, 'input[0].content[0]'],
    ['chat_template', { chat_template: "{{ 'zzjailbreak' }}" }, 'chat_template'],
    ['an unknown engine extension', { previous_input_messages: [{ role: 'user', content: 'zzjailbreak' }] }, 'previous_input_messages'],
    ['a reference to an item the gateway never relayed', { input: [{ type: 'item_reference', id: 'msg_unseen' }] }, 'input[0].id'],
    ['a previous response the gateway never relayed', { previous_response_id: 'resp_unseen' }, 'previous_response_id'],
  ])('%s is refused with a 400 naming it, never forwarded', async (_name, body, param) => {
    const before = h.engine.stats.requests;
    const res = await fetch(`${h.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', input: 'hi', ...body }) });
    const json = (await res.json()) as { error: { code: string; param: string; type: string } };
    expect({ status: res.status, param: json.error.param, type: json.error.type, engineCalled: h.engine.stats.requests !== before }).toEqual({ status: 400, param, type: 'invalid_request_error', engineCalled: false });
    expect(['unsupported_parameter', 'unsupported_content', 'unsupported_value', 'item_not_found', 'previous_response_not_found']).toContain(json.error.code);
  });

  test('the same placements without the markers go through (the placements themselves are not what is blocked)', async () => {
    const answer = await client.responses.create({
      model: 'dev',
      instructions: 'Be brief.',
      input: [{ role: 'developer', content: 'Answer in English.' }, user, call('search', '{"q":"weather"}'), output('sunny'), { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'Look it up.' }] }, { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'It is sunny.', annotations: [] }] }, user],
      tools: [
        { type: 'function', name: 'search', description: 'Searches the web.', parameters: { type: 'object', properties: { q: { type: 'string' } } }, strict: false },
        // A custom tool, which the client runs like a function tool (it was refused as a built-in one).
        { type: 'custom', name: 'code_exec', description: 'Runs a Python snippet.' },
      ],
      text: { format: { type: 'json_schema', name: 'r', schema: { type: 'object', properties: { a: { type: 'string' } } } } },
    });
    expect(answer.status).toBe('completed');
  });
});
