/**
 * Everything a local Llama Guard 3 needs, loaded once: the decoder session, the tokenizer and the
 * scoring token ids. Exposed on its own so tests and the benchmark reach the decoder directly.
 */
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { readDecoderModel, kvDtypeFor } from './modelFiles';
import { type GuardTokenIds, resolveGuardTokens } from './guardTokens';
import { OnnxDecoder } from './decoderClient';
import type { LlamaGuardOnnxOptions } from '../options';

export interface LlamaGuardOnnxModel {
  dir: string;
  decoder: OnnxDecoder;
  tokens: GuardTokenIds;
  /** Prompt text -> ids; special-token strings in the template become their ids, nothing is added. */
  encode(text: string): number[];
  /** Ids -> text, special tokens kept (a stray one must make the answer unreadable, not vanish). */
  decode(ids: readonly number[]): string;
  maxPositionEmbeddings?: number;
  close(): Promise<void>;
}

export type OnnxModelOptions = Pick<LlamaGuardOnnxOptions, 'modelDir' | 'onnxVariant' | 'stopTokenIds' | 'sessionOptions' | 'intraOpThreads'>;

export async function loadLlamaGuardOnnxModel(options: OnnxModelOptions): Promise<LlamaGuardOnnxModel> {
  const files = readDecoderModel(options.modelDir, options.onnxVariant);
  const tokenizer = new Tokenizer(files.tokenizerJson, files.tokenizerConfig);
  const encode = (text: string): number[] => tokenizer.encode(text, { add_special_tokens: false }).ids;
  const tokens = resolveGuardTokens({ encode, tokenToId: (t) => tokenizer.token_to_id(t) }, files.config.eosTokenIds, options.stopTokenIds);
  const decoder = await OnnxDecoder.create(files.onnxPath, files.config, {
    kvDtype: kvDtypeFor(options.onnxVariant),
    sessionOptions: options.sessionOptions ?? (options.intraOpThreads ? { intraOpNumThreads: options.intraOpThreads } : undefined),
  });
  return {
    dir: files.dir,
    decoder,
    tokens,
    encode,
    decode: (ids) => tokenizer.decode([...ids], { skip_special_tokens: false }),
    maxPositionEmbeddings: files.config.maxPositionEmbeddings,
    close: () => decoder.close(),
  };
}

/** Model identity for verdicts: the directory name, e.g. `Llama-Guard-3-1B`. */
export function modelNameOf(options: Pick<LlamaGuardOnnxOptions, 'modelDir' | 'model' | 'onnxVariant'>): string {
  if (options.model) return options.model;
  const base = path.basename(path.resolve(options.modelDir));
  return options.onnxVariant && options.onnxVariant !== 'fp32' ? `${base}:${options.onnxVariant}` : base;
}
