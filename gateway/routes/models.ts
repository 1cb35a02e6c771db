import type { RequestHandler } from 'express';
import type { AppDeps } from '../app';
import { sendError } from '../errors';
import { engineApiError, upstreamClientError } from '../pipeline/engineErrors';
import { contextOf, setSafetyHeaders } from '../requestContext';

/** GET /v1/models: the engine's model list, as it sent it. */
export function modelsRoute(deps: AppDeps): RequestHandler {
  return async (_req, res) => {
    let ref: string | undefined;
    try {
      ref = deps.policies.current(contextOf(res).policyId).ref;
    } catch {
      ref = undefined;
    }
    try {
      const upstream = await deps.engine.get('/models');
      if (upstream.status >= 400) {
        setSafetyHeaders(res, 'allow', ref);
        return sendError(res, await upstreamClientError(upstream));
      }
      const chunks: Buffer[] = [];
      for await (const c of upstream.body) chunks.push(c as Buffer);
      setSafetyHeaders(res, 'allow', ref);
      res.status(200).type('application/json').send(Buffer.concat(chunks));
    } catch (err) {
      setSafetyHeaders(res, 'allow', ref);
      sendError(res, engineApiError(err));
    }
  };
}
