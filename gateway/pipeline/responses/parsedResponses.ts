import type { ResponseObject } from '../../../engine/answerSchema';
import type { ParsedCompletion } from '../parsedCompletion';

/** A parsed Responses request: the shared fields, plus keeping a delivered answer's conversation. */
export interface ParsedResponses extends ParsedCompletion {
  /**
   * Called once an answer went out: the engine's response when it passed, or the blocked response
   * the client got (its refusal item) when it did not, so a client that refers back to either
   * (previous_response_id, item_reference) can go on with the conversation.
   */
  remember(response: Pick<ResponseObject, 'id' | 'output'> | undefined): void;
}
