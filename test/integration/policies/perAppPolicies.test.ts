import { hashApiKey } from '../../../gateway/access/auth/apiKey';
import { FIXTURE_POLICY, startHarness, type Harness } from '../../support/gatewayHarness';
import { PolicyDir } from './policyDir';

/**
 * The company default flags specialized advice (S6); the kids app's policy extends it and blocks
 * S6 instead, with its own refusal. Keys pick the policy: the auth layer puts the key's policy id
 * into the request context, and the pipeline takes that policy's runtime.
 */
const MAIN = `id: company
extends: ${FIXTURE_POLICY}
policies: [./apps]
input:
  - id: unsafe-prompt
    guard: llama_guard
    threshold: 0.5
    categories:
      S6: flag
`;
const KIDS = `id: kids
extends: ../main.yaml
input:
  - id: unsafe-prompt
    guard: llama_guard
    threshold: 0.5
refusals:
  output: Let's talk about your homework instead.
  input: Ask your teacher about that one.
`;

const KEYS = { plain: 'sk-sg-plain-app-key-0123456789', kids: 'sk-sg-kids-app-key-0123456789', ghost: 'sk-sg-ghost-app-key-0123456789' };

describe('per-app policies', () => {
  const files = new PolicyDir();
  let h: Harness;
  beforeAll(async () => {
    files.write('apps/kids.yaml', KIDS);
    h = await startHarness({
      policy: files.write('main.yaml', MAIN),
      config: {
        keys: {
          inline: [
            { app: 'plain-app', hash: hashApiKey(KEYS.plain) },
            { app: 'homework', hash: hashApiKey(KEYS.kids), policy: 'kids' },
            { app: 'misconfigured', hash: hashApiKey(KEYS.ghost), policy: 'no-such-policy' },
          ],
        },
      },
    });
  });
  afterAll(async () => {
    await h?.close();
    files.remove();
  });

  const chat = (key: string, content: string) =>
    fetch(`${h.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content }] }),
    });

  test('an app without a policy gets the main policy: S6 is flagged and answered', async () => {
    const res = await chat(KEYS.plain, 'zzs6 what dose should I take?');
    expect(res.status).toBe(200);
    expect(res.headers.get('x-safety-verdict')).toBe('flag');
    expect(res.headers.get('x-safety-policy')).toMatch(/^company@[0-9a-f]{12}$/);
  });

  test("the kids app gets its own policy: the same prompt is blocked with its own input refusal, naming the kids policy", async () => {
    const res = await chat(KEYS.kids, 'zzs6 what dose should I take?');
    expect(res.status).toBe(400);
    const ref = res.headers.get('x-safety-policy');
    expect(ref).toMatch(/^kids@[0-9a-f]{12}$/);
    const body = (await res.json()) as { error: { code: string; message: string; safety: { policy: string; rule_id: string } } };
    expect(body.error.code).toBe('content_policy_violation');
    expect(body.error.message).toBe('Ask your teacher about that one.');
    expect(body.error.safety).toMatchObject({ policy: ref, rule_id: 'unsafe-prompt' });
    const record = h.recorder.records.find((r) => r.app === 'homework');
    expect(record?.policy).toEqual({ id: 'kids', version: ref?.split('@')[1] });
  });

  test("the kids app's answers are refused with its own refusal text", async () => {
    await h.script({ reply: 'an unsafe zzs1 answer' });
    const res = await chat(KEYS.kids, 'hello');
    const body = (await res.json()) as { choices: { message: { content: string }; finish_reason: string }[] };
    expect(body.choices[0]).toMatchObject({ message: { content: "Let's talk about your homework instead." }, finish_reason: 'content_filter' });
  });

  test('an app assigned a policy the gateway has not loaded fails closed with a clear error', async () => {
    const before = h.engine.stats.requests;
    const res = await chat(KEYS.ghost, 'hello');
    expect(res.status).toBe(503);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe('policy_unavailable');
    expect(body.error.message).toContain('`no-such-policy`');
    expect(res.headers.get('x-safety-policy')).toBeNull();
    expect(h.engine.stats.requests).toBe(before);
  });

  test('on a passthrough route too: 503 policy_unavailable, audited, not a 404 for a disabled route', async () => {
    const res = await fetch(`${h.baseUrl}/embeddings`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${KEYS.ghost}` }, body: JSON.stringify({ model: 'dev', input: 'hello' }) });
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('policy_unavailable');
    expect(h.recorder.rejections.at(-1)).toMatchObject({ kind: 'policy_unavailable', status: 503, route: '/v1/embeddings', policyId: 'no-such-policy', requestId: res.headers.get('x-request-id') });
  });

  test('readyz lists every policy in force', async () => {
    const ready = (await (await fetch(`${h.gateway.url}/readyz`)).json()) as { policy: string; policies: string[] };
    expect(ready.policy).toMatch(/^company@/);
    expect(ready.policies.map((p) => p.split('@')[0]).sort()).toEqual(['company', 'fixture', 'kids']);
  });
});
