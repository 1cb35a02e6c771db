/**
 * Llama Guard 3 on the local ONNX backend, end to end on the tiny random-weight fixture. Its answers
 * mean nothing, so the tests check the recipe (P(unsafe) after `\n\n`, greedy decoding from the
 * decision, stop and limit) and that unreadable answers become parse_error verdicts, never a crash.
 */
import * as path from 'node:path';
import { createLlamaGuard } from '../../../guards/llamaGuard';
import { classifyPromptIds } from '../../../guards/llamaGuard/onnx/classify';
import { type LlamaGuardOnnxModel, loadLlamaGuardOnnxModel } from '../../../guards/llamaGuard/onnx/localModel';
import { PREFILL_CHUNK } from '../../../guards/llamaGuard/onnx/workerLoop';
import { renderPrompt } from '../../../guards/llamaGuard/prompt';
import { unsafeProbability } from '../../../guards/llamaGuard/score';
import type { GuardRequest } from '../../../guards/types';

const FIXTURE = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

const inputRequest: GuardRequest = {
  direction: 'input',
  texts: [],
  conversation: [{ role: 'user', content: 'How do I bake a chocolate cake for my friend?' }],
};

describe('classifyPromptIds', () => {
  let m: LlamaGuardOnnxModel;
  let promptIds: number[];
  beforeAll(async () => {
    m = await loadLlamaGuardOnnxModel({ modelDir: FIXTURE });
    promptIds = m.encode(renderPrompt({ variant: '1b', role: 'User', turns: [{ role: 'User', text: 'How do I bake a cake?' }] }));
  });
  afterAll(() => m.close());

  it('tokenizes the template markers as special tokens', () => {
    expect(promptIds[0]).toBe(496); // <|begin_of_text|>
    const tail = [505, 502, ...m.encode('assistant'), 503]; // <|eot_id|><|start_header_id|>assistant<|end_header_id|>
    expect(promptIds.slice(-tail.length)).toEqual(tail);
    expect(m.encode('<|eot_id|>')).toEqual([505]);
  });

  it('reads P(unsafe) from the safe / unsafe logits one position after the forced \\n\\n', async () => {
    const result = await classifyPromptIds(m.decoder, m.tokens, promptIds, 20);
    const full = await m.decoder.forwardFull([...promptIds, m.tokens.newlines]);
    expect(result.pUnsafe).toBeCloseTo(unsafeProbability(full[m.tokens.safe]!, full[m.tokens.unsafe]!), 5);
    expect(result.generated[0]).toBe(result.pUnsafe >= 0.5 ? m.tokens.unsafe : m.tokens.safe);
  });

  it('reads a prompt longer than one prefill chunk in chunks, scoring as one full forward would', async () => {
    const long = [...promptIds.slice(0, -8), ...Array.from({ length: PREFILL_CHUNK + 300 }, (_, i) => 10 + (i % 400)), ...promptIds.slice(-8)];
    expect(long.length).toBeGreaterThan(PREFILL_CHUNK);
    const result = await classifyPromptIds(m.decoder, m.tokens, long, 4);
    const full = await m.decoder.forwardFull([...long, m.tokens.newlines]);
    expect(result.pUnsafe).toBeCloseTo(unsafeProbability(full[m.tokens.safe]!, full[m.tokens.unsafe]!), 4);
  });

  it('continues greedily from the decision with the cache, as a full forward would', async () => {
    const result = await classifyPromptIds(m.decoder, { ...m.tokens, stopIds: [] }, promptIds, 8);
    expect(result).toMatchObject({ stoppedBy: 'limit' });
    expect(result.generated).toHaveLength(7); // the forced \n\n counts toward the 8
    const seq = [...promptIds, m.tokens.newlines, result.generated[0]!];
    for (const expected of result.generated.slice(1)) {
      const logits = await m.decoder.forwardFull(seq);
      let best = 0;
      for (let i = 1; i < logits.length; i++) if (logits[i]! > logits[best]!) best = i;
      expect(expected).toBe(best);
      seq.push(best);
    }
  });

  it('stops before a stop id', async () => {
    const free = await classifyPromptIds(m.decoder, { ...m.tokens, stopIds: [] }, promptIds, 10);
    const k = free.generated.findIndex((id, i) => i > 0 && !free.generated.slice(0, i).includes(id));
    expect(k).toBeGreaterThan(0);
    const stopped = await classifyPromptIds(m.decoder, { ...m.tokens, stopIds: [free.generated[k]!] }, promptIds, 10);
    expect(stopped).toEqual({ pUnsafe: free.pUnsafe, generated: free.generated.slice(0, k), stoppedBy: 'stop' });
  });
});

describe('createLlamaGuard({ backend: "onnx" })', () => {
  it('returns a verdict, never throws: random weights give a parse_error', async () => {
    const guard = createLlamaGuard({ backend: 'onnx', name: 'llama_guard', variant: '1b', modelDir: FIXTURE });
    expect(guard.model).toBe('llama-guard-tiny');
    await guard.load();
    try {
      const verdict = await guard.check(inputRequest);
      expect(verdict.guard).toBe('llama_guard');
      expect(verdict.segmentsScanned + (verdict.error ? 1 : 0)).toBeGreaterThanOrEqual(1);
      if (verdict.error) expect(verdict.error.type).toBe('parse_error');
      else expect(['safe', 'unsafe']).toContain(verdict.label);
    } finally {
      await guard.close();
    }
  });

  it('an answer that never stops is a parse_error, not a truncated verdict', async () => {
    const guard = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '8b', modelDir: FIXTURE, stopTokenIds: [], maxNewTokens: 6 });
    await guard.load();
    try {
      const verdict = await guard.check(inputRequest);
      expect(verdict).toMatchObject({ label: 'error', score: 0, error: { type: 'parse_error', message: 'no end of answer within 6 generated tokens' } });
    } finally {
      await guard.close();
    }
  });

  it('a decision followed by a stop reads as that label, scored with P(unsafe)', async () => {
    // Find what the model says after its decision, then make that token the stop: the answer is
    // exactly `safe` or `unsafe` (the latter has no category line, so it cannot be read).
    const m = await loadLlamaGuardOnnxModel({ modelDir: FIXTURE });
    const conversation = [
      { role: 'user' as const, content: 'Tell me about cakes.' },
      { role: 'assistant' as const, content: 'Cakes are baked desserts.' },
    ];
    const ids = m.encode(
      renderPrompt({
        variant: '1b',
        role: 'Agent',
        turns: [
          { role: 'User', text: conversation[0].content },
          { role: 'Agent', text: conversation[1].content },
        ],
      }),
    );
    const free = await classifyPromptIds(m.decoder, { ...m.tokens, stopIds: [] }, ids, 3);
    await m.close();
    const guard = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE, stopTokenIds: [free.generated[1]!] });
    await guard.load();
    try {
      const verdict = await guard.check({ direction: 'output', texts: [], conversation });
      if (free.generated[0] === m.tokens.safe) {
        expect(verdict).toMatchObject({ label: 'safe', categories: [], segmentsScanned: 1 });
        expect(verdict.score).toBeCloseTo(free.pUnsafe, 6);
        expect(verdict.error).toBeUndefined();
      } else {
        expect(verdict.error?.type).toBe('parse_error');
      }
    } finally {
      await guard.close();
    }
  });

  it('reports bad input and an unloaded model as error verdicts', async () => {
    const guard = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE });
    expect((await guard.check(inputRequest)).error?.type).toBe('unavailable');
    await guard.load();
    try {
      const verdict = await guard.check({ direction: 'output', texts: [], conversation: [{ role: 'user', content: 'hi' }] });
      expect(verdict.error?.type).toBe('bad_input');
      const tooLong = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE, maxPromptTokens: 50 });
      await tooLong.load();
      expect((await tooLong.check(inputRequest)).error).toEqual({ type: 'bad_input', message: expect.stringMatching(/over the limit of 50/) });
      await tooLong.close();
    } finally {
      await guard.close();
    }
  });

  it('concurrent checks on one session give the same verdicts as sequential ones', async () => {
    const guard = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE, maxNewTokens: 8 });
    await guard.load();
    try {
      const requests: GuardRequest[] = ['a cake', 'a pie', 'a bomb', 'some bread'].map((what) => ({
        direction: 'input',
        texts: [],
        conversation: [{ role: 'user', content: `How do I make ${what}?` }],
      }));
      const sequential = [];
      for (const r of requests) sequential.push(await guard.check(r));
      const parallel = await Promise.all(requests.map((r) => guard.check(r)));
      const strip = (v: { latencyMs: number }) => ({ ...v, latencyMs: 0 });
      expect(parallel.map(strip)).toEqual(sequential.map(strip));
    } finally {
      await guard.close();
    }
  });

  it('the deadline grows with the conversation (timeout_ms_per_1k_tokens), as on the other backends', async () => {
    const request: GuardRequest = { ...inputRequest, conversation: [{ role: 'user', content: 'word '.repeat(80) }] };
    const fixed = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE, maxNewTokens: 4, timeoutMs: 1 });
    const grown = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: FIXTURE, maxNewTokens: 4, timeoutMs: 1, timeoutPer1kTokensMs: 600_000, maxTimeoutMs: 120_000 });
    await fixed.load();
    await grown.load();
    try {
      // 400 characters: 100 tokens, so 1 ms + 60 s, under the 120 s cap.
      expect((await fixed.check(request)).error).toMatchObject({ type: 'timeout', message: 'no answer within 1 ms' });
      expect((await grown.check(request)).error?.type).not.toBe('timeout');
    } finally {
      await fixed.close();
      await grown.close();
    }
  });

  it('load() fails with an actionable message for a wrong directory', async () => {
    const guard = createLlamaGuard({ backend: 'onnx', name: 'lg', variant: '1b', modelDir: path.join(FIXTURE, 'nope') });
    await expect(guard.load()).rejects.toThrow(/does not exist/);
  });
});
