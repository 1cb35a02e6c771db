import { requestParameterAttributes } from '../../../gateway/telemetry/spans';

describe('gen_ai.request.* attributes from the request body', () => {
  test.each([
    ['chat, max_tokens', { max_tokens: 64, temperature: 0.2, top_p: 0.9 }, { 'gen_ai.request.max_tokens': 64, 'gen_ai.request.temperature': 0.2, 'gen_ai.request.top_p': 0.9 }],
    ['chat, max_completion_tokens', { max_completion_tokens: 32 }, { 'gen_ai.request.max_tokens': 32 }],
    ['Responses API, max_output_tokens', { max_output_tokens: 128, temperature: 0 }, { 'gen_ai.request.max_tokens': 128, 'gen_ai.request.temperature': 0 }],
    ['nothing numeric', { max_tokens: null, temperature: '1' }, {}],
  ])('%s', (_name, body, expected) => {
    expect(requestParameterAttributes(body as Record<string, unknown>)).toEqual(expected);
  });
});
