import { MalformedAnswerError, type ResponseStreamEvent } from '../../../engine/answerSchema';
import { EventPlacement } from '../../../gateway/streaming/eventPlacement';

const place = (events: Record<string, unknown>[]) => {
  const placement = new EventPlacement();
  return events.map((e) => placement.place(e as ResponseStreamEvent));
};
const where = (e: ResponseStreamEvent) => [e.output_index, e.content_index ?? e.summary_index];

describe('where a Responses event goes when the engine leaves the indexes out', () => {
  test("llama.cpp's server: items in the order they open, each event in the item its item_id names", () => {
    const placed = place([
      { type: 'response.output_item.added', item: { id: 'rs_1', type: 'reasoning', summary: [] } },
      { type: 'response.reasoning_text.delta', item_id: 'rs_1', delta: 'think' },
      { type: 'response.output_item.added', item: { id: 'msg_1', type: 'message', content: [] } },
      { type: 'response.content_part.added', item_id: 'msg_1', part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'msg_1', delta: 'Hello' },
      // The reasoning item is closed only at the end, after the message's text.
      { type: 'response.output_item.done', item: { id: 'rs_1', type: 'reasoning', summary: [] } },
      { type: 'response.output_item.done', item: { id: 'msg_1', type: 'message', content: [] } },
      // A call opened without an id: its deltas name its call_id.
      { type: 'response.output_item.added', item: { type: 'function_call', call_id: 'fc_9', name: 'f', arguments: '' } },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_9', delta: '{}' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', delta: 'sum' },
    ]);
    expect(placed.map(where)).toEqual([
      [0, undefined],
      [0, 0],
      [1, undefined],
      [1, 0],
      [1, 0],
      [0, undefined],
      [1, undefined],
      [2, undefined],
      [2, undefined],
      [0, 0],
    ]);
  });

  test('an event naming no item it knows goes to the item opened last; before any, to the first', () => {
    const placed = place([
      { type: 'response.output_text.delta', delta: 'early' },
      { type: 'response.output_item.added', output_index: 0, item: { id: 'a', type: 'message', content: [] } },
      { type: 'response.output_item.added', output_index: 1, item: { id: 'b', type: 'message', content: [] } },
      { type: 'response.output_text.delta', item_id: 'unknown', delta: 'x' },
      { type: 'response.output_text.delta', item_id: 'a', delta: 'y' },
    ]);
    expect(placed.map(where)).toEqual([[0, 0], [0, undefined], [1, undefined], [1, 0], [0, 0]]);
  });

  test('events that carry their indexes keep them, the same object; lifecycle events are in no item', () => {
    const indexed = { type: 'response.output_text.delta', item_id: 'a', output_index: 3, content_index: 2, delta: 'x' };
    const lifecycle = { type: 'response.created', response: { output: [] } };
    const [a, b] = place([indexed, lifecycle]);
    expect(a).toBe(indexed);
    expect(b).toBe(lifecycle);
    expect(b!.output_index).toBeUndefined();
  });

  test("a part opened without its index is the item's next part; part events without one go in its latest", () => {
    const placed = place([
      { type: 'response.output_item.added', item: { id: 'm', type: 'message', content: [] } },
      { type: 'response.output_text.delta', item_id: 'm', delta: 'before any part' },
      { type: 'response.content_part.added', item_id: 'm', part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'm', delta: 'a' },
      { type: 'response.content_part.added', item_id: 'm', part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'm', delta: 'b' },
      { type: 'response.content_part.added', item_id: 'm', output_index: 0, content_index: 5, part: { type: 'output_text', text: '' } },
      { type: 'response.output_text.delta', item_id: 'm', delta: 'c' },
      { type: 'response.reasoning_summary_part.added', item_id: 'm', part: { type: 'summary_text', text: '' } },
      { type: 'response.reasoning_summary_text.delta', item_id: 'm', delta: 's' },
    ]);
    expect(placed.map(where)).toEqual([[0, undefined], [0, 0], [0, 0], [0, 0], [0, 1], [0, 1], [0, 5], [0, 5], [0, 0], [0, 0]]);
  });

  test('an event whose item_id names an item opened at another index is refused; an id opened again names its latest item', () => {
    const opened = [
      { type: 'response.output_item.added', output_index: 0, item: { id: 'A', type: 'message', content: [] } },
      { type: 'response.output_item.added', output_index: 1, item: { id: 'B', type: 'message', content: [] } },
    ];
    expect(() => place([...opened, { type: 'response.output_text.delta', output_index: 1, content_index: 0, item_id: 'A', delta: 'x' }])).toThrow(MalformedAnswerError);
    // SGLang gives every item one id: the id names the item opened last.
    const shared = place([
      { type: 'response.output_item.added', output_index: 0, item: { id: 'X', type: 'message', content: [] } },
      { type: 'response.output_item.added', output_index: 1, item: { id: 'X', type: 'message', content: [] } },
      { type: 'response.output_text.delta', output_index: 1, content_index: 0, item_id: 'X', delta: 'y' },
    ]);
    expect(shared.map(where).at(-1)).toEqual([1, 0]);
  });
});
