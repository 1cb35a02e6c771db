import { parseResponseObject, type ResponseObject } from '../../../engine/answerSchema';
import type { EngineResponse } from '../../../engine/client';
import { sendJson, sendJsonBytes } from '../../routes/httpResponses';
import { ResponsesRequest, type ValidatedRequest } from '../requestSchemas';
import { relayResponses } from '../../streaming/responsesRelay';
import { engineAnswer, parseEngineJson, readEngineBody } from '../engineAnswer';
import type { GuardedCall } from '../guardedCall';
import type { Caller, GuardedEndpoint } from '../guardedEndpoint';
import { validation } from '../validation';
import { responsePieces } from './answerSlots';
import { blockedResponse, refusalItemId } from './blockedResponse';
import { expandHistory, inputItems, type ConversationMemory } from './conversationMemory';
import { responseSummary } from './engineSummary';
import { extractResponsesRequest } from './extractRequest';
import { checkItems } from './inputItems';
import type { ParsedResponses } from './parsedResponses';
import { answerFromSlots, SlotLedger } from './slotAnswer';

type ResponsesValidated = Extract<ValidatedRequest, { kind: 'responses' }>;

/**
 * `POST /v1/responses`, guarded exactly as chat completions are (guardedRoute.ts runs it):
 * history expanded from what this gateway relayed (conversationMemory.ts), every text scanned
 * (extractRequest.ts), the engine asked to store nothing, the answer's every text checked
 * (answerSlots.ts), whole or streamed (streaming/responsesRelay.ts).
 */
export function responsesEndpoint(memory: ConversationMemory): GuardedEndpoint<ResponsesValidated, ParsedResponses> {
  const endpoint: GuardedEndpoint<ResponsesValidated, ParsedResponses> = {
    route: '/v1/responses',
    enginePath: '/responses',
    operation: 'chat',
    inputParam: 'input',
    validate(body) {
      // Each item against its own type's schema first, so an error names the item and member.
      if (body !== null && typeof body === 'object') checkItems((body as { input?: unknown }).input);
      return { kind: 'responses', body: body as Record<string, unknown>, request: validation(ResponsesRequest, body, 'responses') };
    },
    resolve(validated, caller) {
      // History a previous_response_id or item_reference stands for goes back into `input`, counted and checked as the rest.
      const expanded = expandHistory(validated.body, memory, memoryScope(caller));
      if (expanded === validated.body) return validated;
      checkItems(expanded.input);
      return { kind: 'responses', body: expanded, request: validation(ResponsesRequest, expanded, 'responses') };
    },
    extract(validated, fields, caller) {
      // Resolved already on the gateway's path; callers that skip resolve() get it here.
      const { body: expanded, request } = endpoint.resolve!(validated, caller);
      const extracted = extractResponsesRequest(expanded, request, fields);
      // The engine keeps nothing: every continuation comes back through the gateway, whole.
      const forward: Record<string, unknown> = { ...extracted.body, store: false };
      return {
        body: forward,
        stream: request.stream === true,
        model: request.model,
        includeUsage: true,
        maxTokens: request.max_output_tokens ?? undefined,
        answerTokenField: 'max_output_tokens',
        inputTexts: extracted.texts,
        conversation: extracted.conversation,
        remember(response) {
          if (typeof response?.id !== 'string' || !response.id) return;
          memory.remember(memoryScope(caller), response.id, inputItems(forward.input), response.output);
        },
      };
    },
    parse: (body, fields, caller) => endpoint.extract(endpoint.resolve!(endpoint.validate(body), caller), fields, caller),
    respond: (call, upstream) => (call.parsed.stream ? relayResponses(call, upstream) : respondWhole(call, upstream)),
  };
  return endpoint;
}

/** Not streamed: the whole answer is read, checked, and sent as the engine sent it, or blocked. */
async function respondWhole(call: GuardedCall<ParsedResponses>, upstream: EngineResponse): Promise<void> {
  const { res, parsed } = call;
  const raw = await readEngineBody(upstream);
  call.ctx.timing.engineAnswered();
  const json = parseEngineJson(raw);
  const response = engineAnswer(() => parseResponseObject(json));
  const answer = answerFromSlots(new SlotLedger().admit(responsePieces(response, parsed.body)));
  call.record.engine = responseSummary(response, call.ctx.timing.sinceEngineStart());
  call.delivered([answer]);
  const phase = await call.checkAnswer(answer, 0);
  call.answersChecked([phase]);
  await call.finish(200);
  call.sendHeaders();
  if (phase.decision.action !== 'block') {
    parsed.remember(response);
    // Passed answers go back exactly as the engine sent them.
    sendJsonBytes(res, 200, raw);
    return;
  }
  const blocked = blockedResponse(json, parsed.body, call.policy.refusals.output, refusalItemId());
  parsed.remember(blocked as Pick<ResponseObject, 'id' | 'output'>);
  sendJson(res, 200, blocked);
}

/**
 * Whose conversations a request may continue: its app's, and within it its key's. Apps that give
 * each tenant a key of its own keep one tenant from reading or continuing another's conversation by
 * its ids; a conversation does not carry over a key rotation (the client sends it whole instead).
 */
function memoryScope(caller: Caller): string {
  return caller.keyId ? `${caller.app}\u0001${caller.keyId}` : caller.app;
}
