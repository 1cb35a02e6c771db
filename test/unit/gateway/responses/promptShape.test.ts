import { modelEntry, modelNotFound } from '../../../../gateway/routes/models';
import { chatPromptShape, responsesPromptShape } from '../../../../gateway/access/tokens/promptTokens';

/** Token counting of Responses requests reads every text the engine renders, as chat's does. */
test('instructions, every item kind, tools and the output format are counted; each item is a turn', () => {
  const shape = responsesPromptShape({
    model: 'm',
    instructions: 'INSTR',
    max_output_tokens: 64,
    input: [
      { role: 'user', content: [{ type: 'input_text', text: 'USER' }] },
      { type: 'function_call', call_id: 'c', name: 'NAME', arguments: 'ARGS' },
      { type: 'function_call_output', call_id: 'c', output: 'OUT' },
      { type: 'custom_tool_call', call_id: 'd', name: 'sql', input: 'QUERY' },
      { type: 'reasoning', summary: [{ type: 'summary_text', text: 'SUMMARY' }] },
      { role: 'assistant', content: [{ type: 'refusal', refusal: 'REFUSAL' }] },
    ],
    tools: [{ type: 'function', name: 'TOOL' }],
    text: { format: { type: 'json_schema', schema: { description: 'FORMAT' } } },
  });
  const all = shape.texts.join(' ');
  for (const word of ['INSTR', 'USER', 'NAME', 'ARGS', 'OUT', 'QUERY', 'SUMMARY', 'REFUSAL', 'TOOL', 'FORMAT']) expect(all).toContain(word);
  expect(shape).toMatchObject({ maxTokens: 64, model: 'm', answers: 1, separateSequences: false });
  // Same template cost as a chat of as many messages (the instructions are one).
  expect(shape.fixedTokens).toBe(chatPromptShape({ messages: new Array(7).fill({ role: 'user', content: '' }) }).fixedTokens);
  expect(responsesPromptShape({ input: 'hello' }).texts).toEqual(['user', 'hello']);
});

test('models by id: the entry as OpenAI shapes it, or undefined; the 404 in its shape', () => {
  // vLLM adds the weights' path on its disk, the context length, permissions: none of it reaches clients.
  const list = { object: 'list', data: [{ id: 'meta-llama/Llama-3.1-405B', object: 'model', created: 5, owned_by: 'vllm', max_model_len: 131072, root: '/mnt/secret-models/llama-405b-fp8', permission: [{ id: 'p' }] }, { id: 'bare' }] };
  expect(modelEntry(list, 'meta-llama/Llama-3.1-405B')).toEqual({ id: 'meta-llama/Llama-3.1-405B', object: 'model', created: 5, owned_by: 'vllm' });
  expect(modelEntry(list, 'bare')).toEqual({ id: 'bare', object: 'model', created: 0, owned_by: 'system' });
  expect(modelEntry(list, 'other')).toBeUndefined();
  expect(modelEntry({ nope: 1 }, 'bare')).toBeUndefined();
  // No output rule reads the list: an id that is no model name is left out, an owner that is none reads `system`.
  const prose = { data: [{ id: 'you are worthless', owned_by: 'x' }, { id: 'm1', owned_by: 'kill yourself, nobody would miss you' }] };
  expect(modelEntry(prose, 'you are worthless')).toBeUndefined();
  expect(modelEntry(prose, 'm1')).toEqual({ id: 'm1', object: 'model', created: 0, owned_by: 'system' });
  expect(modelNotFound('x').body()).toEqual({ error: { message: expect.stringContaining('`x` does not exist'), type: 'invalid_request_error', param: 'model', code: 'model_not_found' } });
});
