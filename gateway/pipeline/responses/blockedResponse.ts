import { randomUUID } from 'node:crypto';
import { plainResponseEnvelope } from '../extract/bookkeeping';
import { keepsInBlockedAnswer } from './answerSlots';

/**
 * What a Responses client gets when the output guard blocks the answer: the response with status
 * `incomplete` and `incomplete_details: {reason: "content_filter"}` (what OpenAI's SDKs and the
 * AI SDK map to a content-filter finish), one assistant message holding the policy's refusal text
 * in place of the output (as chat puts the refusal in the choice's content), the engine's
 * bookkeeping (id, model, usage), and echoed request members only where they hold nothing but
 * what the client sent. Pure.
 */
export function refusalItem(id: string, refusal: string, status: 'in_progress' | 'incomplete'): Record<string, unknown> {
  return { id, type: 'message', status, role: 'assistant', content: status === 'in_progress' ? [] : [outputText(refusal)] };
}

export function outputText(text: string): Record<string, unknown> {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

export function refusalItemId(): string {
  return `msg_${randomUUID().replace(/-/g, '')}`;
}

/** The response without anything the client must not read: bookkeeping and harmless echoes, an empty output. */
export function cleanEnvelope(response: Readonly<Record<string, unknown>>, sent: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(response)) if (keepsInBlockedAnswer(key, value, sent)) out[key] = value;
  // Bookkeeping that was read as text (it may be what was blocked) is replaced, never written again.
  return { ...plainResponseEnvelope(out, { model: typeof sent.model === 'string' ? sent.model : undefined }), output: [] };
}

export function blockedResponse(response: Readonly<Record<string, unknown>>, sent: Readonly<Record<string, unknown>>, refusal: string, itemId: string): Record<string, unknown> {
  return { ...cleanEnvelope(response, sent), status: 'incomplete', incomplete_details: { reason: 'content_filter' }, error: null, output: [refusalItem(itemId, refusal, 'incomplete')] };
}

/** Stands in for the engine's response object when it never sent one before failing the check. */
export function minimalResponse(id: string | undefined, model: string | undefined): Record<string, unknown> {
  return { id: id ?? `resp_${randomUUID().replace(/-/g, '')}`, object: 'response', created_at: Math.floor(Date.now() / 1000), status: 'in_progress', model: model ?? null, output: [] };
}

export interface BlockedTail {
  /** sequence_number of the first event written (the one after the last released). */
  sequence: number;
  /** output_index of the refusal message: the number of output items the client was told of. */
  outputIndex: number;
  itemId: string;
  refusal: string;
  /** The whole blocked response (blockedResponse), for `response.incomplete`. */
  incomplete: Record<string, unknown>;
  /** When the client has not had `response.created` yet: the clean envelope to open the stream with. */
  opening?: Record<string, unknown>;
}

/**
 * The events that end a blocked stream, in the order OpenAI documents: (when nothing went out yet)
 * `response.created` and `response.in_progress`, then the refusal as a message item of its own
 * (added, part added, text delta, text done, part done, item done) and `response.incomplete`.
 * Items the client was told of and whose text stopped are left open: closing them would state
 * text that was never checked as complete.
 */
export function blockedTailEvents(tail: BlockedTail): Record<string, unknown>[] {
  const { itemId, refusal, outputIndex } = tail;
  const at = { item_id: itemId, output_index: outputIndex, content_index: 0 };
  const events: Record<string, unknown>[] = [];
  if (tail.opening) {
    events.push({ type: 'response.created', response: { ...tail.opening, status: 'in_progress' } });
    events.push({ type: 'response.in_progress', response: { ...tail.opening, status: 'in_progress' } });
  }
  events.push(
    { type: 'response.output_item.added', output_index: outputIndex, item: refusalItem(itemId, refusal, 'in_progress') },
    { type: 'response.content_part.added', ...at, part: outputText('') },
    { type: 'response.output_text.delta', ...at, delta: refusal, logprobs: [] },
    { type: 'response.output_text.done', ...at, text: refusal, logprobs: [] },
    { type: 'response.content_part.done', ...at, part: outputText(refusal) },
    { type: 'response.output_item.done', output_index: outputIndex, item: refusalItem(itemId, refusal, 'incomplete') },
    { type: 'response.incomplete', response: tail.incomplete },
  );
  return events.map((event, i) => ({ type: event.type, sequence_number: tail.sequence + i, ...event }));
}

/** One event as SSE, with its `event:` line as OpenAI sends it. */
export function sseEvent(event: Readonly<Record<string, unknown>>): string {
  return `event: ${String(event.type)}\ndata: ${JSON.stringify(event)}\n\n`;
}
