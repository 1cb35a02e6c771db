/**
 * Prompt Guard on a classification server (guards/promptGuard/remote.ts) against loopback
 * servers that implement TEI's /predict and vLLM's /classify (test/support/fakeClassifierServers.ts):
 * the same scores as the local path, segments cut under the window and batched, a segment the
 * server finds too long split again, failover between replicas, retries only where another try
 * can help, timeouts, every failure a verdict.
 */
import { softmax } from '../../../guards/onnx/probabilities';
import { batchHedgeMs, createRemotePromptGuard, splitInTwo } from '../../../guards/promptGuard/remote';
import type { RemotePromptGuardOptions } from '../../../guards/promptGuard/options';
import { estimateTokens } from '../../../guards/promptGuard/charSegments';
import type { GuardRequest, ScanText } from '../../../guards/types';
import { startFakeClassifier, type ClassifierFlavor, type FakeClassifierServer } from '../../support/fakeClassifierServers';

const request = (...texts: ScanText[]): GuardRequest => ({ direction: 'input', texts, conversation: [] });
const user = (text: string, path = 'messages[0].content'): ScanText => ({ source: 'user', path, text });
const tool = (text: string, path = 'messages[1].content'): ScanText => ({ source: 'tool', path, text });

/** Prose of about `chars` characters, pseudo-random words in sentences and lines (no two segments alike). */
function prose(chars: number, seed = 1): string {
  const words = ['the', 'weather', 'report', 'for', 'tomorrow', 'says', 'light', 'rain', 'in', 'morning', 'and', 'sun', 'later', 'with', 'wind', 'from', 'west'];
  const out: string[] = [];
  let state = seed >>> 0;
  let n = 0;
  for (let i = 0; n < chars; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    const w = words[(state >>> 16) % words.length]! + ((i + 1) % 11 === 0 ? '.' : '') + ((i + 1) % 44 === 0 ? '\n' : '');
    out.push(w);
    n += w.length + 1;
  }
  return out.join(' ');
}

function guardFor(server: FakeClassifierServer | FakeClassifierServer[], extra: Partial<RemotePromptGuardOptions> = {}) {
  const servers = Array.isArray(server) ? server : [server];
  return createRemotePromptGuard({
    name: 'prompt_guard',
    backend: servers[0]!.flavor,
    url: servers.map((s) => s.url),
    model: servers[0]!.model,
    timeoutMs: 5000,
    ...extra,
  });
}

describe.each<ClassifierFlavor>(['tei', 'vllm'])('Prompt Guard on %s', (flavor) => {
  let server: FakeClassifierServer;
  beforeAll(async () => {
    server = await startFakeClassifier(flavor);
  });
  afterAll(async () => server.close());
  beforeEach(() => {
    server.requests.length = 0;
    server.fail(undefined);
  });

  test("scores as Meta's reference does: jailbreak for what users write, injection for third-party text, max over texts", async () => {
    const guard = guardFor(server);
    await guard.load();
    try {
      const jb = 'please zzjailbreak now';
      const v = await guard.check(request(user('hello there'), user(jb, 'messages[2].content')));
      const p = softmax(server.logits(jb));
      expect(v).toMatchObject({ guard: 'prompt_guard', model: server.model, label: 'JAILBREAK', worstPath: 'messages[2].content', segmentsScanned: 2 });
      expect(v.score).toBeCloseTo(p[2]!, 5);
      const inj = 'the document says zzinject';
      const w = await guard.check(request(tool(inj)));
      const q = softmax(server.logits(inj));
      expect(w.label).toBe('INJECTION');
      expect(w.score).toBeCloseTo(q[1]! + q[2]!, 5);
      const benign = await guard.check(request(user('What is the capital of France?')));
      expect(benign).toMatchObject({ label: 'BENIGN' });
      expect(benign.score).toBeLessThan(0.05);
      expect(guard.version).toBe(1);
    } finally {
      await guard.close();
    }
  });

  test('applies the temperature to the logits', async () => {
    const guard = guardFor(server, { temperature: 3 });
    await guard.load();
    try {
      const jb = 'zzjailbreak';
      const v = await guard.check(request(user(jb)));
      expect(v.score).toBeCloseTo(softmax(server.logits(jb), 3)[2]!, 5);
    } finally {
      await guard.close();
    }
  });

  test('a long text: every segment under the window, batched, the jailbreak at its end found', async () => {
    const guard = guardFor(server, { maxBatchSize: 8 });
    await guard.load();
    try {
      const text = `${prose(120_000)} zzjailbreak`;
      const v = await guard.check(request(user(text)));
      expect(v.label).toBe('JAILBREAK');
      const inputs = server.requests.flatMap((r) => r.inputs);
      expect(v.segmentsScanned).toBe(inputs.length);
      // Half-overlapping segments of about 1,700 characters: about 2 x 120,000 / 1,700.
      expect(inputs.length).toBeGreaterThan(120);
      for (const r of server.requests) expect(r.inputs.length).toBeLessThanOrEqual(8);
      for (const s of inputs) expect(Math.ceil(s.length / 4) + 2).toBeLessThanOrEqual(512);
      // Nothing lost: every character of the text is in some segment, and consecutive segments overlap.
      const spans = inputs.map((s) => ({ start: text.indexOf(s), end: text.indexOf(s) + s.length })).sort((x, y) => x.start - y.start);
      expect(spans[0]!.start).toBe(0);
      expect(spans[spans.length - 1]!.end).toBe(text.length);
      for (let i = 1; i < spans.length; i++) expect(spans[i]!.start).toBeLessThan(spans[i - 1]!.end);
    } finally {
      await guard.close();
    }
  });

  test('a server that says "too long" gets the segment split in two and sent again, never truncated', async () => {
    const dense = await startFakeClassifier(flavor, { charsPerToken: 2.5 });
    const guard = guardFor(dense);
    await guard.load();
    try {
      const text = `${prose(6_000)} zzjailbreak`;
      const v = await guard.check(request(user(text)));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('JAILBREAK');
      expect(guard.stats().splits).toBeGreaterThan(0);
      const refused = dense.requests.filter((r) => r.inputs.some((s) => Math.ceil(s.length / 2.5) + 2 > 512));
      expect(refused.length).toBeGreaterThan(0);
    } finally {
      await guard.close();
      await dense.close();
    }
  });

  test('a server that says "too long" whatever it is sent: a guard fault (model_error), not the request\'s bad input', async () => {
    const server = await startFakeClassifier(flavor);
    const guard = guardFor(server);
    await guard.load();
    try {
      server.fail(() => (flavor === 'tei' ? { kind: 'error', status: 413, message: '`inputs` must have less than 512 tokens. Given: 600', errorType: 'validation' } : { kind: 'error', status: 400, message: "This model's maximum context length is 512 tokens. However, you requested 600 tokens." }));
      const v = await guard.check(request(user('a short question')));
      expect(v.error?.type).toBe('model_error');
      expect(v.error?.message).toMatch(/too long after 3 splits: is its maximum input length set below the model's/);
    } finally {
      await guard.close();
      await server.close();
    }
  });

  test('a server whose stated window is under the model\'s says "too long" to a long ordinary prompt: a guard fault naming its window, not the request\'s bad input', async () => {
    const server = await startFakeClassifier(flavor);
    const guard = guardFor(server);
    await guard.load();
    try {
      server.fail(() => (flavor === 'tei' ? { kind: 'error', status: 413, message: '`inputs` must have less than 128 tokens. Given: 480', errorType: 'validation' } : { kind: 'error', status: 400, message: "This model's maximum context length is 128 tokens. However, you requested 480 tokens." }));
      const v = await guard.check(request(user(prose(6_000))));
      expect(v.error?.type).toBe('model_error');
      expect(v.error?.message).toMatch(/the server's window is 128 tokens/);
    } finally {
      await guard.close();
      await server.close();
    }
  });

  test('text denser than any split can bring under the window (two tokens a character) stays the request\'s bad input', async () => {
    const dense = await startFakeClassifier(flavor, { charsPerToken: 0.5 });
    const guard = guardFor(dense);
    await guard.load();
    try {
      const v = await guard.check(request(user(prose(3_000))));
      expect(v.error?.type).toBe('bad_input');
    } finally {
      await guard.close();
      await dense.close();
    }
  });

  test('verdicts are reused within a cache scope, and only there', async () => {
    const guard = guardFor(server);
    await guard.load();
    try {
      const req = { ...request(user(prose(5_000)), tool('a tool result')), cacheScope: 'p@1' };
      const first = await guard.check(req);
      const sent = server.requests.length;
      expect(first.cacheHits).toEqual({ texts: 0, segments: 0 });
      const again = await guard.check(req);
      expect(server.requests.length).toBe(sent);
      expect(again.cacheHits).toEqual({ texts: 2, segments: first.segmentsScanned });
      expect(again.score).toBe(first.score);
      const otherVersion = await guard.check({ ...req, cacheScope: 'p@2' });
      expect(server.requests.length).toBeGreaterThan(sent);
      expect(otherVersion.cacheHits).toEqual({ texts: 0, segments: 0 });
    } finally {
      await guard.close();
    }
  });

  test('server failures are verdicts: 5xx unavailable (tried again once), 4xx model_error (not), bad bodies model_error', async () => {
    const guard = guardFor(server, { cacheSize: 0 });
    await guard.load();
    try {
      server.fail({ kind: 'error', status: 503, message: 'Model is overloaded' });
      const down = await guard.check(request(user('hello')));
      expect(down).toMatchObject({ label: 'error', error: { type: 'unavailable' } });
      expect(down.error!.message).toMatch(/HTTP 503/);
      expect(server.requests).toHaveLength(2);

      server.requests.length = 0;
      server.fail({ kind: 'error', status: 422, message: 'Tokenizer error' });
      expect((await guard.check(request(user('hello')))).error?.type).toBe('model_error');
      expect(server.requests).toHaveLength(1);

      server.fail({ kind: 'raw', status: 200, body: '<html>proxy</html>' });
      expect((await guard.check(request(user('hello')))).error).toMatchObject({ type: 'model_error' });
      server.fail({ kind: 'drop' });
      expect((await guard.check(request(user('hello')))).error?.type).toBe('unavailable');

      server.fail(undefined);
      expect((await guard.check(request(user('hello zzjailbreak')))).label).toBe('JAILBREAK');
    } finally {
      await guard.close();
    }
  });

  test('a server that never answers: a timeout verdict within the budget', async () => {
    const guard = guardFor(server, { timeoutMs: 300, timeoutPer1kTokensMs: 0 });
    await guard.load();
    try {
      server.fail({ kind: 'hang' });
      const v = await guard.check(request(user('hello')));
      expect(v.error).toMatchObject({ type: 'timeout', message: 'guard did not finish within 300 ms' });
    } finally {
      await guard.close();
    }
  });

  test('an answer far larger than any classification is a model_error, read no further', async () => {
    const guard = guardFor(server, { cacheSize: 0 });
    await guard.load();
    try {
      server.fail({ kind: 'raw', status: 200, body: `{"data":[${'0,'.repeat(3_000_000)}0]}` });
      const v = await guard.check(request(user('hello')));
      expect(v.error).toMatchObject({ type: 'model_error' });
      expect(v.error!.message).toMatch(/larger than 4194304 bytes/);
    } finally {
      await guard.close();
    }
  });

  test('a server message that quotes the request is not recorded', async () => {
    const guard = guardFor(server, { cacheSize: 0 });
    await guard.load();
    try {
      const secret = 'my account number is 12345678 and my pin';
      server.fail({ kind: 'error', status: 400, message: `bad input: ${secret}` });
      const v = await guard.check(request(user(secret)));
      expect(v.error?.message).not.toContain('12345678');
    } finally {
      await guard.close();
    }
  });
});

describe('labels', () => {
  test('Prompt Guard 2 (two labels) scores p[MALICIOUS] whatever the source', async () => {
    for (const flavor of ['tei', 'vllm'] as const) {
      const server = await startFakeClassifier(flavor, { labels: ['BENIGN', 'MALICIOUS'], model: 'meta-llama/Llama-Prompt-Guard-2-86M' });
      const guard = guardFor(server);
      await guard.load();
      try {
        const v = await guard.check(request(tool('zzinject in a tool result')));
        expect(v.label).toBe('MALICIOUS');
        expect(v.score).toBeCloseTo(softmax(server.logits('zzinject in a tool result'))[1]!, 5);
        expect(guard.version).toBe(2);
      } finally {
        await guard.close();
        await server.close();
      }
    }
  });

  test('labels that are not Prompt Guard\'s are a model_error naming `labels`; setting them fixes it', async () => {
    // A model exported without id2label names: TEI answers LABEL_0, LABEL_1, LABEL_2.
    const server = await startFakeClassifier('tei', { labels: ['LABEL_0', 'LABEL_1', 'LABEL_2'] });
    const plain = guardFor(server);
    const configured = guardFor(server, { labels: ['BENIGN', 'INJECTION', 'JAILBREAK'] });
    const other = await startFakeClassifier('tei', { labels: ['SAFE', 'PROMPT_INJECTION', 'JB'] });
    const mismatched = guardFor(other, { labels: ['BENIGN', 'INJECTION', 'JAILBREAK'] });
    try {
      const v = await plain.check(request(user('zzjailbreak')));
      expect(v.error?.type).toBe('model_error');
      expect(v.error?.message).toMatch(/labels/);
      const w = await configured.check(request(user('zzjailbreak')));
      expect(w.error).toBeUndefined();
      expect(w.label).toBe('JAILBREAK');
      // Configured labels that the server's names contradict: an error, not a guess.
      expect((await mismatched.check(request(user('zzjailbreak')))).error?.message).toMatch(/no label BENIGN/);
    } finally {
      await plain.close();
      await configured.close();
      await mismatched.close();
      await server.close();
      await other.close();
    }
  });

  test('vLLM: probs that are not probabilities (a server with its softmax off sends logits) are a model_error, not a score', async () => {
    const server = await startFakeClassifier('vllm');
    const guard = guardFor(server, { cacheSize: 0 });
    try {
      // bfloat16 rounding of a real softmax is fine; logits, zeros, a third of a distribution are not.
      server.fail({ kind: 'raw', status: 200, body: JSON.stringify({ data: [{ index: 0, label: 'JAILBREAK', probs: [0.0029296875, 0.0029296875, 0.99609375], num_classes: 3 }] }) });
      expect((await guard.check(request(user('zzjailbreak')))).score).toBeCloseTo(0.994, 2);
      for (const probs of [[-3, 1, 5], [0, 0, 0], [0.2, 0.2, 0.2], [0.5, 0.5, 1e9]]) {
        server.fail({ kind: 'raw', status: 200, body: JSON.stringify({ data: [{ index: 0, label: 'JAILBREAK', probs, num_classes: 3 }] }) });
        const v = await guard.check(request(user('zzjailbreak')));
        expect(v.error?.type).toBe('model_error');
        expect(v.error?.message).toMatch(/not probabilities/);
      }
    } finally {
      await guard.close();
      await server.close();
    }
  });

  test('two labels named in the other order (MALICIOUS first) are read by name, not scored backwards', async () => {
    for (const flavor of ['tei', 'vllm'] as const) {
      const server = await startFakeClassifier(flavor, { labels: ['MALICIOUS', 'BENIGN'] });
      const guard = guardFor(server, { labels: ['MALICIOUS', 'BENIGN'] });
      try {
        const attack = await guard.check(request(user('zzjailbreak please')));
        expect(attack.label).toBe('MALICIOUS');
        expect(attack.score).toBeGreaterThan(0.9);
        expect((await guard.check(request(user('hello there')))).score).toBeLessThan(0.1);
      } finally {
        await guard.close();
        await server.close();
      }
    }
  });

  test("vLLM: a top label that contradicts the assumed id2label is an error, not a wrong score", async () => {
    const server = await startFakeClassifier('vllm', { labels: ['JAILBREAK', 'INJECTION', 'BENIGN'] });
    const guard = guardFor(server);
    try {
      const v = await guard.check(request(user('zzjailbreak')));
      expect(v.error?.type).toBe('model_error');
      expect(v.error?.message).toMatch(/set `labels`/);
    } finally {
      await guard.close();
      await server.close();
    }
  });
});

describe('several servers', () => {
  test('a failing server is skipped within the check, and comes back after a passing health check', async () => {
    const a = await startFakeClassifier('tei');
    const b = await startFakeClassifier('tei');
    const log: string[] = [];
    const guard = guardFor([a, b], { cacheSize: 0, healthIntervalMs: 50, log: (line) => log.push(line) });
    await guard.load();
    try {
      a.fail({ kind: 'error', status: 503, message: 'Unhealthy' });
      a.setHealthy(false);
      for (let i = 0; i < 4; i++) expect((await guard.check(request(user(`hello ${i} zzjailbreak`)))).label).toBe('JAILBREAK');
      expect(b.requests.length).toBe(4);
      expect(log.some((l) => /DOWN/.test(l))).toBe(true);
      // While down, it is not asked first.
      const triedA = a.requests.length;
      await guard.check(request(user('hello again')));
      expect(a.requests.length).toBe(triedA);

      a.fail(undefined);
      a.setHealthy(true);
      await waitFor(() => log.some((l) => /up: health check passed/.test(l)));
      for (let i = 0; i < 4; i++) await guard.check(request(user(`round ${i}`)));
      expect(a.requests.length).toBeGreaterThan(triedA);
    } finally {
      await guard.close();
      await a.close();
      await b.close();
    }
  });

  test.each<[ClassifierFlavor, string, Parameters<FakeClassifierServer['fail']>[0]]>([
    ['tei', 'a 500', { kind: 'error', status: 500, message: 'CUDA error: an illegal memory access was encountered' }],
    ['vllm', 'a 500', { kind: 'error', status: 500, message: 'EngineCore encountered an issue.' }],
    ['tei', 'a 200 HTML page', { kind: 'raw', status: 200, body: '<html>Default backend - 404</html>' }],
    ['vllm', 'a 200 HTML page', { kind: 'raw', status: 200, body: '<html>Default backend - 404</html>' }],
  ])('on %s, %s from one server: the other answers every check, and the broken one is marked down', async (flavor, _name, broken) => {
    await withReplicas(
      2,
      {},
      async ([a, b], guard, log) => {
        a!.fail(broken);
        const labels = [];
        for (let i = 0; i < 4; i++) labels.push((await guard.check(request(user(`zzjailbreak number ${i}`)))).label);
        expect(labels).toEqual(['JAILBREAK', 'JAILBREAK', 'JAILBREAK', 'JAILBREAK']);
        expect(b!.requests.length).toBeGreaterThanOrEqual(4);
        expect(log.some((l) => /DOWN/.test(l))).toBe(true);
      },
      flavor,
    );
  });

  test('an unreachable server fails over to the next one in the same check', async () => {
    const b = await startFakeClassifier('vllm');
    const guard = createRemotePromptGuard({ name: 'pg', backend: 'vllm', url: ['http://127.0.0.1:9', b.url], model: b.model, cacheSize: 0 });
    await guard.load();
    try {
      for (let i = 0; i < 3; i++) expect((await guard.check(request(tool(`zzinject ${i}`)))).label).toBe('INJECTION');
      expect(b.requests.length).toBe(3);
    } finally {
      await guard.close();
      await b.close();
    }
  });

  /** `n` replicas (vLLM by default) and a guard over them with its log kept; everything closed after `body`. */
  async function withReplicas(
    n: number,
    options: Partial<RemotePromptGuardOptions>,
    body: (servers: FakeClassifierServer[], guard: ReturnType<typeof guardFor>, log: string[]) => Promise<void>,
    flavor: ClassifierFlavor = 'vllm',
  ): Promise<void> {
    const servers: FakeClassifierServer[] = [];
    for (let i = 0; i < n; i++) servers.push(await startFakeClassifier(flavor));
    const log: string[] = [];
    const guard = guardFor(servers, { cacheSize: 0, timeoutPer1kTokensMs: 0, healthIntervalMs: 60_000, log: (line) => log.push(line), ...options });
    await guard.load();
    try {
      await body(servers, guard, log);
    } finally {
      await guard.close();
      for (const server of servers) await server.close();
    }
  }

  test('a replica that accepts calls and never answers is left after half the budget and marked down', async () => {
    // Health checks pass on a: its engine hangs behind a server whose health route still answers.
    await withReplicas(2, { timeoutMs: 1000 }, async ([a], guard, log) => {
      a!.fail({ kind: 'hang' });
      for (let i = 0; i < 4; i++) {
        const v = await guard.check(request(user(`hello ${i} zzjailbreak`)));
        expect(v.error).toBeUndefined();
        expect(v.label).toBe('JAILBREAK');
      }
      expect(log.some((l) => /DOWN: .*gave no answer within \d+ ms; a replica asked after it answered/.test(l))).toBe(true);
      // Down, it is tried last: only the first check waited for it.
      expect(a!.requests.length).toBe(1);
    });
  });

  test("a long input's batches at a hung replica get company after their own share of the budget, not half the whole check's", async () => {
    // About 120K tokens at 2 s per 1K: a budget of about 4 minutes, so half of it per batch would
    // leave this check waiting two minutes on a. One segment per batch: a batch's own budget is about 2 s.
    await withReplicas(2, { timeoutMs: 1000, timeoutPer1kTokensMs: 2000, maxBatchSize: 1 }, async ([a], guard, log) => {
      a!.fail({ kind: 'hang' });
      const v = await guard.check(request(tool(prose(480_000))));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('BENIGN');
      const down = log.map((l) => /DOWN: .*gave no answer within (\d+) ms/.exec(l)).find(Boolean);
      expect(down).toBeTruthy();
      expect(Number(down![1])).toBeLessThan(60_000);
    });
  });

  test('every replica slow but answering within the budget: answered, not cut at half of it, and the replica the hedge asked is not marked down', async () => {
    await withReplicas(2, { timeoutMs: 1200 }, async ([a, b], guard, log) => {
      for (const s of [a!, b!]) s.fail({ kind: 'slow', ms: 800 });
      const v = await guard.check(request(user('hello zzjailbreak')));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('JAILBREAK');
      // The hedge asked the second replica 600 ms in; the first answered 200 ms later: the second had
      // less time than the winner, and is as healthy as it.
      expect(a!.requests.length + b!.requests.length).toBe(2);
      expect(log.filter((l) => /DOWN/.test(l))).toEqual([]);
    });
  });

  test('a hedge that fails while the first try still hangs: the next replica is asked at once, within the budget', async () => {
    await withReplicas(3, { timeoutMs: 1000 }, async ([a, b, c], guard) => {
      a!.fail({ kind: 'hang' });
      b!.fail({ kind: 'error', status: 503, message: 'down' });
      // Round-robin starts at a: a hangs, the hedge asks b at 500 ms, b fails at once, c answers.
      const v = await guard.check(request(user('hello zzjailbreak')));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('JAILBREAK');
      expect(c!.requests.length).toBe(1);
    });
  });

  test('the replica left to hedge with is marked down (a stale state): a hanging first try is still overtaken within the budget', async () => {
    await withReplicas(2, { timeoutMs: 1000, healthIntervalMs: 50 }, async ([a, b], guard, log) => {
      // b's health route fails (its classifications still work): it is marked down and ordered last.
      b!.setHealthy(false);
      await waitFor(() => log.some((l) => /DOWN/.test(l)));
      a!.fail({ kind: 'hang' });
      const v = await guard.check(request(user('hello zzjailbreak')));
      expect(v.error).toBeUndefined();
      expect(v.label).toBe('JAILBREAK');
      expect(b!.requests.length).toBe(1);
    });
  });

  test('a busy replica (429) is not marked down: every replica busy once, the check is answered by asking again', async () => {
    await withReplicas(
      2,
      { timeoutMs: 2000 },
      async ([a, b], guard, log) => {
        for (const s of [a!, b!]) {
          let calls = 0;
          s.fail(() => (calls++ === 0 ? { kind: 'error', status: 429, message: 'Model is overloaded', errorType: 'overloaded' } : undefined));
        }
        const v = await guard.check(request(user('hello zzjailbreak')));
        expect(v.error).toBeUndefined();
        expect(v.label).toBe('JAILBREAK');
        expect(a!.requests.length + b!.requests.length).toBe(3);
        expect(log.filter((l) => /DOWN/.test(l))).toEqual([]);
      },
      'tei',
    );
  });

  test('sends the bearer key from the environment variable the policy names', async () => {
    const server = await startFakeClassifier('tei', { apiKey: 'tei-secret-key' });
    const without = guardFor(server, { cacheSize: 0 });
    const withKey = guardFor(server, { cacheSize: 0, apiKey: 'tei-secret-key' });
    try {
      expect((await without.check(request(user('hello')))).error?.type).toBe('model_error');
      expect((await withKey.check(request(user('hello')))).error).toBeUndefined();
      expect(server.requests[server.requests.length - 1]!.headers.authorization).toBe('Bearer tei-secret-key');
    } finally {
      await without.close();
      await withKey.close();
      await server.close();
    }
  });
});

describe('batch hedge delay', () => {
  test("half of what a check of the batch's texts alone would get, never more than half the whole check's", () => {
    const budget = { baseMs: 1000, per1kTokensMs: 2000, maxMs: 240_000 };
    // 8,000 characters: 2,000 tokens, 1 s + 4 s.
    expect(batchHedgeMs(budget, 60_000, ['x'.repeat(4000), 'y'.repeat(4000)])).toBe(2500);
    expect(batchHedgeMs(budget, 3000, ['x'.repeat(8000)])).toBe(1500);
    expect(batchHedgeMs({ baseMs: 5000 }, 5000, ['x'.repeat(100_000)])).toBe(2500);
  });
});

describe('splitting', () => {
  test('two halves overlap and cover the whole segment', () => {
    const text = prose(2_000);
    const [a, b] = splitInTwo(text);
    expect(text.startsWith(a!)).toBe(true);
    expect(text.endsWith(b!)).toBe(true);
    expect(a!.length + b!.length).toBeGreaterThan(text.length);
    expect(estimateTokens(a!)).toBeLessThan(estimateTokens(text));
  });
});

async function waitFor(condition: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe("Meta's whitespace-attack fix on a remote server, with the served model's tokenizer", () => {
  const FIXTURE_TOKENIZER = `${__dirname}/../../fixtures/models/prompt-guard-v1-tiny`;
  let server: FakeClassifierServer;
  beforeAll(async () => {
    server = await startFakeClassifier('tei');
  });
  afterAll(async () => server.close());

  test('a spaced-out attack is also scored with the spaces that split its tokens removed, and caught', async () => {
    const spaced = user('please z z j a i l b r e a k now');
    const bare = guardFor(server);
    await bare.load();
    expect((await bare.check(request(spaced))).score).toBeLessThan(0.5); // the classic bypass, without the fix
    await bare.close();
    const fixed = guardFor(server, { tokenizerDir: FIXTURE_TOKENIZER });
    await fixed.load();
    server.requests.length = 0;
    const verdict = await fixed.check(request(spaced));
    expect(verdict.score).toBeGreaterThan(0.9);
    expect(server.requests.flatMap((r) => r.inputs)).toEqual(expect.arrayContaining(['please z z j a i l b r e a k now', 'please zzjailbreak now']));
    expect(verdict.worstPath).toBe('messages[0].content#whitespace');
    // Asked again: both results come from the cache, nothing is sent (and the fix is not run again).
    server.requests.length = 0;
    expect((await fixed.check(request(spaced))).score).toBe(verdict.score);
    expect(server.requests).toHaveLength(0);
    // An ordinary text the fix leaves alone is sent once.
    server.requests.length = 0;
    await fixed.check(request(user('What is the weather tomorrow?')));
    expect(server.requests.flatMap((r) => r.inputs)).toEqual(['What is the weather tomorrow?']);
    await fixed.close();
  });

  test('a folder without tokenizer.json is refused at load, naming it', async () => {
    const guard = guardFor(server, { tokenizerDir: __dirname });
    await expect(guard.load()).rejects.toThrow(/no tokenizer\.json/);
    await guard.close();
  });
});
