import type { ResponseStreamEvent } from '../../engine/answerSchema';
import { outputText } from '../pipeline/responses/blockedResponse';

/**
 * The message items of a streamed Responses answer as far as the client got them: each item
 * whose `output_item.added` went out, with the text of the deltas released after it (a finished
 * item as its `output_item.done` said). When window mode blocks a stream, this (and the refusal)
 * is what the gateway keeps for the conversation, so a client that refers back to an item it was
 * shown (the AI SDK sends `item_reference`s) can go on; never the unreleased text. Other item
 * kinds cut off mid-stream (a half-written function call) are left out: a reference to one gets
 * the usual `item_not_found`.
 */
export class ReleasedItems {
  private readonly items = new Map<string, { role: unknown; texts: string[]; done?: Record<string, unknown> }>();

  note(event: ResponseStreamEvent): void {
    if (event.type === 'response.output_item.added' && event.item?.type === 'message' && typeof event.item.id === 'string') {
      this.items.set(event.item.id, { role: event.item.role ?? 'assistant', texts: [] });
      return;
    }
    const entry = typeof event.item_id === 'string' ? this.items.get(event.item_id) : undefined;
    if (event.type === 'response.output_text.delta' && entry && typeof event.delta === 'string') {
      const at = event.content_index ?? 0;
      entry.texts[at] = (entry.texts[at] ?? '') + event.delta;
      return;
    }
    if (event.type === 'response.output_item.done' && typeof event.item?.id === 'string') {
      const done = this.items.get(event.item.id);
      if (done) done.done = event.item as Record<string, unknown>;
    }
  }

  /** The items as the client holds them, in the order they were added. */
  output(): Record<string, unknown>[] {
    return [...this.items].map(([id, entry]) => entry.done ?? { id, type: 'message', status: 'incomplete', role: entry.role, content: [...entry.texts].map((t) => outputText(t ?? '')) });
  }
}
