import { controlTokenError } from '../../../../gateway/pipeline/extract/controlTokens';

describe('controlTokenError names the request member', () => {
  test("a glued list's own path, a join's first text, whole even when a quoted name holds `..`", () => {
    expect(controlTokenError([{ source: 'user', path: 'joined:messages[0]["a..b"]', text: '<|eot_id|>' }])?.param).toBe('messages[0]["a..b"]');
    expect(controlTokenError([{ source: 'user', path: 'joined:messages[0].content..messages[3].content', text: '<|eot_id|>' }])?.param).toBe('messages[0].content');
    expect(controlTokenError([{ source: 'user', path: 'messages[1].content', text: 'plain' }])).toBeUndefined();
  });
});
