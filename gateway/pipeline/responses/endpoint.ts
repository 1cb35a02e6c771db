import { parseResponseObject, type ResponseObject } from '../../../engine/answerSchema';
import { EngineError } from '../../../engine/errors';
import type { EngineResponse } from '../../../engine/client';
import { ResponsesRequest } from '../../requestSchemas';
import { contextOf, setSafetyHeaders } from '../../requestContext';
import { relayResponses } from '../../streaming/responsesRelay';
import { engineAnswer, validation, type ParsedCompletion } from '../adapters';
import type { GuardedEndpoint, RespondInput } from '../guardedEndpoint';
import { responsePieces } from './answerSlots';
import { blockedResponse, refusalItemId } from './blockedResponse';
import { expandHistory, inputItems, type ConversationMemory } from './conversationMemory';
import { responseSummary } from './engineSummary';
import { extractResponsesRequest } from './extractRequest';
import { checkItems } from './inputItems';
import { answerFromSlots, SlotLedger } from './slotAnswer';

/** A parsed Responses request: the shared fields, plus keeping a delivered answer's conversation. */
export interface ParsedResponses extends ParsedCompletion {
  /** Called once an answer was delivered whole (not blocked): keeps its conversation for later references. */
  remember(response: ResponseObject | undefined): void;
}

/**
 * `POST /v1/responses`, guarded exactly as chat completions are (guardedCompletion.ts runs it):
 * history expanded from what this gateway relayed (conversationMemory.ts), every text scanned
 * (extractRequest.ts), the engine asked to store nothing, the answer's every text checked
 * (answerSlots.ts), whole or streamed (streaming/responsesRelay.ts).
 */
export function responsesEndpoint(memory: ConversationMemory): GuardedEndpoint<ParsedResponses> {
  return {
    route: '/v1/responses',
    enginePath: '/responses',
    operation: 'chat',
    inputParam: 'input',
    parse(body, fields, caller) {
      if (body !== null && typeof body === 'object') checkItems((body as { input?: unknown }).input);
      validation(ResponsesRequest, body, 'responses');
      const expanded = expandHistory(body as Record<string, unknown>, memory, caller.app);
      if (expanded !== body) checkItems(expanded.input);
      const request = validation(ResponsesRequest, expanded, 'responses');
      const extracted = extractResponsesRequest(expanded, request, fields);
      // The engine keeps nothing: every continuation comes back through the gateway, whole.
      const forward: Record<string, unknown> = { ...extracted.body, store: false };
      return {
        body: forward,
        stream: request.stream === true,
        model: request.model,
        includeUsage: true,
        maxTokens: request.max_output_tokens ?? undefined,
        inputTexts: extracted.texts,
        conversation: extracted.conversation,
        remember(response) {
          if (typeof response?.id !== 'string' || !response.id) return;
          memory.remember(caller.app, response.id, inputItems(forward.input), response.output);
        },
      };
    },
    respond: (input) => (input.parsed.stream ? relayResponses(input) : respondWhole(input)),
  };
}

/** Not streamed: the whole answer is read, checked, and sent as the engine sent it, or blocked. */
async function respondWhole(input: RespondInput<ParsedResponses>): Promise<void> {
  const { res, record, runtime, parsed } = input;
  const ctx = contextOf(res);
  const raw = await readAll(input.upstream);
  ctx.engineMs += performance.now() - input.engineStarted;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('bad_gateway', 'the engine sent an answer that is not valid JSON');
  }
  const response = engineAnswer(() => parseResponseObject(json));
  const answer = answerFromSlots(new SlotLedger().admit(responsePieces(response, parsed.body)));
  record.engine = responseSummary(response, performance.now() - input.engineStarted);
  record.content?.output.push(answer.content);
  const phase = await input.checkAnswer(answer, 0);
  record.outputs.push(phase);
  ctx.guardMs += phase.durationMs;
  await input.finish(200);
  setSafetyHeaders(res, record.action, runtime.ref);
  if (phase.decision.action !== 'block') {
    parsed.remember(response);
    // Passed answers go back exactly as the engine sent them.
    res.status(200).type('application/json').send(raw);
    return;
  }
  res.status(200).json(blockedResponse(json, parsed.body, runtime.loaded.policy.refusals.output, refusalItemId()));
}

async function readAll(upstream: EngineResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upstream.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
