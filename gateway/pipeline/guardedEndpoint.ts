import type { Response } from 'express';
import type { EngineResponse } from '../../engine/client';
import type { RequestFields } from '../../policies/schema';
import type { PolicyRuntime } from '../policyRuntime';
import type { RequestRecord } from '../requestRecord';
import type { ParsedCompletion } from './adapters';
import type { AssistantAnswer } from './extractTexts';
import type { GuardPhase } from './runRules';

/**
 * What one guarded route brings to the shared request path (guardedCompletion.ts: input guards,
 * engine call, record, errors): how its request is read and how the engine's answer is checked and
 * relayed. Chat and text completions are CompletionAdapters (choices, `[DONE]`) wrapped into one;
 * the Responses API is one of its own (output items, typed events).
 */
export interface GuardedEndpoint<P extends ParsedCompletion = ParsedCompletion> {
  route: string;
  /** Path under the engine's base URL. */
  enginePath: string;
  /** gen_ai.operation.name of the engine call. */
  operation: 'chat' | 'text_completion';
  /** The request member a blocked input names (`param` of the 400). */
  inputParam: 'messages' | 'prompt' | 'input';
  /** Validates and extracts; throws an ApiError (400) for a body or field the gateway will not forward. */
  parse(body: unknown, fields: RequestFields | undefined, caller: { app: string }): P;
  /** Reads the engine's answer (whole or streamed), checks it with `checkAnswer`, answers the client and calls `finish`. */
  respond(input: RespondInput<P>): Promise<void>;
}

export interface RespondInput<P extends ParsedCompletion = ParsedCompletion> {
  parsed: P;
  upstream: EngineResponse;
  runtime: PolicyRuntime;
  record: RequestRecord;
  res: Response;
  /** performance.now() when the engine call started. */
  engineStarted: number;
  finish: (status: number, error?: { type: string; message: string }) => Promise<void>;
  checkAnswer: (answer: AssistantAnswer, choice: number) => Promise<GuardPhase & { choice: number }>;
  /** Cancels the engine request (window mode stops generation on unsafe). */
  abortUpstream: () => void;
}
