import type { GuardRequest, TextSource } from '../../../guards/types';
import type { RecordRole } from './records';

/**
 * How one data record reaches a guard: the same GuardRequest shape the gateway builds for a real
 * request, so the evaluation measures the guard exactly as it runs in production.
 */

/** Prompt Guard style guards read `texts`; content-safety (Llama Guard style) guards read `conversation`. */
export type RequestStyle = 'texts' | 'conversation';

/** The source a record's text would have in a request (it picks jailbreak vs injection scoring). */
export function textSourceFor(role: RecordRole): TextSource {
  return role;
}

export interface RequestInput {
  id: string;
  role: RecordRole;
  text: string;
}

/** `score`: a rule's `score: injection` (Prompt Guard style only): every text scored for injection as written. */
export function buildGuardRequest(style: RequestStyle, record: RequestInput, score?: 'injection'): GuardRequest {
  if (style === 'texts') {
    return { direction: 'input', texts: [{ source: textSourceFor(record.role), path: record.id, text: record.text }], conversation: [], ...(score ? { score } : {}) };
  }
  if (record.role === 'assistant') {
    // An answer is judged as the output check judges it: the last assistant turn after a user
    // turn. The user turn is empty because the data holds responses without their prompts.
    return {
      direction: 'output',
      texts: [],
      conversation: [
        { role: 'user', content: '' },
        { role: 'assistant', content: record.text },
      ],
    };
  }
  if (record.role === 'system') return { direction: 'input', texts: [], conversation: [{ role: 'system', content: record.text }] };
  // Content-safety guards judge user turns; a document or tool text is the closest thing to one.
  return { direction: 'input', texts: [], conversation: [{ role: 'user', content: record.text }] };
}
