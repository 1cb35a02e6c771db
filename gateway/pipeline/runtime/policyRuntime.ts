import type { Guard } from '../../../guards/types';
import type { LoadedPolicy } from '../../../policies/loader';
import { loadPolicySet, PolicySetError, type PolicySet } from '../../../policies/policySet';
import { formatProblem, PolicyError } from '../../../policies/problems';
import type { GuardSpec } from '../../../policies/schema';
import { createPolicyWatcher, type PolicyWatcher } from '../../../policies/watcher';
import { UnknownPolicyError } from '../../errors';
import { createGuardFromSpec, timeoutBudgetOf } from './guardFactory';
import { logGuardFaults } from './guardFaultLog';
import type { GuardSettings } from './guardSettings';
import { ortHost } from '../../../guards/onnx/ortHost';
import type { TimeoutBudget } from '../../../guards/runtime/timeoutBudget';
import { recordPolicyReload } from '../../telemetry/metrics';
import { localModelIdentity, tokenizerIdentity } from '../../../policies/version';

// Lives in errors.ts so the access layer can audit it without importing the runtime.
export { UnknownPolicyError };

/** A policy together with its loaded guards: what one request uses from start to end. */
export interface PolicyRuntime {
  loaded: LoadedPolicy;
  guards: ReadonlyMap<string, Guard>;
  /** Per guard: its timeout budget (a fixed number of ms where a caller builds one by hand). */
  timeouts: ReadonlyMap<string, number | TimeoutBudget>;
  /** `<id>@<version>`, the x-safety-policy header value. */
  ref: string;
}

export interface PolicyHolderOptions extends GuardSettings {
  /** Where reload outcomes are logged (one line each, problems indented below). */
  log?: (line: string) => void;
  /**
   * How long a request's engine call may take (the engine's total timeout): guards a reload
   * replaced are closed only after that, twice the longest guard budget (input checks before it,
   * answer checks after) and a minute have passed.
   */
  longestRequestMs?: number;
}

/** The least time a replaced guard stays open after a reload (requests of the old version finish). */
const RETIRE_GRACE_MS = 60_000;
/** The longest delay setTimeout honours (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/** What one reload did. `rejected` leaves the previous set in force. */
export interface ReloadOutcome {
  status: 'reloaded' | 'unchanged' | 'rejected';
  at: string;
  /** `id@version` of every policy in force after this reload, the default first. */
  policies: string[];
  /** `file:line:column: message` for each problem, when rejected. */
  problems?: string[];
}

/** Reload counters, for a metric (e.g. safety_policy_reloads_total{outcome}). */
export type ReloadCounts = Record<ReloadOutcome['status'], number>;

interface RuntimeSet {
  main: PolicyRuntime;
  byId: ReadonlyMap<string, PolicyRuntime>;
  signature: string;
}

/**
 * Holds the policy set in force. A new set is loaded completely (every policy and guard) before it
 * is swapped in, in one assignment, so a request that took a snapshot keeps seeing one version
 * and no request ever sees half a set. Guards whose spec did not change are reused across
 * versions (ONNX sessions are costly). An invalid change is reported and changes nothing.
 */
export class PolicyHolder {
  private set: RuntimeSet | undefined;
  private readonly guardCache = new Map<string, Guard>();
  /** The longest guard time budget (its cap) of any policy loaded so far: a request can spend it before and after the engine. */
  private longestGuardBudgetMs = 0;

  /** Guards built and not yet retired (the sets in force hold them; a retired one closes after a grace period). */
  get guardsOpen(): number {
    return this.guardCache.size;
  }
  private mainFile: string | undefined;
  private directories: string[] = [];
  private listed: string[] = [];
  private watcher: PolicyWatcher | undefined;
  private running: Promise<void> = Promise.resolve();
  private queued: Promise<ReloadOutcome> | undefined;
  private last: ReloadOutcome | undefined;
  private readonly counts: ReloadCounts = { reloaded: 0, unchanged: 0, rejected: 0 };
  private readonly listeners = new Set<(outcome: ReloadOutcome) => void>();
  private readonly log: (line: string) => void;

  constructor(private readonly settings: PolicyHolderOptions) {
    this.log = settings.log ?? (() => undefined);
    // Before any guard loads: encoder guards size their concurrent batches by the pool.
    ortHost().configure({ workers: settings.workers });
  }

  /** The runtime for a request: the app's policy when auth assigned one, else the default. */
  current(policyId?: string): PolicyRuntime {
    if (!this.set) throw new Error('no policy loaded');
    if (policyId === undefined) return this.set.main;
    const runtime = this.set.byId.get(policyId);
    if (!runtime) throw new UnknownPolicyError(policyId);
    return runtime;
  }

  get loaded(): boolean {
    return this.set !== undefined;
  }

  /** Every policy in force, the default first. */
  all(): PolicyRuntime[] {
    if (!this.set) return [];
    return [this.set.main, ...[...this.set.byId.values()].filter((r) => r !== this.set?.main)];
  }

  /** Loads the set whose main file this is (throws PolicyError when any of it is invalid) and remembers it for reloads. */
  async loadFile(file: string): Promise<PolicyRuntime> {
    this.mainFile = file;
    let set: PolicySet;
    try {
      set = loadPolicySet(file);
    } catch (err) {
      if (err instanceof PolicySetError) [this.directories, this.listed] = [err.directories, err.listed];
      throw err;
    }
    [this.directories, this.listed] = [set.directories, set.listed];
    return this.installSet(set);
  }

  /** Installs one policy as a set of its own. */
  async install(loaded: LoadedPolicy): Promise<PolicyRuntime> {
    return this.installSet({ main: loaded, byId: new Map([[loaded.id, loaded]]), directories: [], listed: [] });
  }

  async installSet(set: PolicySet): Promise<PolicyRuntime> {
    const byId = new Map<string, PolicyRuntime>();
    let main: PolicyRuntime;
    try {
      for (const loaded of set.byId.values()) byId.set(loaded.id, await this.runtimeFor(loaded));
      main = byId.get(set.main.id) ?? (await this.runtimeFor(set.main));
    } catch (err) {
      // Guards this attempt built before one failed are in no set: retire them, or every rejected reload would keep more open.
      await this.releaseUnused();
      throw err;
    }
    this.set = { main, byId, signature: signatureOf(set) };
    await this.releaseUnused();
    return main;
  }

  /**
   * Loads the main file's set again and swaps it in when valid. Never throws: an invalid set is a
   * `rejected` outcome (logged, counted, kept for readyz) and the set in force stays. Reloads run
   * one at a time; calls made while one waits to start share it.
   */
  reload(): Promise<ReloadOutcome> {
    if (this.queued) return this.queued;
    const run = this.running.then(() => {
      this.queued = undefined;
      return this.reloadNow();
    });
    this.queued = run;
    this.running = run.then(() => undefined);
    return run;
  }

  /** Reloads whenever a file in the set's directories changes. Calling it again restarts the watch with new options. */
  watch(options: { debounceMs?: number } = {}): void {
    this.watcher?.close();
    this.watcher = createPolicyWatcher({
      debounceMs: options.debounceMs ?? 150,
      onChange: () => void this.reload(),
      onError: (directory, error) => this.log(`policy watch: cannot watch ${directory} (${error.message}); changes there need a restart`),
    });
    this.watcher.watch(this.directories, this.listed);
  }

  /** For readiness and metrics: counts per outcome and the latest outcome. */
  reloadStatus(): { counts: ReloadCounts; last?: ReloadOutcome } {
    return { counts: { ...this.counts }, last: this.last };
  }

  /** Calls `listener` after every reload; returns the function that stops it. */
  onReload(listener: (outcome: ReloadOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    this.listeners.clear();
    await this.running.catch(() => undefined);
    await Promise.all([...this.guardCache.values()].map((g) => g.close().catch(() => undefined)));
    this.guardCache.clear();
  }

  private async reloadNow(): Promise<ReloadOutcome> {
    if (!this.mainFile) throw new Error('no policy file to reload: call loadFile first');
    let outcome: ReloadOutcome;
    try {
      const set = loadPolicySet(this.mainFile);
      [this.directories, this.listed] = [set.directories, set.listed];
      if (this.set && signatureOf(set) === this.set.signature) {
        outcome = this.outcome('unchanged');
        // The operator read the rejection in the log: say that the files are fine again (back as loaded).
        if (this.last?.status === 'rejected') this.log(`policy files valid again, unchanged from the set in force: ${outcome.policies.join(', ')}`);
      } else {
        await this.installSet(set);
        outcome = this.outcome('reloaded');
        this.log(`policy reloaded: ${outcome.policies.join(', ')}`);
      }
    } catch (err) {
      // Keep watching wherever the broken set looked: the fix may land in a new file there.
      if (err instanceof PolicySetError) {
        this.directories = [...new Set([...this.directories, ...err.directories])];
        this.listed = [...new Set([...this.listed, ...err.listed])];
      }
      const problems = err instanceof PolicyError ? err.problems.map((p) => formatProblem(p)) : [`cannot load the policy's guards: ${(err as Error).message}`];
      outcome = this.outcome('rejected', problems);
      this.log(`policy reload rejected; still in force: ${outcome.policies.join(', ')}\n${problems.map((p) => `  ${p}`).join('\n')}`);
    }
    this.watcher?.watch(this.directories, this.listed);
    this.counts[outcome.status] += 1;
    this.last = outcome;
    recordPolicyReload(this.set?.main.loaded.id ?? 'none', outcome.status === 'rejected' ? 'failure' : 'success');
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch {
        /* a listener's failure must not stop reloads */
      }
    }
    return outcome;
  }

  private outcome(status: ReloadOutcome['status'], problems?: string[]): ReloadOutcome {
    return { status, at: new Date().toISOString(), policies: this.all().map((r) => r.ref), ...(problems ? { problems } : {}) };
  }

  private async runtimeFor(loaded: LoadedPolicy): Promise<PolicyRuntime> {
    const guards = new Map<string, Guard>();
    const timeouts = new Map<string, TimeoutBudget>();
    for (const [name, spec] of Object.entries(loaded.policy.guards)) {
      try {
        guards.set(name, await this.guardFor(name, spec));
      } catch (err) {
        // Say which file and policy: a set has several, and a reload's log line is all an operator sees.
        throw new Error(`${loaded.file} (policy ${loaded.id}): ${(err as Error).message}`);
      }
      // Each guard enforces this budget for the text it reads; the pipeline's backstop for a guard
      // that never settles computes the same (gateway/pipeline/runRules.ts).
      const budget = timeoutBudgetOf(spec);
      timeouts.set(name, budget);
      this.longestGuardBudgetMs = Math.max(this.longestGuardBudgetMs, budget.maxMs);
    }
    return { loaded, guards, timeouts, ref: `${loaded.id}@${loaded.version}` };
  }

  private async guardFor(name: string, spec: GuardSpec): Promise<Guard> {
    const { threads, inlineBudgetMs, batchSize, batchWaitMs } = this.settings;
    // A model replaced on disk is a new guard: the old session would score with the old weights.
    const key = `${name}|${JSON.stringify(spec)}|${localModelIdentity(spec) ?? ''}|${tokenizerIdentity(spec).tokenizer ?? ''}|${JSON.stringify([threads, inlineBudgetMs, batchSize, batchWaitMs])}`;
    const cached = this.guardCache.get(key);
    if (cached) return cached;
    const guard = createGuardFromSpec(name, spec, this.settings);
    if (this.settings.log) logGuardFaults(guard, name, this.settings.log);
    await guard.load();
    this.guardCache.set(key, guard);
    return guard;
  }

  private async releaseUnused(): Promise<void> {
    const inUse = new Set(this.all().flatMap((r) => [...r.guards.values()]));
    for (const [key, guard] of this.guardCache) {
      if (!inUse.has(guard)) {
        this.guardCache.delete(key);
        // In-flight requests of the old version may still hold it (a stream checks its windows for as
        // long as the engine answers, and the whole answer after): close after the longest of them
        // had time to finish: its input checks, the engine, its answer checks.
        const longestRequestMs = (this.settings.longestRequestMs ?? 0) + 2 * this.longestGuardBudgetMs;
        // Capped: node fires a longer timer at once (a timeout set to 2^31 - 1 ms as "none" would close it now).
        setTimeout(() => void guard.close().catch(() => undefined), Math.min(MAX_TIMER_MS, RETIRE_GRACE_MS + longestRequestMs)).unref();
      }
    }
  }
}

function signatureOf(set: PolicySet): string {
  const refs = [...set.byId.values()].map((p) => `${p.id}@${p.version}`).sort();
  return `${set.main.id}|${refs.join(',')}`;
}
