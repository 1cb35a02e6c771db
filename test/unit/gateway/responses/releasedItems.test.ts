import type { ResponseStreamEvent } from '../../../../engine/answerSchema';
import { ReleasedItems } from '../../../../gateway/streaming/releasedItems';

const ev = (e: Record<string, unknown>) => e as ResponseStreamEvent;

test('keeps the message items the client was shown, with only the text released to it', () => {
  const items = new ReleasedItems();
  items.note(ev({ type: 'response.output_item.added', item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }));
  items.note(ev({ type: 'response.output_text.delta', item_id: 'msg_1', content_index: 0, delta: 'Once upon ' }));
  items.note(ev({ type: 'response.output_text.delta', item_id: 'msg_1', content_index: 0, delta: 'a time' }));
  // A half-written function call is left out; a delta of an item never shown is ignored.
  items.note(ev({ type: 'response.output_item.added', item: { id: 'fc_1', type: 'function_call', name: 'f', arguments: '' } }));
  items.note(ev({ type: 'response.output_text.delta', item_id: 'msg_unknown', content_index: 0, delta: 'never shown' }));
  expect(items.output()).toEqual([{ id: 'msg_1', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a time', annotations: [], logprobs: [] }] }]);
});

test('a finished item is kept as its output_item.done said', () => {
  const items = new ReleasedItems();
  const done = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'Hello.', annotations: [] }] };
  items.note(ev({ type: 'response.output_item.added', item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }));
  items.note(ev({ type: 'response.output_text.delta', item_id: 'msg_1', content_index: 0, delta: 'Hello.' }));
  items.note(ev({ type: 'response.output_item.done', item: done }));
  expect(items.output()).toEqual([done]);
});
