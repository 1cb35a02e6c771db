import { MalformedAnswerError, type ResponseStreamEvent } from '../../engine/answerSchema';

/** Event types that open an output item: the one place a new item's index may be given out. */
const ITEM_ADDED = 'response.output_item.added';
/** Events that open a part, by the index they give out. */
const PART_ADDED: Readonly<Record<string, 'content_index' | 'summary_index'>> = {
  'response.content_part.added': 'content_index',
  'response.reasoning_summary_part.added': 'summary_index',
};

/** The parts an item opened so far, of each kind. */
interface Parts {
  content_index: number;
  summary_index: number;
}

/**
 * Pure state of where a Responses stream's events go, for engines that leave the indexes out
 * (llama.cpp's server sends no `output_index`, `content_index` or `summary_index` on any event,
 * only `item_id`), as a client that reads such a stream in order places them (a client printing
 * deltas, the AI SDK keying text by `item_id`):
 * - an event without `output_index` goes in the item its `item_id` (or its item's `id` or
 *   `call_id`) names, else in the item opened last; an item opened without one takes the next index;
 * - a part opened without its index is the item's next part, and a part event without one goes in
 *   the item's latest part (the first, when none was opened), so two parts are never read as one
 *   slot whose value the second resets.
 * Events that carry their indexes keep them, but one whose `item_id` names an item opened at another
 * index is refused (MalformedAnswerError: 502): clients keyed by id and clients keyed by index would
 * join its text differently, and the guard can read only one way. The client receives every event
 * as the engine sent it: this only says which slot the gateway reads its text into
 * (gateway/pipeline/responses/answerSlots.ts).
 */
export class EventPlacement {
  private readonly byId = new Map<string, number>();
  private readonly parts = new Map<number, Parts>();
  private latest: number | undefined;
  private next = 0;

  place(event: ResponseStreamEvent): ResponseStreamEvent {
    if (event.response) return event; // lifecycle events hold the whole response, in no item
    const ids = [event.item_id, event.item?.id, event.item?.call_id].filter((id): id is string => typeof id === 'string' && id !== '');
    const opens = event.type === ITEM_ADDED;
    const named = opens ? undefined : ids.map((id) => this.byId.get(id)).find((i) => i !== undefined);
    if (event.output_index != null && named !== undefined && named !== event.output_index) {
      throw new MalformedAnswerError(`the engine sent a malformed response event: \`${event.type}\` names an item opened at output_index ${named} but says output_index ${event.output_index}`);
    }
    const index = event.output_index ?? (opens ? this.next : (named ?? this.latest ?? 0));
    // An id opened again (SGLang gives every item one id) names the item it opened last.
    for (const id of ids) if (opens || !this.byId.has(id)) this.byId.set(id, index);
    if (opens) {
      this.latest = index;
      this.parts.set(index, { content_index: 0, summary_index: 0 });
    }
    this.next = Math.max(this.next, index + 1);
    const part = this.partIndex(event, index);
    return event.output_index === index && part === undefined ? event : { ...event, output_index: index, ...part };
  }

  /** The part index an event without one goes in (undefined when it has one, or names no part). */
  private partIndex(event: ResponseStreamEvent, item: number): Partial<ResponseStreamEvent> | undefined {
    const member = event.type.startsWith('response.reasoning_summary_') ? 'summary_index' : /^response\.(content_part|output_text|refusal|reasoning_text)\./.test(event.type) ? 'content_index' : undefined;
    if (member === undefined) return undefined;
    const parts = this.parts.get(item) ?? { content_index: 0, summary_index: 0 };
    this.parts.set(item, parts);
    const given = event[member];
    if (PART_ADDED[event.type] === member) {
      const index = given ?? parts[member];
      parts[member] = Math.max(parts[member], index + 1);
      return given == null ? { [member]: index } : undefined;
    }
    return given == null ? { [member]: Math.max(0, parts[member] - 1) } : undefined;
  }
}
