import type { EncoderClassifier } from './encoderClassifier';

/** Counters an encoder guard exposes for metrics (and for tests that check batching and caching). */
export interface EncoderGuardStats {
  /** Texts answered from the cache / scored by the model. */
  cacheHits: number;
  cacheMisses: number;
  /** ONNX runs, segments they scored, and the largest run. */
  batches: number;
  segmentsRun: number;
  largestBatch: number;
  /** Runs on the main thread / in the ONNX worker, and the length up to which a lone segment runs inline. */
  inlineRuns: number;
  workerRuns: number;
  inlineMaxTokens: number;
}

export function emptyStats(): EncoderGuardStats {
  return { cacheHits: 0, cacheMisses: 0, batches: 0, segmentsRun: 0, largestBatch: 0, inlineRuns: 0, workerRuns: 0, inlineMaxTokens: 0 };
}

/** A guard's stats: its cache counters plus what its classifier's batcher and session counted. */
export function encoderGuardStats(counters: { cacheHits: number; cacheMisses: number }, classifier: EncoderClassifier | undefined): EncoderGuardStats {
  const stats = { ...emptyStats(), ...counters };
  if (!classifier) return stats;
  const b = classifier.batchStats;
  const r = classifier.runStats;
  return { ...stats, batches: b.batches, segmentsRun: b.inputs, largestBatch: b.largestBatch, inlineRuns: r.inlineRuns, workerRuns: r.workerRuns, inlineMaxTokens: r.inlineMaxTokens };
}

/** Where an encoder guard's runs go, for the start-up log. */
export function describeEncoderRuntime(classifier: EncoderClassifier | undefined): string {
  if (!classifier) return 'not loaded';
  const r = classifier.runStats;
  return r.inlineMaxTokens > 0 ? `ONNX worker; ${r.inline}` : `ONNX worker only (${r.inline})`;
}
