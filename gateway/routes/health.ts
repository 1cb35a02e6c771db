import { Router } from 'express';
import type { AppDeps } from '../app';

/** /healthz: the process is up. /readyz: policy and guards loaded, engine reachable, extra checks pass. */
export function healthRoutes(deps: AppDeps): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const problems: Record<string, string> = {};
    let policy: string | undefined;
    if (deps.policies.loaded) policy = deps.policies.current().ref;
    else problems.policy = 'no policy loaded';
    if (!(await deps.engine.ping(2000))) problems.engine = 'engine not reachable (GET /models failed)';
    for (const check of deps.readinessChecks ?? []) {
      const problem = await check();
      if (problem) problems[problem.split(':')[0]] = problem;
    }
    const ready = Object.keys(problems).length === 0;
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', policy, guards: policy ? [...deps.policies.current().guards.keys()] : [], problems });
  });
  return router;
}
