import type { RequestHandler } from 'express';
import type { Engine } from '../../engine/client';
import type { PolicyHolder } from '../pipeline/runtime/policyRuntime';

export interface HealthDeps {
  policies: PolicyHolder;
  engine: Engine;
  /** Extra readiness checks (audit log writable, guards, ...), each returning a problem or undefined. */
  readinessChecks?: (() => Promise<string | undefined> | string | undefined)[];
}

/** /healthz: the process is up. /readyz: policy and guards loaded, engine reachable, extra checks pass. */
export function healthRoutes(deps: HealthDeps): { healthz: RequestHandler; readyz: RequestHandler } {
  const healthz: RequestHandler = (_req, res) => {
    res.json({ status: 'ok' });
  };
  const readyz: RequestHandler = async (_req, res) => {
    const problems: Record<string, string> = {};
    let policy: string | undefined;
    if (deps.policies.loaded) policy = deps.policies.current().ref;
    else problems.policy = 'no policy loaded';
    if (!(await deps.engine.ping(2000))) problems.engine = 'engine not reachable (its health check failed: GET /models, or engine.health_path)';
    for (const check of deps.readinessChecks ?? []) {
      const problem = await check();
      if (problem) problems[problem.split(':')[0]] = problem;
    }
    const ready = Object.keys(problems).length === 0;
    // A rejected reload leaves the last good set serving, so it is reported here but never makes
    // the replica unready: a broken save must not take a fleet out of rotation.
    const reload = deps.policies.reloadStatus();
    res.status(ready ? 200 : 503).json({
      status: ready ? 'ready' : 'not_ready',
      policy,
      policies: deps.policies.all().map((r) => r.ref),
      guards: policy ? [...deps.policies.current().guards.keys()] : [],
      problems,
      ...(reload.last?.status === 'rejected' ? { policy_reload: { status: 'rejected', at: reload.last.at, problems: reload.last.problems } } : {}),
    });
  };
  return { healthz, readyz };
}
