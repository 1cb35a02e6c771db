import type { ResponseStreamEvent } from '../../../../engine/answerSchema';
import { ResponsesInputItem } from '../../../../gateway/pipeline/requestSchemas';
import { ReleasedItems } from '../../../../gateway/streaming/releasedItems';

const ev = (e: Record<string, unknown>) => e as ResponseStreamEvent;

test('keeps the message items the client was shown, with only the text released to it', () => {
  const items = new ReleasedItems();
  items.note(ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }));
  items.note(ev({ type: 'response.output_text.delta', output_index: 0, item_id: 'msg_1', content_index: 0, delta: 'Once upon ' }));
  items.note(ev({ type: 'response.output_text.delta', output_index: 0, item_id: 'msg_1', content_index: 0, delta: 'a time' }));
  // A half-written function call is left out; a delta of an item never shown is ignored.
  items.note(ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'fc_1', type: 'function_call', name: 'f', arguments: '', call_id: 'c' } }));
  items.note(ev({ type: 'response.output_text.delta', output_index: 7, content_index: 0, delta: 'never shown' }));
  expect(items.output()).toEqual([{ id: 'msg_1', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'Once upon a time', annotations: [], logprobs: [] }] }]);
});

test('reasoning shown before the block is kept as far as it went (the AI SDK refers back to it), and reads as an input item', () => {
  const items = new ReleasedItems();
  items.note(ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'rs_1', type: 'reasoning', summary: [] } }));
  items.note(ev({ type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'Thinking about ' }));
  items.note(ev({ type: 'response.reasoning_summary_text.delta', output_index: 0, summary_index: 0, delta: 'the question' }));
  items.note(ev({ type: 'response.reasoning_text.delta', output_index: 0, content_index: 0, delta: 'step one' }));
  items.note(ev({ type: 'response.output_item.added', output_index: 1, item: { id: 'msg_1', type: 'message', role: 'assistant', content: [] } }));
  items.note(ev({ type: 'response.refusal.delta', output_index: 1, content_index: 0, delta: 'I will not' }));
  const out = items.output();
  expect(out).toEqual([
    { id: 'rs_1', type: 'reasoning', status: 'incomplete', summary: [{ type: 'summary_text', text: 'Thinking about the question' }], content: [{ type: 'reasoning_text', text: 'step one' }] },
    { id: 'msg_1', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'refusal', refusal: 'I will not' }] },
  ]);
  for (const item of out) expect(ResponsesInputItem.safeParse(item).success).toBe(true);
});

test('a finished item of any kind is kept as its output_item.done said', () => {
  const items = new ReleasedItems();
  const done = { id: 'fc_1', type: 'function_call', call_id: 'c', name: 'f', arguments: '{"a":1}', status: 'completed' };
  items.note(ev({ type: 'response.output_item.added', output_index: 0, item: { id: 'fc_1', type: 'function_call', call_id: 'c', name: 'f', arguments: '' } }));
  items.note(ev({ type: 'response.function_call_arguments.delta', output_index: 0, delta: '{"a":1}' }));
  items.note(ev({ type: 'response.output_item.done', output_index: 0, item: done }));
  expect(items.output()).toEqual([done]);
});
