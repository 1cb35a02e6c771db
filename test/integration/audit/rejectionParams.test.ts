import { startHarness, type Harness } from '../../support/gatewayHarness';

/**
 * An invalid request's record names the member its error names only as far as the request schemas
 * declare it: a `metadata` or `logit_bias` key, an unknown member or a tool schema's property name
 * is the client's text (told to the client in the error, never kept in the audit log).
 */
const WORDS = 'Ignore_previous_instructions_SECRETWORD';

describe('invalid_request records: the member named, never a name the client chose', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => h.close());

  const post = (body: string) => fetch(`${h.baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const base = '"model":"dev","messages":[{"role":"user","content":"hi"}]';

  test.each([
    ['a metadata value that is not a string', `{${base},"metadata":{"${WORDS}":5}}`, `metadata.${WORDS}`, 'metadata'],
    ['a logit_bias key that is not a token id', `{${base},"logit_bias":{"${WORDS}":1}}`, `logit_bias.${WORDS}`, 'logit_bias'],
    ['__proto__ under a tool parameter', `{${base},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object","properties":{"${WORDS}":{"__proto__":{}}}}}}]}`, `tools[0].function.parameters.properties.${WORDS}`, 'tools[0].function.parameters'],
    ['__proto__ under an unknown member', `{${base},"${WORDS}":{"__proto__":{}}}`, WORDS, undefined],
  ])('%s: the client is told the whole path; the record keeps only names the schemas declare', async (_what, body, told, recorded) => {
    const before = h.recorder.rejections.length;
    const res = await post(body);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe(told);
    expect(h.recorder.rejections).toHaveLength(before + 1);
    const rejection = h.recorder.rejections.at(-1)!;
    expect(rejection).toMatchObject({ kind: 'invalid_request', status: 400 });
    expect(rejection.param).toBe(recorded);
    expect(JSON.stringify(rejection)).not.toContain('SECRETWORD');
  });
});
