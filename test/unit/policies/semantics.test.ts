import { PolicyFile } from '../../../policies/schema';
import { semanticProblems } from '../../../policies/semantics';

const policy = (over: Record<string, unknown>) =>
  PolicyFile.parse({
    id: 'p',
    guards: {
      prompt_guard: { type: 'prompt_guard', model: '/m/pg' },
      llama_guard: { type: 'llama_guard', backend: 'encoder', model: '/m/lg' },
    },
    ...over,
  });
const messages = (over: Record<string, unknown>) => semanticProblems(policy(over)).map((p) => `${p.path.join('.')}: ${p.message}`);

describe('semantic checks', () => {
  test('an unknown guard gets a did-you-mean and the list of guards', () => {
    expect(messages({ input: [{ id: 'r', guard: 'promt_guard', threshold: 0.5 }] })).toEqual([
      'input.0.guard: unknown guard `promt_guard`; did you mean `prompt_guard`?; defined guards: prompt_guard, llama_guard',
    ]);
  });

  test('a guard name that is a built-in object member (constructor) is unknown too', () => {
    for (const name of ['constructor']) {
      expect(messages({ input: [{ id: 'r', guard: name, threshold: 0.5 }] })[0]).toMatch(new RegExp(`unknown guard \`${name}\``));
    }
  });

  test('an enforced rule that another enforced rule always pre-empts is unreachable', () => {
    const jb = { guard: 'prompt_guard', sources: ['user'] };
    const [p] = messages({ input: [{ id: 'a', ...jb, threshold: 0.8 }, { id: 'b', ...jb, threshold: 0.9, action: 'flag' }] });
    expect(p).toMatch(/^input\.1: unreachable rule `b`: rule `a` on the same guard and texts fires at threshold 0.8 <= 0.9 with `block`/);
    // Same threshold and action: the later one never decides.
    expect(messages({ input: [{ id: 'a', ...jb, threshold: 0.9 }, { id: 'b', ...jb, threshold: 0.9 }] })[0]).toMatch(/unreachable rule `b`/);
    // A block rule after a lower flag rule is reachable (it is more severe).
    expect(messages({ input: [{ id: 'a', ...jb, threshold: 0.5, action: 'flag' }, { id: 'b', ...jb, threshold: 0.9 }] })).toEqual([]);
    // Scanning all texts covers scanning the user turns.
    expect(messages({ input: [{ id: 'a', guard: 'prompt_guard', threshold: 0.5 }, { id: 'b', ...jb, threshold: 0.9 }] })[0]).toMatch(/unreachable rule `b`/);
  });

  test('rules that can still decide are not unreachable: other texts, shadow mode, category exceptions, laxer on_error', () => {
    const jb = { guard: 'prompt_guard', threshold: 0.9 };
    expect(messages({ input: [{ id: 'a', ...jb, sources: ['user'] }, { id: 'b', ...jb, sources: ['tool'] }] })).toEqual([]);
    expect(messages({ input: [{ id: 'a', ...jb, sources: ['user'] }, { id: 'b', ...jb, sources: ['user'], mode: 'shadow' }] })).toEqual([]);
    expect(messages({ input: [{ id: 'a', ...jb, sources: ['user'], mode: 'shadow' }, { id: 'b', ...jb, sources: ['user'] }] })).toEqual([]);
    expect(messages({ input: [{ id: 'a', ...jb, sources: ['user'], on_error: 'allow' }, { id: 'b', ...jb, sources: ['user'] }] })).toEqual([]);
    const lg = { guard: 'llama_guard', threshold: 0.5 };
    expect(messages({ output: [{ id: 'a', ...lg, categories: { S6: 'allow' } }, { id: 'b', ...lg, threshold: 0.7 }] })).toEqual([]);
    // A findings rule reads the answers the gateway delivered, which a jailbreak-score rule leaves out when they come back.
    const plain = { id: 'a', guard: 'prompt_guard', sources: ['user', 'assistant'], threshold: 0.5 };
    expect(messages({ input: [plain, { id: 'b', guard: 'prompt_guard', sources: ['assistant'], findings: ['homoglyphs'], threshold: 0.9 }] })).toEqual([]);
    expect(messages({ input: [plain, { id: 'b', guard: 'prompt_guard', sources: ['user'], findings: ['homoglyphs'], threshold: 0.9 }] })[0]).toMatch(/unreachable rule `b`/);
  });

  test('unknown categories are named with the guard\'s own list; excluded ones cannot have actions', () => {
    expect(messages({ input: [{ id: 'r', guard: 'llama_guard', threshold: 0.5, categories: { S15: 'flag' } }] })[0]).toContain('unknown category `S15`');
    const custom = {
      guards: { lg: { type: 'llama_guard', backend: 'openai', base_url: 'http://x/v1', model: 'm', categories: { FRAUD: 'fraud', PII: 'pii' }, excluded_categories: ['PII'] } },
    };
    expect(messages({ ...custom, input: [{ id: 'r', guard: 'lg', threshold: 0.5, categories: { FRUAD: 'flag', PII: 'block', S1: 'flag' } }] })).toEqual([
      'input.0.categories.FRUAD: unknown category `FRUAD`; did you mean `FRAUD`?; guard `lg` knows: FRAUD, PII',
      'input.0.categories.PII: category `PII` is excluded by guard `lg` (excluded_categories), so this entry can never apply',
      'input.0.categories.S1: unknown category `S1`; guard `lg` knows: FRAUD, PII',
    ]);
    expect(messages({ guards: { lg: { ...custom.guards.lg, excluded_categories: ['S3'] } } })).toEqual(['guards.lg.excluded_categories.0: unknown category `S3`; known: FRAUD, PII']);
  });

  test('the 1b prompt has no S14', () => {
    const guards = { lg: { type: 'llama_guard', backend: 'onnx', model: '/m', prompt_variant: '1b' } };
    expect(messages({ guards, input: [{ id: 'r', guard: 'lg', threshold: 0.5, categories: { S14: 'block' } }] })[0]).toContain('unknown category `S14`');
  });

  test('fields that would be silently ignored are errors', () => {
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'encoder', model: '/m', categories: { X: 'x' } } } })[0]).toContain('custom categories need a Llama Guard 3 prompt');
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'onnx', model: '/m', base_url: 'http://x/v1' } } })[0]).toContain('`base_url` applies to backend openai only');
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'openai', model: 'm' } } })[0]).toContain('needs `base_url`');
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'openai', base_url: 'http://x/v1', model: 'm', variant: 'quantized' } } })).toEqual([expect.stringContaining('`variant` applies to backend encoder or onnx')]);
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'onnx', model: '/m', fine_window_tokens: 64 } } })).toEqual([expect.stringContaining('`fine_window_tokens` applies to backend encoder')]);
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'encoder', model: '/m', prompt_variant: '1b' } } })).toEqual([expect.stringContaining('`prompt_variant` applies to backend onnx or openai')]);
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'encoder', model: '/m', variant: 'quantized', fine_window_tokens: 64 } } })).toEqual([]);
    // What the gateway itself refuses at load is refused by the check too.
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'openai', base_url: 'http://x/v1', model: 'm', mode: 'chat', excluded_categories: ['S6'] } } })[0]).toMatch(/mode chat cannot carry custom categories/);
    expect(messages({ guards: { lg: { type: 'llama_guard', backend: 'openai', base_url: 'http://x/v1', model: 'm', mode: 'completions', excluded_categories: ['S6'] } } })).toEqual([]);
    expect(messages({ input: [{ id: 'r', guard: 'llama_guard', sources: ['user'], threshold: 0.5 }] })[0]).toContain('`sources` applies to prompt_guard rules');
    expect(messages({ input: [{ id: 'r', guard: 'prompt_guard', threshold: 0.5, categories: { S1: 'flag' } }] })[0]).toContain('per-category actions apply to llama_guard rules only');
    expect(messages({ output: [{ id: 'r', guard: 'prompt_guard', threshold: 0.5 }] })[0]).toContain('prompt_guard checks inputs');
  });

  test('duplicate rule ids across input and output', () => {
    expect(messages({ input: [{ id: 'r', guard: 'llama_guard', threshold: 0.5 }], output: [{ id: 'r', guard: 'llama_guard', threshold: 0.5 }] })).toEqual([
      'output.0.id: rule id `r` is used twice; ids must be unique across input and output',
    ]);
  });

  test('refusing what every request of a route is made of is a problem, not a silent outage', () => {
    expect(messages({ request_fields: { refuse: ['tools', 'messages', 'model'] } })).toEqual([
      expect.stringMatching(/^request_fields\.refuse\.1: `messages` is part of every request of its route \(\/v1\/chat\/completions\)/),
      expect.stringMatching(/^request_fields\.refuse\.2: `model` is part of every request/),
    ]);
  });

  test('guarded routes cannot pass through', () => {
    expect(messages({ routes: { passthrough: ['/v1/embeddings', '/v1/chat/completions', '/v1/chat/*'] } })).toEqual([
      expect.stringMatching(/^routes\.passthrough\.1: `\/v1\/chat\/completions` covers the guarded route/),
      expect.stringMatching(/^routes\.passthrough\.2: `\/v1\/chat\/\*` covers the guarded route/),
    ]);
    // Entries the matcher can never match are refused by the schema, saying why.
    for (const entry of ['/v1/*', '/v1/e*', '/v1/files/*/content', '/v1/a%20b', '/v1/x/../y', '/v1/a;b', '/v1/é', '/v1/./x']) {
      expect(PolicyFile.safeParse({ id: 'p', routes: { passthrough: [entry] } }).error?.issues[0].message).toMatch(/a path in normal form under \/v1\/.*`\*` anywhere else never matches/);
    }
    // What the gateway forwards in normal form stays listable: dots, colons, tildes, a trailing slash.
    for (const entry of ['/v1/embeddings/', '/v1/models:predict', '/v1/files/~user', '/v1/a.b/c', '/v1/files/*']) expect(PolicyFile.safeParse({ id: 'p', routes: { passthrough: [entry] } }).success).toBe(true);
    // As the gateway matches them: /v1/responses too, any case, and sub-paths (never forwarded).
    const listed = ['/v1/responses', '/v1/responses/*', '/v1/chat/completions/*', '/v1/Chat/Completions', '/v1/responses/abc', '/v1/embeddings/*', '/v1/models/*'];
    expect(messages({ routes: { passthrough: listed } }).map((m) => m.match(/^routes\.passthrough\.(\d+)/)?.[1])).toEqual(['0', '1', '2', '3', '4', '6']);
  });

  test('test cases: exactly one of prompt or conversation, known rules, shadow rules only', () => {
    const input = [
      { id: 'jailbreak', guard: 'prompt_guard', threshold: 0.9 },
      { id: 'new', guard: 'llama_guard', threshold: 0.2, mode: 'shadow' },
    ];
    expect(
      messages({
        input,
        tests: [
          { name: 'neither', expect: 'allow' },
          { name: 'both', prompt: 'x', conversation: [{ role: 'user', content: 'x' }], expect: 'allow' },
          { name: 'bad rule', prompt: 'x', expect: 'block', rule: 'jailbrake' },
          { name: 'bad shadow', prompt: 'x', expect: 'allow', shadow: ['jailbreak', 'new'] },
          { name: 'fine', conversation: [{ role: 'user', content: 'x' }], answer: 'y', expect: 'allow', rule: 'new', shadow: ['new'] },
        ],
      }),
    ).toEqual([
      'tests.0: test `neither` needs exactly one of `prompt` or `conversation`',
      'tests.1: test `both` needs exactly one of `prompt` or `conversation`',
      'tests.2.rule: unknown rule `jailbrake`; did you mean `jailbreak`?; rules: jailbreak, new',
      'tests.3.shadow.0: `jailbreak` is not a shadow-mode rule; shadow rules: new',
    ]);
  });
});
