import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { decoderOnnxCandidates, kvDtypeFor, parseDecoderConfig, readDecoderModel } from '../../../guards/llamaGuard/onnx/modelFiles';

const FIXTURE = path.join(__dirname, '../../fixtures/models/llama-guard-tiny');

describe('parseDecoderConfig', () => {
  it('reads the shape of onnx-community/Llama-Guard-3-1B', () => {
    const config = parseDecoderConfig(
      { num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, head_dim: 64, hidden_size: 2048, max_position_embeddings: 131072, eos_token_id: [128001, 128008, 128009] },
      { eos_token_id: [128001, 128009] },
    );
    expect(config).toEqual({ numLayers: 16, numKvHeads: 8, headDim: 64, maxPositionEmbeddings: 131072, eosTokenIds: [128001, 128008, 128009] });
  });

  it('derives head_dim from hidden_size / num_attention_heads, and KV heads default to the attention heads', () => {
    const config = parseDecoderConfig({ num_hidden_layers: 2, num_attention_heads: 4, hidden_size: 64, eos_token_id: 7 }, { eos_token_id: 9 });
    expect(config).toMatchObject({ numKvHeads: 4, headDim: 16, eosTokenIds: [7, 9] });
  });

  it('says what is missing', () => {
    expect(() => parseDecoderConfig({ id2label: { 0: 'a' } })).toThrow(/num_hidden_layers/);
    expect(() => parseDecoderConfig({ num_hidden_layers: 2, num_attention_heads: 3, hidden_size: 64 })).toThrow(/head_dim/);
  });
});

describe('ONNX file choice', () => {
  it('tries onnx/ then the root, with the variant suffix', () => {
    expect(decoderOnnxCandidates()).toEqual(['onnx/model.onnx', 'model.onnx']);
    expect(decoderOnnxCandidates('q4f16')).toEqual(['onnx/model_q4f16.onnx', 'model_q4f16.onnx']);
    expect(() => decoderOnnxCandidates('../x')).toThrow(/file suffix/);
  });

  it('uses a float16 KV cache only for the f16 exports', () => {
    expect(kvDtypeFor(undefined)).toBe('float32');
    expect(kvDtypeFor('q4')).toBe('float32');
    expect(kvDtypeFor('fp16')).toBe('float16');
    expect(kvDtypeFor('q4f16')).toBe('float16');
  });
});

describe('readDecoderModel', () => {
  it('reads the tiny fixture', () => {
    const files = readDecoderModel(FIXTURE);
    expect(files.onnxPath).toBe(path.join(FIXTURE, 'onnx/model.onnx'));
    expect(files.config).toMatchObject({ numLayers: 2, numKvHeads: 2, headDim: 16, eosTokenIds: [497, 504, 505] });
  });

  it('names the missing piece', () => {
    expect(() => readDecoderModel('/nonexistent/dir')).toThrow(/does not exist/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-'));
    try {
      expect(() => readDecoderModel(dir)).toThrow(/no config\.json/);
      fs.copyFileSync(path.join(FIXTURE, 'config.json'), path.join(dir, 'config.json'));
      expect(() => readDecoderModel(dir)).toThrow(/no tokenizer\.json/);
      fs.copyFileSync(path.join(FIXTURE, 'tokenizer.json'), path.join(dir, 'tokenizer.json'));
      fs.writeFileSync(path.join(dir, 'model_int8.onnx'), '');
      expect(() => readDecoderModel(dir)).toThrow(/ONNX files present: model_int8\.onnx/);
      expect(readDecoderModel(dir, 'int8').onnxPath).toBe(path.join(dir, 'model_int8.onnx'));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
