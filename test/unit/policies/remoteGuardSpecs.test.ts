import { createGuardFromSpec, DEFAULT_MAX_TIMEOUT_MS, DEFAULT_TIMEOUT_MS_PER_1K_TOKENS, timeoutBudgetOf } from '../../../gateway/pipeline/runtime/guardFactory';
import { parsePolicySource, PolicyError } from '../../../policies/loader';

const policy = (guard: string) => `id: t
guards:
  pg:
${guard
  .trim()
  .split('\n')
  .map((l) => `    ${l}`)
  .join('\n')}
input:
  - id: jb
    guard: pg
    threshold: 0.9
`;

function problems(source: string): string[] {
  try {
    parsePolicySource(source, '/etc/sg/p.yaml');
  } catch (err) {
    if (err instanceof PolicyError) return err.problems.map((p) => `${p.line}:${p.column}: ${p.message}`);
    throw err;
  }
  return [];
}

describe('Prompt Guard on a classification server, in a policy', () => {
  test('backend tei: the model is a served name, not a path; one URL or several', () => {
    const loaded = parsePolicySource(policy('type: prompt_guard\nbackend: tei\nmodel: meta-llama/Prompt-Guard-86M\nurl: [http://tei-0:8080, http://tei-1:8080]'), '/etc/sg/p.yaml');
    expect(loaded.policy.guards.pg).toMatchObject({ backend: 'tei', model: 'meta-llama/Prompt-Guard-86M', url: ['http://tei-0:8080', 'http://tei-1:8080'] });
    const guard = createGuardFromSpec('pg', loaded.policy.guards.pg!, { threads: 1 });
    expect(guard.describeRuntime?.()).toMatch(/^tei \/predict at http:\/\/tei-0:8080, http:\/\/tei-1:8080 \(round-robin/);
    // No tokenizer: the start-up line says the whitespace-attack fix is off, and how to turn it on.
    expect(guard.describeRuntime?.()).toMatch(/WITHOUT Meta's whitespace-attack fix \(set `tokenizer:`/);
    void guard.close();
  });

  test('backend vllm needs a url; onnx-only and remote-only fields are refused where they do not apply', () => {
    expect(problems(policy('type: prompt_guard\nbackend: vllm\nmodel: m'))).toEqual([expect.stringMatching(/backend vllm needs `url`/)]);
    expect(problems(policy('type: prompt_guard\nmodel: ./pg\nurl: http://tei:80'))).toEqual([expect.stringMatching(/`url` applies to backend tei or vllm only/)]);
    expect(problems(policy('type: prompt_guard\nbackend: tei\nmodel: m\nurl: http://tei:80\nvariant: quantized'))).toEqual([expect.stringMatching(/`variant` applies to backend onnx only/)]);
    expect(problems(policy('type: prompt_guard\nmodel: ./pg\ntokenizer: ./tok'))).toEqual([expect.stringMatching(/`tokenizer` applies to backend tei or vllm only/)]);
    // The served model's tokenizer folder (whitespace-attack fix) resolves from the policy's folder, like a model directory.
    expect(parsePolicySource(policy('type: prompt_guard\nbackend: tei\nmodel: m\nurl: http://tei:80\ntokenizer: ./pg-tokenizer'), '/etc/sg/p.yaml').policy.guards.pg).toMatchObject({ tokenizer: '/etc/sg/pg-tokenizer' });
    expect(problems(policy('type: prompt_guard\nbackend: tgi\nmodel: m'))[0]).toMatch(/`tgi` is not allowed here; did you mean `tei`\?/);
  });

  test('a server URL must be http(s): `tei-0:80` parses as a URL of scheme tei-0, and failed only when the guard loaded', () => {
    for (const url of ['tei-0:80', '[http://tei-0:80, "vllm:8000/v1"]', 'ftp://tei:80']) {
      expect(problems(policy(`type: prompt_guard\nbackend: tei\nmodel: m\nurl: ${url}`)).join('\n')).toMatch(/must be an http:\/\/ or https:\/\/ URL/);
    }
    expect(problems(policy('type: prompt_guard\nbackend: tei\nmodel: m\nurl: https://tei.internal:8443'))).toEqual([]);
  });

  test('timeouts: base, per 1K tokens and cap, with defaults', () => {
    const loaded = parsePolicySource(policy('type: prompt_guard\nmodel: ./pg\ntimeout_ms: 2000\ntimeout_ms_per_1k_tokens: 100\nmax_timeout_ms: 30000'), '/etc/sg/p.yaml');
    expect(timeoutBudgetOf(loaded.policy.guards.pg!)).toEqual({ baseMs: 2000, per1kTokensMs: 100, maxMs: 30_000 });
    const plain = parsePolicySource(policy('type: prompt_guard\nmodel: ./pg'), '/etc/sg/p.yaml');
    expect(timeoutBudgetOf(plain.policy.guards.pg!)).toEqual({ baseMs: 5000, per1kTokensMs: DEFAULT_TIMEOUT_MS_PER_1K_TOKENS, maxMs: DEFAULT_MAX_TIMEOUT_MS });
    // Leaving them out does not change the version of existing policies (nothing is defaulted into the file).
    expect(plain.policy.guards.pg).not.toHaveProperty('timeout_ms_per_1k_tokens');
  });
});

describe('Llama Guard on several servers, in a policy', () => {
  test('base_url takes a list of replicas', () => {
    const source = `id: t
guards:
  lg:
    type: llama_guard
    backend: openai
    model: meta-llama/Llama-Guard-3-8B
    base_url: [http://lg-0:8000/v1, http://lg-1:8000/v1]
input:
  - id: unsafe
    guard: lg
    threshold: 0.5
`;
    const loaded = parsePolicySource(source, '/etc/sg/p.yaml');
    const guard = createGuardFromSpec('lg', loaded.policy.guards.lg!, { threads: 1 });
    expect(guard.describeRuntime?.()).toMatch(/http:\/\/lg-0:8000\/v1, http:\/\/lg-1:8000\/v1 \(round-robin/);
    void guard.close();
  });
});

describe('Llama Guard on a completions server that adds its own BOS, in a policy', () => {
  test('server_adds_bos: the prompt goes without its <|begin_of_text|> (llama.cpp, TGI); unset, with it and add_special_tokens: false (vLLM)', async () => {
    const { startFakeGuardServer } = await import('../../support/fakeGuardServers');
    const server = await startFakeGuardServer('vllm');
    try {
      const sent: string[] = [];
      for (const flag of ['\nserver_adds_bos: true', '']) {
        const loaded = parsePolicySource(policy(`type: llama_guard\nbackend: openai\nmodel: meta-llama/Llama-Guard-3-1B\nbase_url: ${server.baseUrl}\nmode: completions${flag}`).replace('threshold: 0.9', 'threshold: 0.5'), '/etc/sg/p.yaml');
        const guard = createGuardFromSpec('lg', loaded.policy.guards.pg!, { threads: 1 });
        await guard.check({ direction: 'input', texts: [], conversation: [{ role: 'user', content: 'How do I bake bread?' }] });
        void guard.close();
        const body = server.requests.at(-1)!.body;
        sent.push(`${String(body.prompt).slice(0, 17)}|${String(body.add_special_tokens)}`);
      }
      expect(sent).toEqual(["<|start_header_id|undefined", '<|begin_of_text|>|false']);
      // Where it would do nothing, it is refused rather than ignored.
      const lg = (extra: string) => policy(`type: llama_guard\nbackend: openai\nmodel: m\nbase_url: ${server.baseUrl}${extra}`).replace('threshold: 0.9', 'threshold: 0.5');
      expect(problems(lg('\nserver_adds_bos: true'))).toEqual([expect.stringMatching(/`server_adds_bos` applies to mode completions only/)]);
      expect(problems(lg('\nmode: chat\nserver_adds_bos: true'))).toEqual([expect.stringMatching(/applies to mode completions only/)]);
      expect(problems(policy('type: llama_guard\nbackend: encoder\nmodel: ./cg\nserver_adds_bos: true').replace('threshold: 0.9', 'threshold: 0.5'))).toEqual([expect.stringMatching(/`server_adds_bos` applies to backend openai only/)]);
    } finally {
      await server.close();
    }
  });
});
