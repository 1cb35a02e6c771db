import type { GatewayConfig } from '../../config';

/** How the gateway builds its guards: the config's `guards` section, as the guard factory and the policy holder take it. */
export interface GuardSettings {
  threads: number;
  /** Encoder guards: inline-run budget, segments per ONNX run, batch wait (gateway config `guards.*`). */
  inlineBudgetMs?: number;
  batchSize?: number;
  batchWaitMs?: number;
  /** ONNX worker threads in the pool (gateway config `guards.workers`); default one per core. */
  workers?: number;
  /** Where remote guards report a server going down or coming back. */
  log?: (line: string) => void;
}

/** The gateway config's `guards` section as the guards take it. */
export function guardSettingsFrom(guards: GatewayConfig['guards']): GuardSettings {
  return { threads: guards.threads, inlineBudgetMs: guards.inline_budget_ms, batchSize: guards.batch_size, batchWaitMs: guards.batch_wait_ms, workers: guards.workers };
}
