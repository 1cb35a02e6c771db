import { MalformedAnswerError, type ResponseStreamEvent } from '../../engine/answerSchema';

/**
 * The order a client puts a Responses stream's text in, made the order the output guard reads it
 * in. The openai SDK places items and parts where they arrive (`output_item.added` and
 * `content_part.added` push), whatever index the event states, and its `output_text` joins every
 * message's text in that order; a printer of deltas shows them as they arrive. The gateway reads
 * slots by their stated indices, message text in index order. So a stream must state what the
 * client will do, as OpenAI's own streams do:
 * - items are added at the next index, and message parts at the next index of their item;
 * - an event naming an added item names it by its own id;
 * - message text (`output_text` and `refusal` deltas) goes to one part at a time, each new part
 *   after every earlier one in index order, never back to one another part interrupted.
 * Anything else is the engine's failure (502), never relayed. Other kinds (reasoning, calls) are
 * read slot by slot and never joined with the message text, so their order is not constrained.
 */
export class ResponsesStreamStructure {
  private items: { id?: string; message: boolean; parts: number }[] = [];
  /** The message-text part deltas go to now, as [item, part]; those before it are closed. */
  private textAt: [number, number] | undefined;

  /** Throws MalformedAnswerError when the event places text other than where a client would. */
  check(event: ResponseStreamEvent): void {
    if (event.response) {
      // Lifecycle events carry the whole response: the client takes it as its state.
      this.items = event.response.output.map((item) => ({ id: item.id ?? undefined, message: item.type === 'message', parts: item.content?.length ?? 0 }));
      return;
    }
    const index = event.output_index;
    if (index === undefined || index === null) return;
    if (event.type === 'response.output_item.added') {
      if (index !== this.items.length) this.fail(event, `adds item ${index} where the client puts item ${this.items.length}`);
      const item = event.item!;
      this.items.push({ id: item.id ?? undefined, message: item.type === 'message', parts: item.content?.length ?? 0 });
      return;
    }
    const item = this.items[index];
    if (item && event.item_id != null && item.id !== undefined && event.item_id !== item.id) this.fail(event, `names item ${index} by another id`);
    const part = event.content_index;
    if (event.type === 'response.content_part.added' && item?.message && part !== undefined && part !== null) {
      if (part !== item.parts) this.fail(event, `adds part ${part} of item ${index} where the client puts part ${item.parts}`);
      item.parts++;
      return;
    }
    if ((event.type === 'response.output_text.delta' || event.type === 'response.refusal.delta') && part !== undefined && part !== null) {
      const at = this.textAt;
      if (at && (index !== at[0] || part !== at[1])) {
        if (index < at[0] || (index === at[0] && part < at[1])) this.fail(event, `adds text to part ${part} of item ${index} after part ${at[1]} of item ${at[0]} began`);
      }
      this.textAt = [index, part];
    }
  }

  private fail(event: ResponseStreamEvent, what: string): never {
    throw new MalformedAnswerError(`the engine sent a response event out of order: \`${event.type}\` ${what}`);
  }
}
