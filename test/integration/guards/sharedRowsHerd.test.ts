import path from 'node:path';
import { MicroBatcher } from '../../../guards/runtime/microBatcher';
import { startHarness, type Harness } from '../../support/gatewayHarness';

/**
 * Requests that read the same text at once (a shared system prompt, a RAG document) share one
 * model run per row and one tokenization. When the client whose request started that work left,
 * every waiting request scored the rows again on its own: the same rows ran once per waiting scan,
 * in turn in the batcher, and all of them ran out of time together (503 for every client that
 * stayed, 11x the rows). Now the first waiter back runs them again and the others share that run.
 * The shipped default policy with the bundled models, a real gateway, the dev engine.
 */
const DEFAULT_POLICY = path.join(__dirname, '..', '..', '..', 'policies', 'default.yaml');
const WAITERS = 8;
const WORDS = 'river garden window market silver yellow quiet morning bridge letter travel winter summer coffee paper basket orange forest number simple careful painter student kitchen village castle planet music doctor engine holiday pocket signal animal'.split(' ');

/** About 27,000 characters of distinct sentences: a long system prompt. */
function longPrompt(seed: number): string {
  let x = seed * 7919 + 13;
  const rnd = () => ((x = (x * 1103515245 + 12345) % 2147483648), x / 2147483648);
  const sentences: string[] = [];
  for (let s = 0; s < 300; s++) {
    const words = Array.from({ length: 8 + Math.floor(rnd() * 10) }, () => WORDS[Math.floor(rnd() * WORDS.length)]!);
    sentences.push(`${words.join(' ')}.`);
  }
  return sentences.join(' ');
}

describe('requests sharing a long system prompt', () => {
  let h: Harness;
  let counter = 0;
  const send = (system: string, signal?: AbortSignal) => {
    const n = ++counter;
    return fetch(`${h.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'system', content: system }, { role: 'user', content: `Question number ${n}: what does the guide say about the ${WORDS[n % WORDS.length]}?` }] }),
      signal,
    }).then(async (res) => ({ status: res.status, body: res.status === 200 ? '' : (await res.text()).slice(0, 200) }));
  };
  const promptGuardRows = () => (h.gateway.policies.current().guards.get('prompt_guard') as unknown as { stats(): { segmentsRun: number } }).stats().segmentsRun;

  beforeAll(async () => {
    h = await startHarness({ policy: DEFAULT_POLICY });
    // Warm-up on another text (the Llama 3 tokenizer, the models' first runs).
    expect((await send(longPrompt(1))).status).toBe(200);
  }, 120_000);
  afterAll(async () => h?.close());

  /** The first request starts the shared work; WAITERS more join it; the first leaves (or not) once 40 of its rows ran. */
  async function herd(seed: number, firstLeaves: boolean): Promise<{ statuses: number[]; rows: number; bodies: string[] }> {
    const text = longPrompt(seed);
    const submit = jest.spyOn(MicroBatcher.prototype, 'submit');
    try {
      const rowsBefore = promptGuardRows();
      const first = new AbortController();
      const firstDone = send(text, first.signal).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 150));
      const waiters = Array.from({ length: WAITERS }, () => send(text));
      while (promptGuardRows() - rowsBefore < 40) await new Promise((resolve) => setTimeout(resolve, 10));
      if (firstLeaves) first.abort();
      const results = await Promise.all(waiters);
      await firstDone;
      const rows = submit.mock.calls.reduce((n, call) => n + (call[0] as unknown[]).length, 0);
      return { statuses: results.map((r) => r.status), rows, bodies: results.map((r) => r.body) };
    } finally {
      submit.mockRestore();
    }
  }

  test('the client that started the shared work leaves: every client that stayed is answered, the rows run about once more', async () => {
    const stayed = await herd(2, false);
    expect(stayed.statuses).toEqual(new Array(WAITERS).fill(200));
    const left = await herd(3, true);
    expect({ statuses: left.statuses, bodies: left.bodies }).toEqual({ statuses: new Array(WAITERS).fill(200), bodies: new Array(WAITERS).fill('') });
    // Run again once (by one waiter), not once per waiter: 3,729 rows against 322 before the fix.
    expect(left.rows).toBeLessThan(3 * stayed.rows);
  });
});
