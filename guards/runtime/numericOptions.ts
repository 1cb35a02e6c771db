/** Shared checks for the numeric options every encoder guard accepts. */

/** Throws on option values that would only fail later, deep inside a check. */
export function checkNumericOptions(o: { temperature?: number; timeoutMs?: number; maxBatchSize?: number; batchWaitMs?: number; cacheSize?: number; maxSegments?: number; fineWindowTokens?: number }): void {
  const positive = (name: string, v: number | undefined, integer: boolean, allowZero = false) => {
    if (v === undefined) return;
    const ok = Number.isFinite(v) && (allowZero ? v >= 0 : v > 0) && (!integer || Number.isInteger(v));
    if (!ok) throw new Error(`${name} must be a ${integer ? "whole " : ""}number ${allowZero ? '>= 0' : '> 0'}, got ${v}`);
  };
  positive('temperature', o.temperature, false);
  positive('timeoutMs', o.timeoutMs, false);
  positive('maxBatchSize', o.maxBatchSize, true);
  positive('batchWaitMs', o.batchWaitMs, false, true);
  positive('cacheSize', o.cacheSize, true, true);
  positive('maxSegments', o.maxSegments, true);
  positive('fineWindowTokens', o.fineWindowTokens, true, true);
}
