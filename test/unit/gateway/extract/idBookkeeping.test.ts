import { chatAdapter } from '../../../../gateway/pipeline/adapters';
import { answerTurn, bookkeepingText } from '../../../../gateway/pipeline/extractTexts';
import { answerFromSlots } from '../../../../gateway/pipeline/responses/slotAnswer';
import { responsePieces } from '../../../../gateway/pipeline/responses/answerSlots';

/**
 * Ids engines give items and tool calls: an opaque one (hex, a uuid, `call_abc123`) is no text,
 * and is not read with the answer, whose score a long one diluted (an abusive answer scored 0.94
 * with `msg_1`, 0.14 with an OpenAI-style item id, and went out); one that holds words is
 * bookkeeping, read on its own, never joined to the answer.
 */
const ABUSE = 'You are worthless.';
const OPAQUE = `msg_${'67ccd3acc8a48190a9f5e1d2c3b4a5968'.repeat(2)}`;
const WORDED = 'msg-you-are-worthless-loser';

const chat = (id: string) => {
  const answer = chatAdapter.answers({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: ABUSE, tool_calls: [{ id, type: 'function', function: { name: 'f', arguments: '{}' } }] }, finish_reason: 'stop' }] }, { model: 'm' }).get(0)!;
  return { turn: answerTurn(answer).content, apart: bookkeepingText(answer) };
};
const responses = (id: string, callId: string) => {
  const answer = answerFromSlots(
    responsePieces({ id: 'resp_1', object: 'response', status: 'completed', model: 'm', output: [{ id, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: ABUSE }] }, { id: 'fc_1', type: 'function_call', call_id: callId, name: 'f', arguments: '{}' }] }, { model: 'm' }),
  );
  return { turn: answerTurn(answer).content, apart: bookkeepingText(answer) };
};

test('chat: an opaque tool-call id is not read; a worded one is read apart', () => {
  expect(chat('call_8b4d579ce8c04fe2a461e6ed')).toEqual({ turn: expect.not.stringContaining('call_'), apart: undefined });
  const worded = chat('call-you-are-worthless-loser');
  expect(worded.turn).not.toContain('worthless-loser');
  expect(worded.apart).toBe('call-you-are-worthless-loser');
});

test('Responses: opaque item and call ids are not read; worded ones are read apart', () => {
  const opaque = responses(OPAQUE, 'call_abc123');
  expect(opaque.turn).not.toContain('msg_');
  expect(opaque.turn).not.toContain('call_abc123');
  expect(opaque.apart).toBeUndefined();
  const worded = responses(WORDED, 'call-kill-them-all-now');
  expect(worded.turn).not.toContain(WORDED);
  expect(worded.apart?.split('\n').sort()).toEqual(['call-kill-them-all-now', WORDED]);
});

test('random ids only are left unread: words (two or glued), spaces, other scripts and emoji are read apart', async () => {
  const { randomId } = await import('../../../../gateway/pipeline/extract/bookkeeping');
  for (const id of [OPAQUE, 'call_abc123', 'chatcmpl-tool-8b4d579ce8c04fe2a461e6ed', 'fc_123456', '6f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0', 'rs_68af4030592c81938ec0a5fbab4a3e9f', 'call_8sj2kAd9f3mP0qLz1']) expect([id, randomId(id)]).toEqual([id, true]);
  for (const id of ['kill_yourself', 'you-idiot', 'killyourselfnobodywouldmissyou', 'YouAreWorthless2KillYourself9', 'You are zzs1', 'Убей себя', 'call_🔪', 'zzs1-zzs1', 'ki-ll-yo-ur-se-lf']) expect([id, randomId(id)]).toEqual([id, false]);
  // Hex is random whatever letters it happens to hold (a uuid's `abcd` group; LiteLLM's call_<uuid4>).
  for (const id of ['call_abcd1234-abcd-4bcd-8bcd-abcdefabcdef', 'deadbeefcafe', 'msg_ABCDEF0123456789']) expect([id, randomId(id)]).toEqual([id, true]);
  expect(chat('call-kill_yourself').apart).toBe('call-kill_yourself');
});
