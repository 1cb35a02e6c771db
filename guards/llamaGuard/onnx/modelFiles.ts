/**
 * A Llama Guard decoder directory in the Optimum / transformers.js layout (as
 * `onnx-community/Llama-Guard-3-1B` ships it): config.json, generation_config.json,
 * tokenizer.json (+ tokenizer_config.json), and model.onnx or onnx/model[_variant].onnx.
 * Every failure names the missing piece, because the operator reading it pointed us at a
 * directory they downloaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { OnnxModelVariant } from '../options';

type Json = Record<string, unknown>;

/** What the KV-cache loop needs to know about the network. */
export interface DecoderConfig {
  numLayers: number;
  numKvHeads: number;
  headDim: number;
  maxPositionEmbeddings?: number;
  /** End-of-sequence ids from config.json and generation_config.json (union). */
  eosTokenIds: number[];
}

export interface DecoderModelFiles {
  dir: string;
  onnxPath: string;
  config: DecoderConfig;
  tokenizerJson: Json;
  tokenizerConfig: Json;
}

function positiveInt(raw: Json, key: string): number | undefined {
  const v = raw[key];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function idList(v: unknown): number[] {
  if (typeof v === 'number' && Number.isInteger(v)) return [v];
  if (Array.isArray(v)) return v.filter((x): x is number => typeof x === 'number' && Number.isInteger(x));
  return [];
}

/** Reads the shape fields from config.json (and eos ids from generation_config.json too). */
export function parseDecoderConfig(raw: Json, generation: Json = {}, file = 'config.json'): DecoderConfig {
  const numLayers = positiveInt(raw, 'num_hidden_layers');
  const numHeads = positiveInt(raw, 'num_attention_heads');
  const numKvHeads = positiveInt(raw, 'num_key_value_heads') ?? numHeads;
  const hidden = positiveInt(raw, 'hidden_size');
  const headDim = positiveInt(raw, 'head_dim') ?? (hidden && numHeads && hidden % numHeads === 0 ? hidden / numHeads : undefined);
  if (!numLayers) throw new Error(`${file} has no num_hidden_layers: it is not a decoder config (copy config.json from the model's repository).`);
  if (!numKvHeads) throw new Error(`${file} has neither num_key_value_heads nor num_attention_heads.`);
  if (!headDim) throw new Error(`${file} has no head_dim, and hidden_size / num_attention_heads does not give one.`);
  const eosTokenIds = [...new Set([...idList(raw.eos_token_id), ...idList(generation.eos_token_id)])];
  return { numLayers, numKvHeads, headDim, maxPositionEmbeddings: positiveInt(raw, 'max_position_embeddings'), eosTokenIds };
}

/** The ONNX files tried, in order; the first that exists wins. */
export function decoderOnnxCandidates(variant?: OnnxModelVariant): string[] {
  if (!variant || variant === 'fp32' || variant === 'default') return ['onnx/model.onnx', 'model.onnx'];
  if (!/^[A-Za-z0-9_]+$/.test(variant)) throw new Error(`ONNX variant ${JSON.stringify(variant)} must be a file suffix like fp16 or q4f16.`);
  return [`onnx/model_${variant}.onnx`, `model_${variant}.onnx`];
}

/** float16 past/present tensors for the fp16 exports; every other export keeps a float32 cache. */
export function kvDtypeFor(variant?: OnnxModelVariant): 'float32' | 'float16' {
  return variant !== undefined && /(?:fp16|f16)$/.test(variant) ? 'float16' : 'float32';
}

function readJson(dir: string, name: string, what: string, optional: boolean): Json | undefined {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    if (optional) return undefined;
    throw new Error(`Llama Guard model directory ${dir} has no ${name} (${what}). Copy it from the model's Hugging Face repository.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}); it may be truncated or a Git LFS pointer.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${file} must hold a JSON object.`);
  return parsed as Json;
}

export function readDecoderModel(dir: string, variant?: OnnxModelVariant): DecoderModelFiles {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new Error(
      `Llama Guard model directory ${abs} does not exist. Point the guard's \`model\` at an ONNX export in the ` +
        'transformers.js layout (config.json, tokenizer.json, onnx/model.onnx), e.g. onnx-community/Llama-Guard-3-1B.',
    );
  }
  const raw = readJson(abs, 'config.json', 'the decoder configuration', false)!;
  const generation = readJson(abs, 'generation_config.json', 'stop ids', true) ?? {};
  const config = parseDecoderConfig(raw, generation, path.join(abs, 'config.json'));
  const tokenizerJson = readJson(abs, 'tokenizer.json', 'the fast tokenizer', false)!;
  const tokenizerConfig = readJson(abs, 'tokenizer_config.json', 'tokenizer settings', true) ?? {};
  const candidates = decoderOnnxCandidates(variant);
  const found = candidates.map((rel) => path.join(abs, rel)).find((f) => fs.existsSync(f));
  if (!found) {
    const present = [abs, path.join(abs, 'onnx')]
      .filter((d) => fs.existsSync(d))
      .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.onnx')).map((f) => path.relative(abs, path.join(d, f))));
    throw new Error(
      `Llama Guard model directory ${abs} has none of ${candidates.join(', ')}. ` +
        (present.length ? `ONNX files present: ${present.join(', ')}; pick one with onnxVariant.` : 'No .onnx file is present.'),
    );
  }
  return { dir: abs, onnxPath: found, config, tokenizerJson, tokenizerConfig };
}
