/** Maps whatever went wrong inside a check onto the GuardError kinds the policy's on_error sees. */
import type { GuardError } from '../types';
import { CallerAborted, DeadlineExceeded } from './deadline';

/** The input cannot be scanned within the configured limits (e.g. too many segments). */
export class InputRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputRefused';
  }
}

export function toGuardError(err: unknown): GuardError {
  if (err instanceof DeadlineExceeded) return { type: 'timeout', message: err.message };
  if (err instanceof CallerAborted) return { type: 'cancelled', message: err.message };
  if (err instanceof InputRefused) return { type: 'bad_input', message: err.message };
  const message = err instanceof Error ? err.message : String(err);
  return { type: 'model_error', message: `model run failed: ${message}` };
}
