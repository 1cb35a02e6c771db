import { blockedResponse, blockedTailEvents, cleanEnvelope } from '../../../../gateway/pipeline/responses/blockedResponse';

/** A blocked Responses answer: incomplete with reason content_filter, the refusal, nothing the engine added. */
const sent = { model: 'm', input: 'hi', instructions: 'Be brief.' };
const engine = { id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: 'm', usage: { input_tokens: 1 }, instructions: 'Be brief. INJECTED', tool_choice: 'auto', audio: { transcript: 'UNSAFE' }, output: [{ type: 'message', content: [{ type: 'output_text', text: 'UNSAFE' }] }] };

test('the whole response: bookkeeping kept, the refusal as the output, echoes only as the client sent them', () => {
  const blocked = blockedResponse(engine, sent, 'No.', 'msg_r');
  expect(blocked).toEqual({
    id: 'resp_1',
    object: 'response',
    created_at: 1,
    status: 'incomplete',
    model: 'm',
    usage: { input_tokens: 1 },
    tool_choice: 'auto',
    incomplete_details: { reason: 'content_filter' },
    error: null,
    output: [{ id: 'msg_r', type: 'message', status: 'incomplete', role: 'assistant', content: [{ type: 'output_text', text: 'No.', annotations: [], logprobs: [] }] }],
  });
  expect(JSON.stringify(blocked)).not.toContain('UNSAFE');
  expect(cleanEnvelope({ ...engine, instructions: 'Be brief.' }, sent)).toMatchObject({ instructions: 'Be brief.', output: [] });
});

test('the stream tail: opening events when nothing went out, the refusal item in the documented order, numbered on', () => {
  const incomplete = blockedResponse(engine, sent, 'No.', 'msg_r');
  const events = blockedTailEvents({ sequence: 7, outputIndex: 2, itemId: 'msg_r', refusal: 'No.', incomplete, opening: cleanEnvelope(engine, sent) });
  expect(events.map((e) => [e.type, e.sequence_number])).toEqual([
    ['response.created', 7],
    ['response.in_progress', 8],
    ['response.output_item.added', 9],
    ['response.content_part.added', 10],
    ['response.output_text.delta', 11],
    ['response.output_text.done', 12],
    ['response.content_part.done', 13],
    ['response.output_item.done', 14],
    ['response.incomplete', 15],
  ]);
  expect(events.filter((e) => 'output_index' in e).every((e) => e.output_index === 2)).toBe(true);
  expect(events.at(-1)).toMatchObject({ response: { status: 'incomplete', incomplete_details: { reason: 'content_filter' } } });
  expect(JSON.stringify(events)).not.toContain('UNSAFE');
  expect(blockedTailEvents({ sequence: 0, outputIndex: 0, itemId: 'msg_r', refusal: 'No.', incomplete })[0].type).toBe('response.output_item.added');
});
