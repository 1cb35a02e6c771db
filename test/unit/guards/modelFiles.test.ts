import { packRows, padPacked } from '../../../guards/onnx/batchLayout';
import { checkSessionSignature, padBatch, splitRows } from '../../../guards/onnx/encoderSession';
import { indexedLabels, onnxCandidates, parseModelConfig, resolveMaxLength } from '../../../guards/modelDirectory';

describe('config.json', () => {
  it('reads labels, categories, template and type vocab', () => {
    const c = parseModelConfig(
      { id2label: { 1: 'unsafe', 0: 'safe' }, category_id2label: { 0: 'S1', 1: 'S2' }, text_template: { user: 'User: {text}' }, type_vocab_size: 0, max_position_embeddings: 512 },
      'config.json',
    );
    expect(c).toMatchObject({ labels: ['safe', 'unsafe'], categoryLabels: ['S1', 'S2'], textTemplate: { user: 'User: {text}' }, typeVocabSize: 0, maxPositionEmbeddings: 512 });
  });

  it('says what is wrong with a label map', () => {
    expect(() => indexedLabels(undefined, 'id2label', 'config.json')).toThrow(/no id2label/);
    expect(() => indexedLabels({}, 'id2label', 'config.json')).toThrow(/empty/);
    expect(() => indexedLabels({ 0: '' }, 'id2label', 'config.json')).toThrow(/non-empty/);
    expect(() => parseModelConfig({ id2label: { 0: 'a' }, text_template: { user: 'no placeholder' } }, 'c')).toThrow(/\{text\}/);
  });
});

describe('ONNX file and window', () => {
  it('tries the root then onnx/, or the variant file', () => {
    expect(onnxCandidates()).toEqual(['model.onnx', 'onnx/model.onnx']);
    expect(onnxCandidates('quantized')).toEqual(['onnx/model_quantized.onnx', 'model_quantized.onnx']);
  });

  it('defaults the window to 512 and never exceeds the model\'s positions', () => {
    const config = parseModelConfig({ id2label: { 0: 'a' } }, 'c');
    expect(resolveMaxLength({}, config)).toBe(512);
    expect(resolveMaxLength({ model_max_length: 1e30 }, { ...config, maxPositionEmbeddings: 1024 })).toBe(1024);
    expect(resolveMaxLength({ model_max_length: 2048 }, { ...config, maxPositionEmbeddings: 512 })).toBe(512);
    expect(resolveMaxLength({}, config, 4096)).toBe(512);
    expect(() => resolveMaxLength({}, config, 2)).toThrow(/maxLength/);
  });
});

describe('session signature', () => {
  it('accepts an Optimum text-classification export', () => {
    expect(checkSessionSignature('m.onnx', ['input_ids', 'attention_mask'], ['logits', 'category_logits'], 0)).toEqual({ feedTokenTypeIds: false, outputs: ['category_logits'] });
    expect(checkSessionSignature('m.onnx', ['input_ids', 'attention_mask', 'token_type_ids'], ['logits'], 2).feedTokenTypeIds).toBe(true);
  });

  it('names what is missing or inconsistent', () => {
    expect(() => checkSessionSignature('m.onnx', ['input_ids'], ['logits'], 0)).toThrow(/no input "attention_mask"/);
    expect(() => checkSessionSignature('m.onnx', ['input_ids', 'attention_mask'], ['last_hidden_state'], 0)).toThrow(/no output "logits"/);
    expect(() => checkSessionSignature('m.onnx', ['input_ids', 'attention_mask', 'token_type_ids'], ['logits'], 0)).toThrow(/type_vocab_size 0/);
    expect(() => checkSessionSignature('m.onnx', ['input_ids', 'attention_mask', 'past_key_values.0.key'], ['logits'], 0)).toThrow(/past_key_values/);
  });
});

describe('padBatch', () => {
  it('pads rows to the longest with the pad id and masks the padding', () => {
    const { ids, mask, width } = padBatch([[1, 5, 2], [1, 2]], 0);
    expect(width).toBe(3);
    expect(Array.from(ids, Number)).toEqual([1, 5, 2, 1, 2, 0]);
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 1, 1, 0]);
  });
});

describe('batch layout for the ONNX worker', () => {
  it('packs rows end to end with their lengths, and the worker pads them back', () => {
    const packed = packRows([[1, 5, 2], [], [1, 2]]);
    expect(Array.from(packed.ids)).toEqual([1, 5, 2, 1, 2]);
    expect(Array.from(packed.lengths)).toEqual([3, 0, 2]);
    const { ids, mask, width } = padPacked(packed.ids, packed.lengths, 9);
    expect(width).toBe(3);
    expect(Array.from(ids, Number)).toEqual([1, 5, 2, 9, 9, 9, 1, 2, 9]);
    expect(Array.from(mask, Number)).toEqual([1, 1, 1, 0, 0, 0, 1, 1, 0]);
  });

  it('splits a [batch, labels] output into per-row views and refuses other shapes', () => {
    const rows = splitRows('logits', 'float32', Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3], 2);
    expect(rows.map((r) => Array.from(r))).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(() => splitRows('logits', 'float32', new Float32Array(6), [3, 2], 2)).toThrow(/expected \[2, labels\]/);
    expect(() => splitRows('logits', 'int64', new Float32Array(0), [2, 3], 2)).toThrow(/type int64/);
  });
});
