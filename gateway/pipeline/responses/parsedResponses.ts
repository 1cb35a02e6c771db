import type { ResponseObject } from '../../../engine/answerSchema';
import type { ParsedCompletion } from '../parsedCompletion';

/** A parsed Responses request: the shared fields, plus keeping a delivered answer's conversation. */
export interface ParsedResponses extends ParsedCompletion {
  /** Called once an answer was delivered whole (not blocked): keeps its conversation for later references. */
  remember(response: ResponseObject | undefined): void;
}
