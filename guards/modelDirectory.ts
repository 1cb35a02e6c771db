/**
 * Reads a model directory in Hugging Face layout (config.json, tokenizer.json,
 * tokenizer_config.json, an ONNX file) and checks everything that can be checked without
 * running the model. Every failure names the missing piece and how to fix it, because the
 * operator who reads it is usually pointing the gateway at a directory they downloaded.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The parts of config.json the guards rely on; everything else is kept untouched in `raw`. */
export interface ModelConfig {
  /** Labels in index order (id2label "0", "1", ...). */
  labels: string[];
  /** Optional multi-label head (content-safety encoder): category codes in index order. */
  categoryLabels?: string[];
  /** Optional prompt templates per role, e.g. { user: "User: {text}" }. */
  textTemplate?: Record<string, string>;
  /** 0 when the model takes no token_type_ids. */
  typeVocabSize: number;
  maxPositionEmbeddings?: number;
  /** `fine_windows.max_tokens`: the fine-window size the model was trained to score (bundled models). */
  fineWindowTokens?: number;
  raw: Record<string, unknown>;
}

export interface ModelDirectory {
  dir: string;
  /** Absolute path of the ONNX file that will be loaded. */
  onnxPath: string;
  config: ModelConfig;
  /** Parsed tokenizer.json, passed as-is to the tokenizer library. */
  tokenizerJson: Record<string, unknown>;
  tokenizerConfig: Record<string, unknown>;
  /** Tokens per segment including special tokens. */
  maxLength: number;
}

export interface ModelDirectoryOptions {
  /** ONNX file variant: `quantized` selects `onnx/model_quantized.onnx` (or `model_quantized.onnx`). */
  variant?: string;
  /** Overrides the segment length read from the files (never above max_position_embeddings). */
  maxLength?: number;
}

export const DEFAULT_MAX_LENGTH = 512;
/** transformers writes a huge sentinel (1e30) as model_max_length when none was set. */
const UNSET_MODEL_MAX_LENGTH = 1_000_000;

export function readModelDirectory(dir: string, options: ModelDirectoryOptions = {}): ModelDirectory {
  const abs = path.resolve(dir);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new Error(
      `Model directory ${abs} does not exist. Point the guard's \`model\` at a directory in Hugging Face ` +
        `layout (config.json, tokenizer.json, tokenizer_config.json, onnx/model.onnx).`,
    );
  }
  const rawConfig = readJsonFile(abs, 'config.json', 'the model configuration with id2label');
  const tokenizerJson = readJsonFile(abs, 'tokenizer.json', 'the fast-tokenizer file; export it with `tokenizer.save_pretrained()`');
  const tokenizerConfig = readJsonFile(abs, 'tokenizer_config.json', 'the tokenizer settings saved next to tokenizer.json');
  const config = parseModelConfig(rawConfig, path.join(abs, 'config.json'));
  const onnxPath = findOnnxFile(abs, options.variant);
  const maxLength = resolveMaxLength(tokenizerConfig, config, options.maxLength);
  return { dir: abs, onnxPath, config, tokenizerJson, tokenizerConfig, maxLength };
}

function readJsonFile(dir: string, name: string, what: string): Record<string, unknown> {
  const file = path.join(dir, name);
  if (!fs.existsSync(file)) {
    throw new Error(`Model directory ${dir} has no ${name} (${what}). Copy it from the model's Hugging Face repository.`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file} is not valid JSON (${(err as Error).message}). Re-download it; it may be truncated or a Git LFS pointer.`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object. Re-download it from the model's repository.`);
  }
  return parsed as Record<string, unknown>;
}

/** Turns an `{"0": "A", "1": "B"}` map into ["A", "B"], insisting on contiguous indices from 0. */
export function indexedLabels(map: unknown, field: string, file: string): string[] {
  if (map === null || typeof map !== 'object' || Array.isArray(map)) {
    throw new Error(`${file} has no ${field} object. Add it, e.g. "${field}": {"0": "BENIGN", "1": "MALICIOUS"}.`);
  }
  const entries = Object.entries(map as Record<string, unknown>);
  const labels: string[] = new Array(entries.length);
  for (const [key, value] of entries) {
    const index = Number(key);
    if (!Number.isInteger(index) || index < 0 || index >= entries.length || typeof value !== 'string' || value.length === 0) {
      throw new Error(
        `${file} ${field} must map the indices 0..${entries.length - 1} to non-empty label names; found "${key}": ${JSON.stringify(value)}.`,
      );
    }
    labels[index] = value;
  }
  if (labels.length === 0) throw new Error(`${file} ${field} is empty. List the model's labels, e.g. {"0": "BENIGN", "1": "MALICIOUS"}.`);
  return labels;
}

export function parseModelConfig(raw: Record<string, unknown>, file: string): ModelConfig {
  const labels = indexedLabels(raw.id2label, 'id2label', file);
  const categoryLabels = raw.category_id2label === undefined ? undefined : indexedLabels(raw.category_id2label, 'category_id2label', file);
  let textTemplate: Record<string, string> | undefined;
  if (raw.text_template !== undefined) {
    const t = raw.text_template;
    if (t === null || typeof t !== 'object' || Array.isArray(t) || !Object.values(t).every((v) => typeof v === 'string' && v.includes('{text}'))) {
      throw new Error(`${file} text_template must map roles to strings containing {text}, e.g. {"user": "User: {text}"}.`);
    }
    textTemplate = t as Record<string, string>;
  }
  const typeVocabSize = typeof raw.type_vocab_size === 'number' ? raw.type_vocab_size : 0;
  const maxPositionEmbeddings = typeof raw.max_position_embeddings === 'number' && raw.max_position_embeddings > 0 ? raw.max_position_embeddings : undefined;
  let fineWindowTokens: number | undefined;
  if (raw.fine_windows !== undefined) {
    const w = raw.fine_windows as { max_tokens?: unknown } | null;
    const n = w && typeof w === 'object' ? w.max_tokens : undefined;
    if (!(typeof n === 'number' && Number.isInteger(n) && n >= 8)) {
      throw new Error(`${file} fine_windows.max_tokens must be an integer of at least 8 (the fine-window size the model was trained on), e.g. {"max_tokens": 64}.`);
    }
    fineWindowTokens = n;
  }
  return { labels, categoryLabels, textTemplate, typeVocabSize, maxPositionEmbeddings, fineWindowTokens, raw };
}

/** The ONNX files tried, in order; the first that exists wins. */
export function onnxCandidates(variant?: string): string[] {
  if (variant && variant !== 'default') {
    return [`onnx/model_${variant}.onnx`, `model_${variant}.onnx`];
  }
  return ['model.onnx', 'onnx/model.onnx'];
}

function findOnnxFile(dir: string, variant?: string): string {
  const candidates = onnxCandidates(variant);
  for (const rel of candidates) {
    const file = path.join(dir, rel);
    if (fs.existsSync(file)) return file;
  }
  const present = [dir, path.join(dir, 'onnx')]
    .filter((d) => fs.existsSync(d))
    .flatMap((d) => fs.readdirSync(d).filter((f) => f.endsWith('.onnx')).map((f) => path.relative(dir, path.join(d, f))));
  const hint = present.length
    ? `ONNX files present: ${present.join(', ')}; choose one with the variant option (model_<variant>.onnx).`
    : 'No .onnx file is present: export the model with Hugging Face Optimum (`optimum-cli export onnx --task text-classification`).';
  throw new Error(`Model directory ${dir} has none of ${candidates.join(', ')}. ${hint}`);
}

/**
 * Segment length: tokenizer_config's model_max_length, capped by config's
 * max_position_embeddings; 512 when neither is set. An explicit override may only shrink it,
 * because positions past max_position_embeddings do not exist in the model.
 */
export function resolveMaxLength(tokenizerConfig: Record<string, unknown>, config: ModelConfig, override?: number): number {
  const candidates: number[] = [];
  const mml = tokenizerConfig.model_max_length;
  if (typeof mml === 'number' && mml > 0 && mml < UNSET_MODEL_MAX_LENGTH) candidates.push(Math.floor(mml));
  if (config.maxPositionEmbeddings) candidates.push(config.maxPositionEmbeddings);
  let maxLength = candidates.length ? Math.min(...candidates) : DEFAULT_MAX_LENGTH;
  if (override !== undefined) {
    if (!Number.isInteger(override) || override < 3) throw new Error(`maxLength must be an integer >= 3, got ${override}.`);
    maxLength = Math.min(maxLength, override);
  }
  if (maxLength < 3) throw new Error(`The model's maximum length (${maxLength}) leaves no room for text between the special tokens.`);
  return maxLength;
}
