/**
 * Llama Guard 3 (the content-safety classifier) on input and output, with two backends: a local
 * ONNX decoder with a KV cache, and an OpenAI-compatible server (vLLM / Ollama / TGI).
 */
import type { Guard } from '../types';
import { createLlamaGuardOnnx } from './onnx/onnxGuard';
import type { LlamaGuardOptions } from './options';
import { createLlamaGuardRemote } from './remote';

export function createLlamaGuard(options: LlamaGuardOptions): Guard {
  switch (options.backend) {
    case 'onnx':
      return createLlamaGuardOnnx(options);
    case 'openai':
      return createLlamaGuardRemote(options);
  }
}

export { createLlamaGuardOnnx } from './onnx/onnxGuard';
export { createLlamaGuardRemote, resolveMode, buildRemoteCall, outcomeOf, httpErrorType, type RemoteCall } from './remote';
export * from './options';
export * from './categories';
export { renderPrompt, promptBosPrefix, type PromptInput } from './prompt';
export { pythonStrip } from './strip';
export { neutralizeMarkers } from './escape';
export * from './turns';
export { parseAssessment, type Assessment } from './parse';
export { unsafeProbability, unsafeProbabilityFromTop, type TokenLogprob } from './score';
export { readChatCompletion, readTextCompletion, readErrorBody, type GuardCompletion } from './openaiResponse';
export { parseDecoderConfig, readDecoderModel, decoderOnnxCandidates, kvDtypeFor, type DecoderConfig } from './onnx/modelFiles';
export { OnnxDecoder, argmax, type GenerateOptions, type GenerateResult, type DecoderClassification } from './onnx/decoderClient';
export { resolveGuardTokens, type GuardTokenIds, type TokenLookup } from './onnx/guardTokens';
export { classifyPromptIds, type Classification } from './onnx/classify';
export { loadLlamaGuardOnnxModel, type LlamaGuardOnnxModel } from './onnx/localModel';
