import type { ResponseStreamEvent } from '../../engine/answerSchema';

/** Event types that open an output item: the one place a new item's index may be given out. */
const ITEM_ADDED = 'response.output_item.added';

/**
 * Pure state of where a Responses stream's events go, for engines that leave the indexes out
 * (llama.cpp's server sends no `output_index`, `content_index` or `summary_index` on any event,
 * only `item_id`): an event without `output_index` is placed in the item its `item_id` (or its
 * item's `id` or `call_id`) names, else in the item opened last, as a client that reads such a
 * stream in order places it; an item opened without one takes the next index; a missing
 * `content_index` or `summary_index` is the first part. Events that carry their indexes keep them.
 * The client still receives the event as the engine sent it: this only says which slot the
 * gateway reads its text into (gateway/pipeline/responses/answerSlots.ts).
 */
export class EventPlacement {
  private readonly byId = new Map<string, number>();
  private latest: number | undefined;
  private next = 0;

  place(event: ResponseStreamEvent): ResponseStreamEvent {
    if (event.response) return event; // lifecycle events hold the whole response, in no item
    const ids = [event.item_id, event.item?.id, event.item?.call_id].filter((id): id is string => typeof id === 'string' && id !== '');
    const opens = event.type === ITEM_ADDED;
    const index = event.output_index ?? (opens ? this.next : (ids.map((id) => this.byId.get(id)).find((i) => i !== undefined) ?? this.latest ?? 0));
    for (const id of ids) if (opens || !this.byId.has(id)) this.byId.set(id, index);
    if (opens) this.latest = index;
    this.next = Math.max(this.next, index + 1);
    const parts = partIndexes(event);
    return event.output_index === index && parts === undefined ? event : { ...event, output_index: index, ...parts };
  }
}

/** The first part, for part events that name none; undefined when nothing is missing. */
function partIndexes(event: ResponseStreamEvent): Partial<ResponseStreamEvent> | undefined {
  if (event.type.startsWith('response.reasoning_summary_')) return event.summary_index == null ? { summary_index: 0 } : undefined;
  if (/^response\.(content_part|output_text|refusal|reasoning_text)\./.test(event.type)) return event.content_index == null ? { content_index: 0 } : undefined;
  return undefined;
}
