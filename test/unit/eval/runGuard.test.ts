import type { Guard, GuardRequest, Verdict } from '../../../guards/types';
import { runGuard } from '../../../gateway/cli/eval/runGuard';
import type { EvalExample } from '../../../gateway/cli/eval/selection';

const example = (id: string, text: string): EvalExample => ({ id, dataset: 'd', role: 'user', text, label: 'benign', recordLabel: 'benign', positive: false, categories: [] });

function fakeGuard(): Guard & { seen: GuardRequest[]; peak: number } {
  let inFlight = 0;
  const guard = {
    name: 'fake',
    model: 'fake-model',
    seen: [] as GuardRequest[],
    peak: 0,
    load: async () => undefined,
    close: async () => undefined,
    async check(request: GuardRequest): Promise<Verdict> {
      guard.seen.push(request);
      inFlight += 1;
      guard.peak = Math.max(guard.peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      const text = request.texts[0]?.text ?? '';
      const base = { guard: 'fake', model: 'fake-model', categories: [], latencyMs: 1, segmentsScanned: 1 };
      if (text === 'throw') throw new Error('boom');
      if (text === 'error') return { ...base, label: 'error', score: 0, error: { type: 'timeout', message: 'late' } };
      if (text === 'nan') return { ...base, label: 'x', score: Number.NaN };
      return { ...base, label: 'BENIGN', score: Number(text) };
    },
  };
  return guard;
}

describe('runGuard', () => {
  it('keeps outcomes in input order, runs checks concurrently and reports progress', async () => {
    const guard = fakeGuard();
    const progress: number[] = [];
    const examples = Array.from({ length: 10 }, (_, i) => example(`d-${i}`, String(i / 10)));
    const outcomes = await runGuard(guard, examples, { style: 'texts', concurrency: 4, onProgress: (n) => progress.push(n) });
    expect(outcomes.map((o) => ('score' in o ? o.score : -1))).toEqual(examples.map((e) => Number(e.text)));
    expect(guard.peak).toBe(4);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(guard.seen[0].texts[0]).toEqual({ source: 'user', path: 'd-0', text: '0' });
  });

  it('records error verdicts, throws and non-probability scores as errors without stopping', async () => {
    const outcomes = await runGuard(fakeGuard(), [example('a', 'error'), example('b', 'throw'), example('c', 'nan'), example('d', '0.5')], { style: 'texts', concurrency: 2 });
    expect(outcomes).toEqual([
      { error: { type: 'timeout', message: 'late' } },
      { error: { type: 'model_error', message: 'boom' } },
      { error: { type: 'model_error', message: 'score NaN is not a probability' } },
      { score: 0.5, label: 'BENIGN', categories: [] },
    ]);
  });
});
