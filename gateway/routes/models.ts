import type { RequestHandler, Response } from 'express';
import { z } from 'zod';
import { ApiError, sendError } from '../errors';
import { readEngineBody } from '../pipeline/engineAnswer';
import { engineApiError, upstreamClientError } from '../pipeline/engineErrors';
import { contextOf, setSafetyHeaders } from '../pipeline/requestContext';
import { MODEL_ID } from '../pipeline/requestSchemas';
import type { RouteDeps } from './routeDeps';

/** The engine's model list, as far as the gateway reads it: entries with an id (engines add members, kept as sent). */
const ModelList = z.looseObject({ data: z.array(z.looseObject({ id: z.string() })) });

function policyRef(deps: RouteDeps, res: Response): string | undefined {
  try {
    return deps.policies.current(contextOf(res).policyId).ref;
  } catch {
    return undefined;
  }
}

async function readBody(deps: RouteDeps): Promise<{ status: number; body: Buffer } | ApiError> {
  const upstream = await deps.engine.get('/models');
  // No output rule reads this route, so the engine's words (message, code, param) stay out: its status goes on.
  if (upstream.status >= 400) {
    const { error, engineWords } = await upstreamClientError(upstream);
    return engineWords ? new ApiError(error.status, `The engine refused the model list (HTTP ${error.status}).`, error.type, null, null) : error;
  }
  return { status: upstream.status, body: await readEngineBody(upstream) };
}

/**
 * GET /v1/models: the engine's models, each as OpenAI describes one (id, object, created,
 * owned_by). Nothing else of the engine's answer reaches clients: vLLM adds the weights' path on
 * its disk (`root`), its context length and permissions.
 */
export function modelsRoute(deps: RouteDeps): RequestHandler {
  return async (_req, res) => {
    const ref = policyRef(deps, res);
    try {
      const answer = await readBody(deps);
      setSafetyHeaders(res, 'allow', ref);
      if (answer instanceof ApiError) return sendError(res, answer);
      let list: unknown;
      try {
        list = JSON.parse(answer.body.toString('utf8'));
      } catch {
        return sendError(res, new ApiError(502, 'The engine failed (its model list is not JSON).', 'api_error', 'engine_error'));
      }
      const parsed = ModelList.safeParse(list);
      if (!parsed.success) return sendError(res, new ApiError(502, 'The engine failed (its model list has no data).', 'api_error', 'engine_error'));
      res.status(200).json({ object: 'list', data: parsed.data.data.filter(isModelId).map((m) => publicEntry(m)) });
    } catch (err) {
      setSafetyHeaders(res, 'allow', ref);
      sendError(res, engineApiError(err));
    }
  };
}

/** Pure: the 404 OpenAI answers for a model id it does not serve. */
export function modelNotFound(id: string): ApiError {
  return new ApiError(404, `The model \`${id.slice(0, 200)}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found', 'model');
}

/** Pure: one model of the engine's list (`object: "model"`, id, created, owned_by, as OpenAI answers; nothing else), or undefined. */
export function modelEntry(list: unknown, id: string): Record<string, unknown> | undefined {
  const parsed = ModelList.safeParse(list);
  if (!parsed.success) return undefined;
  const entry = parsed.data.data.find((m) => m.id === id && isModelId(m));
  if (!entry) return undefined;
  return publicEntry(entry);
}

/**
 * An entry whose id a request could name (the request schema's model id: no spaces, at most 256
 * characters). No output rule reads this route: the list carries names, never text, and an
 * entry that is not one is left out.
 */
function isModelId(entry: { id: string }): boolean {
  return MODEL_ID.test(entry.id);
}

/** What clients see of a model: OpenAI's four members, nothing the engine adds; an owner that is not a name reads `system`. */
function publicEntry(entry: { id: string; [member: string]: unknown }): Record<string, unknown> {
  const owner = typeof entry.owned_by === 'string' && MODEL_ID.test(entry.owned_by) ? entry.owned_by : 'system';
  return { id: entry.id, object: 'model', created: typeof entry.created === 'number' ? entry.created : 0, owned_by: owner };
}

/**
 * GET /v1/models/{id}: the model's entry in the engine's list (engines such as vLLM serve only the
 * list), or OpenAI's 404 `model_not_found`. Ids with a slash (`meta-llama/Llama-3.1-405B-Instruct`)
 * work encoded or not.
 */
export function modelRoute(deps: RouteDeps): RequestHandler {
  return async (req, res) => {
    const ref = policyRef(deps, res);
    const raw = (req.params as { id?: string | string[] }).id;
    const id = Array.isArray(raw) ? raw.join('/') : (raw ?? '');
    try {
      const answer = await readBody(deps);
      setSafetyHeaders(res, 'allow', ref);
      if (answer instanceof ApiError) return sendError(res, answer);
      let list: unknown;
      try {
        list = JSON.parse(answer.body.toString('utf8'));
      } catch {
        return sendError(res, new ApiError(502, 'The engine failed (its model list is not JSON).', 'api_error', 'engine_error'));
      }
      const entry = modelEntry(list, id);
      // A 404 judged nothing (the README's `none`), whatever the engine's list said.
      if (!entry) {
        setSafetyHeaders(res, 'none', ref);
        return sendError(res, modelNotFound(id));
      }
      res.status(200).json(entry);
    } catch (err) {
      setSafetyHeaders(res, 'allow', ref);
      sendError(res, engineApiError(err));
    }
  };
}
