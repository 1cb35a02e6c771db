import type { Guard, GuardError, Verdict } from '../../../guards/types';
import type { PolicyHolder } from './policyRuntime';
import { noteGuardFault, oneLine } from './guardFaultLog';

/**
 * Guard health, for /readyz: a guard whose last N checks all failed (error or timeout) is failing,
 * and a replica whose required guard is failing is not ready, so load balancers drain it instead
 * of sending requests that can only get 503 guard_unavailable. Kept per Guard object (a guard is
 * shared by every policy version that uses it unchanged).
 */
export interface GuardHealthState {
  consecutiveFailures: number;
  /** The last failure, with the guard's own message (guards keep request text out of theirs). */
  lastError?: { type: GuardError['type']; at: string; message?: string };
  lastOkAt?: string;
}

/** Error types that say the guard itself is not working. `bad_input` is the request's problem, not the guard's. */
const FAULTS: ReadonlySet<GuardError['type']> = new Set(['timeout', 'unavailable', 'model_error', 'parse_error']);

const states = new WeakMap<Guard, GuardHealthState>();
const probes = new WeakMap<Guard, Promise<void>>();
/** Each probe's own cache scope: a verdict cached by an earlier probe must never answer this one. */
let probeCount = 0;

export function guardHealth(guard: Guard): GuardHealthState {
  let state = states.get(guard);
  if (!state) {
    state = { consecutiveFailures: 0 };
    states.set(guard, state);
  }
  return state;
}

/** Pure: the state after one more verdict. */
export function nextHealth(state: GuardHealthState, verdict: Pick<Verdict, 'error'>, at: string): GuardHealthState {
  if (!verdict.error) return { consecutiveFailures: 0, lastError: state.lastError, lastOkAt: at };
  if (!FAULTS.has(verdict.error.type)) return state;
  return { consecutiveFailures: state.consecutiveFailures + 1, lastError: { type: verdict.error.type, at, message: oneLine(verdict.error.message) }, lastOkAt: state.lastOkAt };
}

/** Pure: failing once the last `threshold` checks all failed. */
export function isFailing(state: GuardHealthState, threshold: number): boolean {
  return state.consecutiveFailures >= threshold;
}

/** Called with every verdict a request's check produced (not for checks the client's disconnect cut short). */
export function observeGuard(guard: Guard, verdict: Pick<Verdict, 'error'>, now: number = Date.now()): void {
  states.set(guard, nextHealth(guardHealth(guard), verdict, new Date(now).toISOString()));
  if (verdict.error && FAULTS.has(verdict.error.type)) noteGuardFault(guard, verdict.error, now);
}


/**
 * One small check of a failing guard, so it can recover while the replica is drained (no traffic
 * reaches it then). One probe at a time per guard; it gives up after `timeoutMs`.
 */
export function probeGuard(guard: Guard, timeoutMs: number): Promise<void> {
  const running = probes.get(guard);
  if (running) return running;
  const probe = (async () => {
    const signal = AbortSignal.timeout(timeoutMs);
    let verdict: Pick<Verdict, 'error'>;
    try {
      verdict = await Promise.race([
        // A scope of its own: the probe's fixed text, cached from the last time the guard worked,
        // would otherwise answer it without reaching the model or server, and report a broken guard healthy.
        guard.check({
          direction: 'input',
          texts: [{ source: 'user', path: 'readyz.probe', text: 'Hello' }],
          conversation: [{ role: 'user', content: 'Hello' }],
          signal,
          cacheScope: `readyz-probe-${++probeCount}`,
        }),
        new Promise<Pick<Verdict, 'error'>>((resolve) => signal.addEventListener('abort', () => resolve({ error: { type: 'timeout', message: 'readiness probe timed out' } }), { once: true })),
      ]);
    } catch (err) {
      verdict = { error: { type: 'model_error', message: (err as Error)?.message ?? String(err) } };
    }
    // An aborted probe reports `unavailable` from some backends: it is still a failed probe.
    observeGuard(guard, verdict.error && signal.aborted ? { error: { type: 'timeout', message: 'readiness probe timed out' } } : verdict);
  })().finally(() => probes.delete(guard));
  probes.set(guard, probe);
  return probe;
}

export interface GuardReadinessOptions {
  /** Consecutive failed checks after which a guard counts as failing. */
  failures: number;
  /** How long a readiness probe of a failing guard may take. */
  probeTimeoutMs: number;
}

/**
 * A /readyz check: every guard that an enforced `on_error: block` rule needs (in any policy in
 * force) must not be failing. A failing one is probed first, so it recovers as soon as it works.
 * Returns the problem (`guards: ...`) or undefined.
 */
export function guardReadinessCheck(policies: PolicyHolder, options: GuardReadinessOptions): () => Promise<string | undefined> {
  return async () => {
    const required = new Map<Guard, string>();
    for (const runtime of policies.all()) {
      for (const rule of [...runtime.loaded.policy.input, ...runtime.loaded.policy.output]) {
        const guard = runtime.guards.get(rule.guard);
        if (guard && rule.mode === 'enforce' && rule.on_error === 'block' && !required.has(guard)) required.set(guard, rule.guard);
      }
    }
    const failing = [...required].filter(([guard]) => isFailing(guardHealth(guard), options.failures));
    await Promise.all(failing.map(([guard]) => probeGuard(guard, Math.min(options.probeTimeoutMs, 10_000))));
    const still = failing.filter(([guard]) => isFailing(guardHealth(guard), options.failures));
    if (still.length === 0) return undefined;
    const described = still.map(([guard, name]) => {
      const state = guardHealth(guard);
      // The guard's own message (server URLs, what a server said) goes to the operator's log only: /readyz answers anyone.
      return `${name} (${state.consecutiveFailures} checks failed in a row, last ${state.lastError?.type ?? 'error'} at ${state.lastError?.at ?? '?'}; the reason is in the gateway's log)`;
    });
    return `guards: required guard failing: ${described.join('; ')}`;
  };
}
