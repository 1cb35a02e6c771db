import type { EngineResponse } from '../../engine/client';
import { classifyEngineError, EngineError } from '../../engine/errors';
import { ApiError, NO_AUTOMATIC_RETRY } from '../errors';

/** Maps an engine failure to the OpenAI-shaped error the client sees (502 / 503 / 504). */
export function engineApiError(err: unknown): ApiError {
  if (!(err instanceof EngineError)) {
    // Not an engine failure: our own bug. Say so without details (they go to the operator's log).
    process.emitWarning(`safety-gateway: internal error: ${(err as Error)?.stack ?? String(err)}`);
    return new ApiError(500, 'The gateway hit an internal error.', 'api_error', 'internal_error');
  }
  const e = err;
  switch (e.failure) {
    case 'timeout':
      return new ApiError(504, `The engine did not answer in time: ${e.message.replace(/^the engine did not answer in time \(|\)$/g, '')}.`, 'api_error', 'engine_timeout', null, {}, NO_AUTOMATIC_RETRY);
    case 'unreachable':
      // An overloaded engine's own Retry-After goes on (the openai SDKs wait that long before retrying).
      return new ApiError(503, 'The engine is unavailable. Try again later.', 'api_error', 'engine_unavailable', null, {}, e.retryAfterSeconds === undefined ? {} : { 'retry-after': String(e.retryAfterSeconds) });
    case 'bad_gateway':
      // Without an error status of the engine's own, it answered (and so generated). A malformed or
      // oversized answer, or a stream that ended cleanly without its end, would come again: the SDKs'
      // two automatic retries would only run the whole generation twice more. A connection broken
      // mid-answer (a pod restart, a proxy's cut) stays retryable.
      return new ApiError(502, `The engine failed${e.upstreamStatus ? ` (HTTP ${e.upstreamStatus})` : ''}.`, 'api_error', 'engine_error', null, {}, e.upstreamStatus || e.cut ? {} : NO_AUTOMATIC_RETRY);
    case 'aborted':
      return new ApiError(499, 'The client closed the request.', 'api_error', 'client_closed');
  }
}

let credentialsWarned = false;

/**
 * The engine refusing the gateway's own credentials (401/403), on any route: the gateway's fault,
 * not the app's key. Passed on as 401, the app's SDK would raise an AuthenticationError about its
 * own key. A 502, retryable: cheap (nothing generated), and with several upstreams the next try may
 * reach a replica whose key is right. The operator is told once per process.
 */
export function engineRefusedGateway(status: number): ApiError {
  if (!credentialsWarned) process.emitWarning(`safety-gateway: the engine refused the gateway's credentials (HTTP ${status}): check ENGINE_API_KEY / engine.upstreams[].api_key`);
  credentialsWarned = true;
  return new ApiError(502, `The engine refused the gateway (HTTP ${status}).`, 'api_error', 'engine_error');
}

/** An engine error's `code` as clients may see it: an identifier (`context_length_exceeded`), short. */
const ERROR_CODE = /^[A-Za-z0-9_.:-]{1,100}$/;
/** An engine error's `param`: a member path (`messages.0.content`, `input[2]`), as the gateway's own errors name one. */
const ERROR_PARAM = /^[\w.[\]$:@/-]{1,200}$/;

/** A 4xx from the engine as the client will see it, and the engine's own words in it (for the output rules). */
export interface EngineRejection {
  error: ApiError;
  /**
   * The engine's text the client would read (message, code and param, one per line), or undefined
   * when the error carries none of it: engines quote the request back, so it is checked like an answer.
   */
  engineWords: string | undefined;
}

/**
 * A 4xx from the engine (bad model name, context too long, ...) reaches the client with the same
 * status, in OpenAI's error shape whatever the engine's own shape was (vLLM, Ollama, TGI differ);
 * a 401 or 403 is the gateway's own credentials, a 502 (a 429 never gets here: another replica is tried).
 * A `code` or `param` that is not an identifier or a member path is dropped (null): free text there
 * would reach the client beside a withheld message.
 */
export async function upstreamClientError(upstream: EngineResponse): Promise<EngineRejection> {
  const text = await readText(upstream);
  // The engine refusing the gateway's own credentials is the gateway's fault, not the app's key:
  // passed on as 401, the app's SDK would raise an AuthenticationError about its own key.
  if (upstream.status === 401 || upstream.status === 403) return { error: engineRefusedGateway(upstream.status), engineWords: undefined };
  let message = `The engine rejected the request (HTTP ${upstream.status}).`;
  const words: string[] = [];
  let code: string | null = null;
  let param: string | null = null;
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown; code?: unknown; param?: unknown };
    const inner = typeof body.error === 'object' && body.error !== null ? (body.error as Record<string, unknown>) : body;
    const m = typeof body.error === 'string' ? body.error : inner.message;
    if (typeof m === 'string' && m) {
      message = m.slice(0, 500);
      words.push(message);
    }
    if (typeof inner.code === 'string' && ERROR_CODE.test(inner.code)) words.push((code = inner.code));
    if (typeof inner.param === 'string' && ERROR_PARAM.test(inner.param)) words.push((param = inner.param));
  } catch {
    /* not JSON: keep the generic message */
  }
  return { error: new ApiError(upstream.status, message, 'invalid_request_error', code, param), engineWords: words.length ? words.join('\n') : undefined };
}

/** What the client is told instead of an engine's words the output rules withheld (engineMessageMayPass): none of them. */
export function withheldEngineMessage(error: ApiError): ApiError {
  return new ApiError(error.status, `The engine rejected the request (HTTP ${error.status}); its message was withheld by the safety policy.`, error.type, null, null);
}

async function readText(upstream: EngineResponse): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of upstream.body) {
      size += (chunk as Buffer).length;
      if (size <= 64 * 1024) chunks.push(chunk as Buffer);
    }
  } catch (err) {
    throw classifyEngineError(err, 'stream');
  }
  return Buffer.concat(chunks).toString('utf8');
}
