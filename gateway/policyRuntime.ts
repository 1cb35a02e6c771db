import type { Guard } from '../guards/types';
import { loadPolicyFile, type LoadedPolicy } from '../policies/loader';
import type { GuardSpec } from '../policies/schema';
import { createGuardFromSpec } from './guardFactory';

/** A policy together with its loaded guards: what one request uses from start to end. */
export interface PolicyRuntime {
  loaded: LoadedPolicy;
  guards: ReadonlyMap<string, Guard>;
  timeouts: ReadonlyMap<string, number>;
  /** `<id>@<version>`, the x-safety-policy header value. */
  ref: string;
}

export interface GuardSettings {
  threads: number;
}

/**
 * Holds the policy in force. A new policy is loaded completely (its guards included) before it is
 * swapped in, in one assignment, so a request that took a snapshot keeps seeing one version.
 * Guards whose spec did not change are reused across versions (ONNX sessions are costly).
 */
export class PolicyHolder {
  private runtime: PolicyRuntime | undefined;
  private readonly guardCache = new Map<string, Guard>();

  constructor(private readonly settings: GuardSettings) {}

  current(): PolicyRuntime {
    if (!this.runtime) throw new Error('no policy loaded');
    return this.runtime;
  }

  get loaded(): boolean {
    return this.runtime !== undefined;
  }

  async loadFile(file: string): Promise<PolicyRuntime> {
    return this.install(loadPolicyFile(file));
  }

  async install(loaded: LoadedPolicy): Promise<PolicyRuntime> {
    const guards = new Map<string, Guard>();
    const timeouts = new Map<string, number>();
    for (const [name, spec] of Object.entries(loaded.policy.guards)) {
      guards.set(name, await this.guardFor(name, spec));
      timeouts.set(name, spec.timeout_ms);
    }
    const runtime: PolicyRuntime = { loaded, guards, timeouts, ref: `${loaded.id}@${loaded.version}` };
    this.runtime = runtime;
    await this.releaseUnused(runtime);
    return runtime;
  }

  async close(): Promise<void> {
    await Promise.all([...this.guardCache.values()].map((g) => g.close().catch(() => undefined)));
    this.guardCache.clear();
  }

  private async guardFor(name: string, spec: GuardSpec): Promise<Guard> {
    const key = `${name}|${JSON.stringify(spec)}|${this.settings.threads}`;
    const cached = this.guardCache.get(key);
    if (cached) return cached;
    const guard = createGuardFromSpec(name, spec, this.settings);
    await guard.load();
    this.guardCache.set(key, guard);
    return guard;
  }

  private async releaseUnused(runtime: PolicyRuntime): Promise<void> {
    const inUse = new Set(runtime.guards.values());
    for (const [key, guard] of this.guardCache) {
      if (!inUse.has(guard)) {
        this.guardCache.delete(key);
        // In-flight requests of the old version may still hold it: close after they had time to finish.
        setTimeout(() => void guard.close().catch(() => undefined), 60_000).unref();
      }
    }
  }
}
