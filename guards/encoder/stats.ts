/** Counters an encoder guard exposes for metrics (and for tests that check batching and caching). */
export interface EncoderGuardStats {
  /** Texts answered from the cache / scored by the model. */
  cacheHits: number;
  cacheMisses: number;
  /** ONNX runs, segments they scored, and the largest run. */
  batches: number;
  segmentsRun: number;
  largestBatch: number;
}

export function emptyStats(): EncoderGuardStats {
  return { cacheHits: 0, cacheMisses: 0, batches: 0, segmentsRun: 0, largestBatch: 0 };
}
