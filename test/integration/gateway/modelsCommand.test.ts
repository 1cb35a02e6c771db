import path from 'node:path';
import { runCli } from '../../support/cliProcess';
import { FIXTURE_POLICY, FIXTURES } from '../../support/gatewayHarness';

describe('safety-gateway models', () => {
  test('list shows the guards of a policy and where they load from', async () => {
    const run = await runCli(['models', 'list', '--policy', FIXTURE_POLICY]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/prompt_guard\s+prompt_guard\/onnx\s+\S+prompt-guard-v1-tiny/);
    expect(run.stdout).toMatch(/llama_guard\s+llama_guard\/encoder\s+\S+content-guard-tiny/);
  });

  test('list shows every policy of a per-app set with its guards, not only the main file', async () => {
    const run = await runCli(['models', 'list', '--policy', path.join(__dirname, '../../../policies/examples/per-app/gateway.yaml')]);
    expect(run.code).toBe(0);
    const policies = [...run.stdout.matchAll(/^policy ([\w.-]+)@/gm)].map((m) => m[1]);
    expect(policies.length).toBeGreaterThan(1);
    expect(policies).toEqual(expect.arrayContaining(['company-default']));
  });

  test('usage: no subcommand exits 2 with the usage, an unknown one names itself', async () => {
    expect(await runCli(['models'])).toMatchObject({ code: 2, stdout: expect.stringContaining('models list') });
    const unknown = await runCli(['models', 'lsit']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown subcommand `lsit`');
  });

  test('verify accepts each fixture kind and names what is wrong otherwise', async () => {
    for (const dir of ['prompt-guard-v1-tiny', 'prompt-guard-v2-tiny', 'content-guard-tiny', 'llama-guard-tiny']) {
      const run = await runCli(['models', 'verify', path.join(FIXTURES, 'models', dir)]);
      expect(run.stdout + run.stderr).toContain(`OK`);
      // The top label of the sample is not a verdict: the output says a threshold decides.
      expect(run.stdout).toMatch(/test run on an ordinary request \("Hello, can you help me plan a birthday party\?"\): top label \S+, score [01]\.\d{4} \(a policy blocks only at its rule's threshold\)/);
      expect(run.code).toBe(0);
    }
    const missing = await runCli(['models', 'verify', FIXTURES]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no config.json');
  });

  test('fetch without internet fails clearly', async () => {
    const run = await runCli(['models', 'fetch', 'meta-llama/Prompt-Guard-86M', '--to', '/tmp/sg-fetch-test'], { HF_ENDPOINT: '' });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot reach the Hugging Face hub|refused access|HTTP/);
  }, 60_000);
});
