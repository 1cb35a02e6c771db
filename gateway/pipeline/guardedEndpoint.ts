import type { EngineResponse } from '../../engine/client';
import type { RequestFields } from '../../policies/schema';
import type { ValidatedRequest } from './requestSchemas';
import type { GuardedCall } from './guardedCall';
import type { ParsedCompletion } from './parsedCompletion';

/**
 * What one guarded route brings to the shared request path (guardedRoute.ts: validation, access
 * checks, input guards, engine call, record, errors): how its request is read and how the engine's
 * answer is checked and relayed. Chat and text completions are CompletionAdapters (choices,
 * `[DONE]`) wrapped by completionEndpoint.ts; the Responses API is one of its own (output items,
 * typed events).
 */
/** Who sends the request: its app, and the key it came with (none without keys). */
export interface Caller {
  app: string;
  keyId?: string;
}

export interface GuardedEndpoint<V extends ValidatedRequest = ValidatedRequest, P extends ParsedCompletion = ParsedCompletion> {
  route: string;
  /** Path under the engine's base URL. */
  enginePath: string;
  /** gen_ai.operation.name of the engine call. */
  operation: 'chat' | 'text_completion';
  /** The request member a blocked input names (`param` of the 400). */
  inputParam: 'messages' | 'prompt' | 'input';
  /** Zod at the edge, once: the body as its schema types it, or a 400. */
  validate(body: unknown): V;
  /**
   * What the request stands for, before the access layer counts it: the Responses API's history a
   * `previous_response_id` or `item_reference` names, put back into the body, so its tokens are
   * reserved and its length checked like any other input. Absent: the request is what it says.
   */
  resolve?(validated: V, caller: Caller): V;
  /** The extraction: texts and conversation for the guards, the body to forward; throws a 400 for a field the gateway will not forward. */
  extract(validated: V, fields: RequestFields | undefined, caller: Caller): P;
  /** `extract(resolve(validate(body)))`, for callers that start from a body (the policy CLI, tests). */
  parse(body: unknown, fields: RequestFields | undefined, caller: Caller): P;
  /** Reads the engine's answer (whole or streamed), checks it, answers the client and finishes the call. */
  respond(call: GuardedCall<P>, upstream: EngineResponse): Promise<void>;
}
