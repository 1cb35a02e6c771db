import { withAnswerTokenCap } from '../../../gateway/pipeline/answerTokenCap';

describe("an answer's token limit where the client set none", () => {
  test("set on the route's field only when there is a cap and no limit of the client", () => {
    const body = { model: 'm', max_tokens: null };
    expect(withAnswerTokenCap(body, 'max_tokens', undefined, 300)).toEqual({ model: 'm', max_tokens: 300 });
    expect(withAnswerTokenCap({ model: 'm' }, 'max_output_tokens', undefined, 300)).toEqual({ model: 'm', max_output_tokens: 300 });
    expect(withAnswerTokenCap({ model: 'm', max_tokens: 7 }, 'max_tokens', 7, 300)).toEqual({ model: 'm', max_tokens: 7 });
    expect(withAnswerTokenCap(body, 'max_tokens', undefined, undefined)).toBe(body);
    // The client's body is not changed in place.
    expect(body).toEqual({ model: 'm', max_tokens: null });
  });
});
