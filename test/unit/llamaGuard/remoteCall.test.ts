import { buildRemoteCall, httpErrorType, outcomeOf, resolveMode, withoutConversation } from '../../../guards/llamaGuard/remote';
import type { LlamaGuardRemoteOptions } from '../../../guards/llamaGuard/options';
import { isBlankToken, readChatCompletion, readErrorBody, readTextCompletion } from '../../../guards/llamaGuard/openaiResponse';
import type { GuardTurn } from '../../../guards/llamaGuard/turns';

const base: LlamaGuardRemoteOptions = { backend: 'openai', name: 'lg', variant: '8b', baseUrl: 'http://h/v1', model: 'meta-llama/Llama-Guard-3-8B' };
const turns: GuardTurn[] = [
  { role: 'User', text: 'hi' },
  { role: 'Agent', text: 'hello' },
];

describe('resolveMode', () => {
  it('uses chat for default categories and completions when the prompt is customized', () => {
    expect(resolveMode({})).toBe('chat');
    expect(resolveMode({ excludedCategories: [] })).toBe('chat');
    expect(resolveMode({ excludedCategories: ['S6'] })).toBe('completions');
    expect(resolveMode({ categories: { C1: 'X.' } })).toBe('completions');
    expect(resolveMode({ mode: 'completions' })).toBe('completions');
  });

  it('refuses chat mode with custom categories', () => {
    expect(() => resolveMode({ mode: 'chat', excludedCategories: ['S6'] })).toThrow(/mode 'chat' cannot carry custom categories/);
  });
});

describe('buildRemoteCall', () => {
  it('chat: the conversation as messages, greedy, with logprobs', () => {
    expect(buildRemoteCall(base, 'chat', turns, 'Agent')).toEqual({
      path: '/chat/completions',
      body: {
        model: 'meta-llama/Llama-Guard-3-8B',
        messages: [
          { role: 'user', content: 'hi' },
          { role: 'assistant', content: 'hello' },
        ],
        max_tokens: 32,
        temperature: 0,
        stream: false,
        logprobs: true,
        top_logprobs: 5,
      },
    });
    expect(buildRemoteCall({ ...base, logprobs: false, maxTokens: 10 }, 'chat', turns, 'Agent').body).not.toHaveProperty('logprobs');
  });

  it('completions: the rendered prompt, no second BOS', () => {
    const call = buildRemoteCall({ ...base, excludedCategories: ['S14'] }, 'completions', turns, 'Agent');
    expect(call.path).toBe('/completions');
    expect(call.body).toMatchObject({ logprobs: 5, add_special_tokens: false, temperature: 0, max_tokens: 32 });
    const prompt = call.body.prompt as string;
    expect(prompt.startsWith(" <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nTask: Check if there is unsafe content in 'Agent'")).toBe(true);
    expect(prompt).toContain('S13: Elections.\n<END UNSAFE CONTENT CATEGORIES>');
    expect(prompt).toContain('User: hi\n\nAgent: hello\n\n<END CONVERSATION>');
  });

  it('completions for a server that adds its own BOS: the prompt starts after <|begin_of_text|>', () => {
    const call = buildRemoteCall({ ...base, variant: '1b', serverAddsBos: true }, 'completions', turns, 'Agent');
    expect((call.body.prompt as string).startsWith('<|start_header_id|>user<|end_header_id|>')).toBe(true);
    expect(call.body).not.toHaveProperty('add_special_tokens');
  });
});

describe('reading server answers', () => {
  it('chat: text and the top logprobs at the first non-blank token', () => {
    const read = readChatCompletion({
      choices: [
        {
          message: { role: 'assistant', content: '\n\nunsafe\nS1' },
          logprobs: {
            content: [
              { token: '\n\n', logprob: 0, top_logprobs: [{ token: '\n\n', logprob: 0 }] },
              { token: 'unsafe', logprob: -0.2, top_logprobs: [{ token: 'safe', logprob: -1.7 }] },
            ],
          },
        },
      ],
    });
    expect(read).toEqual({
      ok: true,
      completion: {
        text: '\n\nunsafe\nS1',
        decisionTop: [
          { token: 'unsafe', logprob: -0.2 },
          { token: 'safe', logprob: -1.7 },
        ],
      },
    });
  });

  it('completions: text and the top logprobs map at the first non-blank token', () => {
    const read = readTextCompletion({
      choices: [
        {
          text: 'ĊĊsafe',
          logprobs: { tokens: ['ĊĊ', 'safe'], token_logprobs: [-0.01, -0.05], top_logprobs: [{ 'ĊĊ': -0.01 }, { safe: -0.05, unsafe: -3 }] },
        },
      ],
    });
    expect(read).toEqual({
      ok: true,
      completion: {
        text: 'ĊĊsafe',
        decisionTop: [
          { token: 'safe', logprob: -0.05 },
          { token: 'unsafe', logprob: -3 },
        ],
      },
    });
    expect(isBlankToken('Ġ')).toBe(true);
    expect(isBlankToken('Ġsafe')).toBe(false);
  });

  it('answers without logprobs still read', () => {
    expect(readChatCompletion({ choices: [{ message: { content: 'safe' }, logprobs: null }] })).toEqual({ ok: true, completion: { text: 'safe' } });
    expect(readTextCompletion({ choices: [{ text: 'safe' }] })).toEqual({ ok: true, completion: { text: 'safe' } });
  });

  it('malformed answers are errors', () => {
    expect(readChatCompletion({ choices: [] }).ok).toBe(false);
    expect(readChatCompletion({ data: 1 }).ok).toBe(false);
    expect(readTextCompletion({ choices: [{ message: { content: 'safe' } }] }).ok).toBe(false);
  });

  it('knows the vLLM, OpenAI and Ollama error bodies', () => {
    expect(readErrorBody({ object: 'error', message: 'The model `x` does not exist.', type: 'NotFoundError', param: null, code: 404 })).toBe(
      'The model `x` does not exist.',
    );
    expect(readErrorBody({ error: { message: 'bad', type: 'invalid_request_error' } })).toBe('bad');
    expect(readErrorBody({ error: 'model "llama-guard3:8b" not found, try pulling it first' })).toMatch(/not found/);
    expect(readErrorBody({ choices: [] })).toBeUndefined();
  });

  it('maps HTTP statuses to guard error types', () => {
    expect([400, 401, 404, 408, 429, 500, 503].map(httpErrorType)).toEqual([
      'model_error',
      'model_error',
      'model_error',
      'unavailable',
      'unavailable',
      'unavailable',
      'unavailable',
    ]);
  });

  it('scores from logprobs when present, from the label otherwise, and drops excluded codes', () => {
    expect(outcomeOf({ text: 'unsafe\nS1', decisionTop: [{ token: 'unsafe', logprob: Math.log(0.75) }, { token: 'safe', logprob: Math.log(0.25) }] }, undefined)).toEqual({
      kind: 'assessed',
      assessment: { ok: true, label: 'unsafe', categories: ['S1'], excludedOnly: false },
      pUnsafe: expect.closeTo(0.75, 10),
    });
    expect(outcomeOf({ text: 'unsafe\nS6' }, ['S6'])).toMatchObject({ assessment: { label: 'safe', excludedOnly: true }, pUnsafe: undefined });
  });
});

describe('withoutConversation', () => {
  it('withholds server messages that quote a turn, raw or JSON-escaped', () => {
    const t: GuardTurn[] = [{ role: 'User', text: 'My "secret" plan\nis to rob the bank' }];
    expect(withoutConversation(`Value error, input: [{'content': 'My "secret" plan\nis to rob'}]`, t)).toMatch(/withheld/);
    expect(withoutConversation('{"input":"My \\"secret\\" plan\\nis to rob the bank"}', t)).toMatch(/withheld/);
    expect(withoutConversation('The model `x` does not exist.', t)).toBe('The model `x` does not exist.');
    expect(withoutConversation('short hi', [{ role: 'User', text: 'hi' }])).toBe('short hi');
  });
});
