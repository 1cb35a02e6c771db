import { labelOrder, orderedLogits } from '../../../guards/promptGuard/serverScores';
import { readTeiError, readTeiPredict, teiPredictBody, teiSaysTooLong } from '../../../guards/promptGuard/teiApi';
import { readVllmClassify, readVllmError, vllmClassifyBody, vllmSaysTooLong } from '../../../guards/promptGuard/vllmApi';

describe('TEI /predict', () => {
  test('a batch is a list of one-text lists (a bare pair of strings would be one text pair), never truncated, raw logits', () => {
    expect(teiPredictBody(['a', 'b'])).toEqual({ inputs: [['a'], ['b']], truncate: false, raw_scores: true });
  });

  test('reads per-input label scores, batched or single', () => {
    const batch = readTeiPredict(
      [
        [
          { label: 'JAILBREAK', score: 4 },
          { label: 'BENIGN', score: 1 },
          { label: 'INJECTION', score: -1 },
        ],
        [
          { label: 'BENIGN', score: 5 },
          { label: 'INJECTION', score: 0 },
          { label: 'JAILBREAK', score: 0 },
        ],
      ],
      2,
    );
    expect(batch.ok).toBe(true);
    if (!batch.ok) return;
    const labels = labelOrder(batch.rows[0]!, undefined);
    expect(labels).toEqual(['BENIGN', 'INJECTION', 'JAILBREAK']);
    expect(orderedLogits(batch.rows[0]!, labels)).toEqual([1, -1, 4]);
    const single = readTeiPredict([{ label: 'BENIGN', score: 2.1 }, { label: 'MALICIOUS', score: -1.3 }], 1);
    expect(single.ok && labelOrder(single.rows[0]!, undefined)).toEqual(['BENIGN', 'MALICIOUS']);
    expect(readTeiPredict([[{ label: 'BENIGN', score: 1 }]], 2)).toMatchObject({ ok: false });
    expect(readTeiPredict({ error: 'x' }, 1)).toMatchObject({ ok: false });
  });

  test('errors and the too-long answer', () => {
    expect(readTeiError({ error: 'Input validation error: `inputs` must have less than 512 tokens. Given: 600', error_type: 'Validation' })).toMatchObject({ type: 'Validation' });
    expect(teiSaysTooLong(413, 'Input validation error: `inputs` must have less than 512 tokens. Given: 600')).toBe(true);
    expect(teiSaysTooLong(413, 'batch size 40 > maximum allowed batch size 32')).toBe(false);
    expect(teiSaysTooLong(503, 'must have less than 512 tokens')).toBe(false);
  });
});

describe('a TEI /predict answer that would read a jailbreak as benign', () => {
  test('a row naming a label twice: refused, not read by its last entry', () => {
    const row = [{ label: 'JAILBREAK', score: 9 }, { label: 'BENIGN', score: 0 }, { label: 'INJECTION', score: 0 }, { label: 'JAILBREAK', score: -9 }];
    expect(readTeiPredict([row], 1)).toMatchObject({ ok: false, error: expect.stringContaining('twice') });
  });
});

describe('vLLM /classify', () => {
  test('request and answer; probabilities become logits (their log) in id2label order', () => {
    expect(vllmClassifyBody('m', ['a'])).toEqual({ model: 'm', input: ['a'] });
    const read = readVllmClassify(
      {
        data: [
          { index: 1, label: 'BENIGN', probs: [0.8, 0.1, 0.1], num_classes: 3 },
          { index: 0, label: 'JAILBREAK', probs: [0.1, 0.1, 0.8], num_classes: 3 },
        ],
      },
      2,
    );
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    const labels = labelOrder(read.rows[0]!, undefined);
    expect(labels).toEqual(['BENIGN', 'INJECTION', 'JAILBREAK']);
    expect(orderedLogits(read.rows[0]!, labels)[2]).toBeCloseTo(Math.log(0.8));
    expect(readVllmClassify({ data: [{ index: 0, probabilities: [0.3, 0.7] }] }, 1)).toMatchObject({ ok: true });
    expect(readVllmClassify({ data: [] }, 1)).toMatchObject({ ok: false });
  });

  test('a top label that contradicts the assumed labels is refused', () => {
    const read = readVllmClassify({ data: [{ index: 0, label: 'BENIGN', probs: [0.1, 0.1, 0.8] }] }, 1);
    expect(read.ok).toBe(true);
    if (!read.ok) return;
    expect(() => orderedLogits(read.rows[0]!, ['BENIGN', 'INJECTION', 'JAILBREAK'])).toThrow(/set `labels`/);
    expect(orderedLogits(read.rows[0]!, ['JAILBREAK', 'INJECTION', 'BENIGN'])).toHaveLength(3);
  });

  test('errors in both of its shapes, and the too-long answer', () => {
    expect(readVllmError({ object: 'error', message: 'boom', code: 400 })).toEqual({ message: 'boom' });
    expect(readVllmError({ error: { message: 'boom', type: 'BadRequestError' } })).toEqual({ message: 'boom' });
    expect(vllmSaysTooLong(400, "This model's maximum context length is 512 tokens. However, you requested 600 tokens")).toBe(true);
    expect(vllmSaysTooLong(400, 'The model `x` does not exist.')).toBe(false);
  });
});

describe('labels', () => {
  test('cannot tell which class is which: an error asking for `labels`', () => {
    const row = { byLabel: new Map([['A', 1], ['B', 2], ['C', 3]]) };
    expect(() => labelOrder(row, undefined)).toThrow(/set `labels`/);
    expect(labelOrder(row, ['A', 'B', 'C'])).toEqual(['A', 'B', 'C']);
    expect(() => labelOrder({ byIndex: [1, 2, 3, 4] }, undefined)).toThrow(/3 \(v1\) or 2 \(v2\)/);
  });

  test('LABEL_i names (a model exported without id2label) map by index', () => {
    const row = { byLabel: new Map([['LABEL_1', 2], ['LABEL_0', 1]]) };
    expect(labelOrder(row, undefined)).toEqual(['LABEL_0', 'LABEL_1']);
    expect(orderedLogits(row, ['BENIGN', 'MALICIOUS'])).toEqual([1, 2]);
  });
});
