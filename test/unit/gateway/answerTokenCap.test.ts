import { withAnswerTokenCap } from '../../../gateway/pipeline/answerTokenCap';

describe("an answer's token limit under a token budget", () => {
  test("the reserved limit is set on the route's field when there is a budget (a cap), the body left as sent without one", () => {
    const body = { model: 'm', max_tokens: null };
    expect(withAnswerTokenCap(body, 'max_tokens', 300)).toEqual({ model: 'm', max_tokens: 300 });
    expect(withAnswerTokenCap({ model: 'm' }, 'max_output_tokens', 300)).toEqual({ model: 'm', max_output_tokens: 300 });
    expect(withAnswerTokenCap({ model: 'm', max_tokens: 7 }, 'max_tokens', 7)).toEqual({ model: 'm', max_tokens: 7 });
    expect(withAnswerTokenCap(body, 'max_tokens', undefined)).toBe(body);
    // Under a budget the engine is held to what was reserved, in the member every engine reads (TGI and Ollama ignore max_completion_tokens).
    expect(withAnswerTokenCap({ model: 'm', max_completion_tokens: 1 }, 'max_tokens', 1)).toEqual({ model: 'm', max_completion_tokens: 1, max_tokens: 1 });
    expect(withAnswerTokenCap({ model: 'm', max_completion_tokens: 1, max_tokens: 100000 }, 'max_tokens', 1)).toEqual({ model: 'm', max_completion_tokens: 1, max_tokens: 1 });
    // Without a budget nothing is reserved and nothing added.
    expect(withAnswerTokenCap({ model: 'm', max_completion_tokens: 1 }, 'max_tokens', undefined)).toEqual({ model: 'm', max_completion_tokens: 1 });
    // The client's body is not changed in place.
    expect(body).toEqual({ model: 'm', max_tokens: null });
  });
});
