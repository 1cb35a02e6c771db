import { ChatChunk, ChatCompletion, ResponseObject, TextCompletion } from '../../../../engine/answerSchema';
import { ENVELOPE_STRUCTURE } from '../../../../gateway/pipeline/extract/answerLanes';
import { CHAT_FIELDS, COMPLETION_FIELDS, RESPONSES_FIELDS } from '../../../../gateway/pipeline/extract/requestFields';
import { RESPONSE_STRUCTURE } from '../../../../gateway/pipeline/responses/answerSlots';
import { ChatCompletionRequest, CompletionRequest, ResponsesRequest } from '../../../../gateway/pipeline/requestSchemas';
import { DEFAULT_REFUSED_FIELDS } from '../../../../policies/schema';
import { membersOf } from '../../../support/zodSlots';

/**
 * A field added to a request or answer schema must be classified before it can reach the engine
 * or the client: scanned (the coverage property then puts a marker in it), harmless (a parameter
 * never read as text) or refused. These checks walk the schemas and fail on a field nobody
 * classified, and on a classification for a field the schema no longer has.
 */
describe('every declared field is classified', () => {
  test.each([
    ['chat completions', ChatCompletionRequest, CHAT_FIELDS],
    ['completions', CompletionRequest, COMPLETION_FIELDS],
    ['responses', ResponsesRequest, RESPONSES_FIELDS],
  ] as const)('%s request: each top-level field is scanned or harmless, and nothing else is listed', (_name, schema, table) => {
    const members = membersOf(schema).sort();
    expect(members.filter((m) => !(m in table))).toEqual([]);
    expect(Object.keys(table).filter((k) => !members.includes(k))).toEqual([]);
    expect(Object.values(table).every((c) => c === 'scanned' || c === 'harmless')).toBe(true);
  });

  test('the fields refused by default are neither scanned nor harmless', () => {
    expect(DEFAULT_REFUSED_FIELDS.filter((f) => f in CHAT_FIELDS || f in COMPLETION_FIELDS || f in RESPONSES_FIELDS)).toEqual([]);
  });

  test.each([
    ['chat completion', ChatCompletion],
    ['chat chunk', ChatChunk],
    ['text completion', TextCompletion],
  ] as const)('%s answer: every member outside the choices is bookkeeping the gateway knows (anything else is checked with every choice)', (_name, schema) => {
    expect(membersOf(schema).filter((m) => !ENVELOPE_STRUCTURE.has(m))).toEqual([]);
  });

  test('responses answer: every member besides the bookkeeping echoes a request field (its strings the client did not send are checked)', () => {
    const echoes = membersOf(ResponseObject).filter((m) => !RESPONSE_STRUCTURE.has(m));
    expect(echoes.filter((m) => !(m in RESPONSES_FIELDS))).toEqual([]);
    expect(echoes.sort()).toEqual(['instructions', 'metadata', 'prompt', 'reasoning', 'text', 'tool_choice', 'tools', 'user']);
  });
});
