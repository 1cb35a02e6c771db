import fc from 'fast-check';
import path from 'node:path';
import { Readable } from 'node:stream';
import { ChatCompletion, ChatChunk, parseResponseObject, ResponseObject, ResponseStreamEvent, TextCompletion } from '../../../../engine/answerSchema';
import { EngineError } from '../../../../engine/errors';
import { ApiError } from '../../../../gateway/errors';
import { chatAdapter, textAdapter, type CompletionAdapter } from '../../../../gateway/pipeline/adapters';
import { engineAnswer } from '../../../../gateway/pipeline/engineAnswer';
import { CHAT_FIELDS, COMPLETION_FIELDS, RESPONSES_FIELDS } from '../../../../gateway/pipeline/extract/requestFields';
import { checkAnswer, checkInput } from '../../../../gateway/pipeline/guardChecks';
import type { PolicyRuntime } from '../../../../gateway/pipeline/runtime/policyRuntime';
import { responsePieces } from '../../../../gateway/pipeline/responses/answerSlots';
import { ConversationMemory } from '../../../../gateway/pipeline/responses/conversationMemory';
import { responsesEndpoint } from '../../../../gateway/pipeline/responses/endpoint';
import { answerFromSlots, SlotLedger } from '../../../../gateway/pipeline/responses/slotAnswer';
import { ChatCompletionRequest, CompletionRequest, ResponsesRequest } from '../../../../gateway/pipeline/requestSchemas';
import { ResponsesAccumulator } from '../../../../gateway/streaming/responsesAccumulator';
import { responseEvents } from '../../../../gateway/streaming/responsesEvents';
import { AnswerAccumulator } from '../../../../gateway/streaming/answerAccumulator';
import { engineEvents } from '../../../../gateway/streaming/engineEvents';
import type { Guard, GuardRequest, Verdict } from '../../../../guards/types';
import { loadPolicyFile } from '../../../../policies/loader';
import { declaredNames, placeAt, stringSlots, type Segment, type Slot } from '../../../support/zodSlots';

/**
 * The coverage property (issue 13): whatever field of a request or an answer holds a marker, the
 * marker reaches a guard, or the request is refused (400) / the answer rejected (502). The
 * fields come from the request and answer zod schemas, so a member added there is tested here
 * without anyone listing it; members nobody declared are tried as random names at every level.
 * The guards are recorders (the code under test is the extraction and the pipeline, with the
 * shipped default policy's rules choosing which texts go to which guard).
 */
const MARKER = 'MRKq7zx';

class RecordingGuard implements Guard {
  readonly model = 'recorder';
  readonly seen: string[] = [];
  constructor(readonly name: string) {}
  async load(): Promise<void> {}
  async close(): Promise<void> {}
  async check(request: GuardRequest): Promise<Verdict> {
    for (const t of request.texts) this.seen.push(t.text);
    for (const turn of request.conversation) this.seen.push(turn.content, ...(turn.toolCalls ?? []));
    return { guard: this.name, model: this.model, label: 'safe', score: 0, categories: [], latencyMs: 0, segmentsScanned: request.texts.length };
  }
}

const policy = loadPolicyFile(path.join(__dirname, '..', '..', '..', '..', 'policies', 'default.yaml'));
function runtimeWithRecorders(): { runtime: PolicyRuntime; reached: () => boolean } {
  const guards = new Map(Object.keys(policy.policy.guards).map((name) => [name, new RecordingGuard(name)]));
  const runtime: PolicyRuntime = { loaded: policy, guards, timeouts: new Map([...guards.keys()].map((n) => [n, 5000])), ref: 'default@test' };
  return { runtime, reached: () => [...guards.values()].some((g) => g.seen.some((t) => t.includes(MARKER))) };
}

const word = fc.constantFrom('hello', 'weather', 'ok', '', 'tool', 'a b');
const marked = fc.tuple(fc.constantFrom('', 'x ', 'prefix-'), fc.constantFrom('', ' y', '.')).map(([a, b]) => `${a}${MARKER}${b}`);
/** A marker where anything goes: a string, or inside objects and arrays, as a value or a member name. */
const markedJson: fc.Arbitrary<unknown> = fc.oneof(
  marked,
  marked.map((m) => ({ description: m })),
  marked.map((m) => [m]),
  marked.map((m) => ({ properties: { [m]: { type: 'string' } } })),
  marked.map((m) => ({ type: 'function', function: { name: m } })),
  marked.map((m) => ({ nested: { deeper: [{ text: m }] } })),
);
const memberName = fc.stringMatching(/^[a-z_][a-z0-9_]{0,11}$/);
/** Names no schema declares (a declared name is a declared member, tried through its slot). */
const undeclared = (...schemas: Parameters<typeof declaredNames>[0][]) => {
  const names = new Set(schemas.flatMap((s) => [...declaredNames(s)]));
  return memberName.filter((n) => !names.has(n));
};

/** Required members the schemas insist on, filled in after a marker was placed, so the marker is tested by the extraction and not merely refused by validation. */
function repairRequest(body: Record<string, unknown>): Record<string, unknown> {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages as Record<string, unknown>[]) {
    if (m && typeof m === 'object') {
      m.role ??= 'user';
      if (Array.isArray(m.content)) for (const part of m.content as Record<string, unknown>[]) if (part && typeof part === 'object') part.type ??= 'text';
    }
  }
  return body;
}

const message = fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant', 'tool', 'function'), content: fc.oneof(word, fc.array(word.map((text) => ({ type: 'text', text })), { maxLength: 3 })) });
const baseChat = fc.record({ model: fc.constant('m'), messages: fc.array(message, { minLength: 1, maxLength: 4 }) }, { requiredKeys: ['model', 'messages'] });

/** Slots to try: every string or free-form slot of the schema, except top-level fields classified harmless. */
function requestSlots(schema: Parameters<typeof stringSlots>[0], table: Readonly<Record<string, string>>): Slot[] {
  return stringSlots(schema).filter((s) => table[s.path[0] as string] !== 'harmless');
}

async function outcome(run: () => Promise<void>, refusedBy: new (...a: never[]) => Error): Promise<'refused' | 'checked'> {
  try {
    await run();
    return 'checked';
  } catch (err) {
    if (err instanceof refusedBy) return 'refused';
    throw err;
  }
}

describe('coverage: a marker in any request field reaches a guard or the request is refused', () => {
  const objectLevels: Segment[][] = [[], ['messages', 0], ['messages', 0, 'content', 0], ['messages', 0, 'tool_calls', 0], ['messages', 0, 'tool_calls', 0, 'function'], ['tools', 0], ['tools', 0, 'function'], ['documents', 0]];

  const cases = (adapter: CompletionAdapter, slots: Slot[], base: fc.Arbitrary<Record<string, unknown>>) =>
    fc.oneof(
      {
        weight: 3,
        arbitrary: fc.record({ base, slot: fc.constantFrom(...slots) }).chain(({ base, slot }) =>
          (slot.kind === 'string' ? marked : markedJson).map((value) => ({ body: placeAt(base, slot.path, value) as Record<string, unknown>, where: slot.path.join('.') })),
        ),
      },
      {
        weight: 1,
        arbitrary: fc
          .record({ base, level: fc.constantFrom(...(adapter === chatAdapter ? objectLevels : [[]])), key: undeclared(ChatCompletionRequest, CompletionRequest), value: markedJson })
          .map(({ base, level, key, value }) => ({ body: placeAt(base, [...level, key], value) as Record<string, unknown>, where: `${[...level, key].join('.')} (undeclared)` })),
      },
    ).map(({ body, where }) => ({ adapter, body: adapter === chatAdapter ? repairRequest(body) : body, where }));

  const chatSlots = requestSlots(ChatCompletionRequest, CHAT_FIELDS);
  const textSlots = requestSlots(CompletionRequest, COMPLETION_FIELDS);

  test('the schemas give the property something to try', () => {
    const paths = chatSlots.map((s) => s.path.join('.'));
    for (const p of ['messages.0.content', 'messages.0.content.0.text', 'messages.0.name', 'messages.0.tool_calls.0.function.arguments', 'tools.0.function.description', 'documents.0', 'tool_choice']) expect(paths).toContain(p);
    expect(textSlots.map((s) => s.path.join('.'))).toEqual(expect.arrayContaining(['prompt', 'prompt.0', 'suffix']));
  });

  test.each([
    ['chat', chatAdapter, chatSlots, baseChat],
    ['completions', textAdapter, textSlots, fc.record({ model: fc.constant('m'), prompt: fc.oneof(word, fc.array(word, { minLength: 1, maxLength: 3 })) })],
  ] as const)('%s', async (_name, adapter, slots, base) => {
    const outcomes = { refused: 0, checked: 0 };
    await fc.assert(
      fc.asyncProperty(cases(adapter, slots as Slot[], base as fc.Arbitrary<Record<string, unknown>>), async ({ body, where }) => {
        const { runtime, reached } = runtimeWithRecorders();
        const result = await outcome(async () => {
          const parsed = adapter.parse(body, runtime.loaded.policy.request_fields);
          await checkInput(runtime, parsed);
        }, ApiError);
        outcomes[result]++;
        if (result === 'checked' && !reached()) throw new Error(`marker in ${where} reached no guard: ${JSON.stringify(body).slice(0, 400)}`);
      }),
      { numRuns: 400 },
    );
    // Refusing everything would pass trivially: most placements must be checked, not refused.
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });
});

/** Answer members that are structure (ids, names of the model, finish reasons, roles, type tags): listed here, so adding one is a decision. */
// Ids (the answer's, a tool call's) are read only when they hold words (the marker is one word): test/unit/gateway/extract/idBookkeeping.test.ts.
const ANSWER_STRUCTURE = new Set(['id', 'object', 'model', 'system_fingerprint', 'service_tier', 'choices.0.finish_reason', 'choices.0.message.role', 'choices.0.delta.role', 'choices.0.message.content.0.type', 'choices.0.delta.content.0.type', 'choices.0.message.tool_calls.0.type', 'choices.0.delta.tool_calls.0.type', 'choices.0.message.tool_calls.0.id', 'choices.0.delta.tool_calls.0.id']);

function repairAnswer(json: Record<string, unknown>): Record<string, unknown> {
  for (const choice of (json.choices as Record<string, unknown>[]) ?? []) {
    const message = (choice.message ?? choice.delta) as Record<string, unknown> | undefined;
    if (message && Array.isArray(message.content)) for (const part of message.content as Record<string, unknown>[]) part.type ??= 'text';
    const logprobs = choice.logprobs as Record<string, unknown[]> | undefined;
    for (const key of ['content', 'refusal']) {
      for (const entry of (Array.isArray(logprobs?.[key]) ? logprobs[key] : []) as Record<string, unknown>[]) {
        entry.token ??= 't';
        for (const alt of (Array.isArray(entry.top_logprobs) ? entry.top_logprobs : []) as Record<string, unknown>[]) alt.token ??= 't';
      }
    }
  }
  return json;
}

describe('coverage: a marker in any answer field reaches the output guard or the answer is rejected', () => {
  const parsedChat = chatAdapter.parse({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  const parsedText = textAdapter.parse({ model: 'm', prompt: 'hi' });
  const answerSlots = (schema: Parameters<typeof stringSlots>[0]) => stringSlots(schema).filter((s) => !ANSWER_STRUCTURE.has(s.path.join('.')));
  const levels = (container: 'message' | 'delta' | null): Segment[][] => [[], ['choices', 0], ['choices', 0, 'logprobs'], ...(container ? [[`choices`, 0, container], ['choices', 0, container, 'tool_calls', 0], ['choices', 0, container, 'tool_calls', 0, 'function']] : [])] as Segment[][];

  const placement = (base: Record<string, unknown>, slots: Slot[], objectLevels: Segment[][]) =>
    fc.oneof(
      fc.record({ slot: fc.constantFrom(...slots), value: marked }).map(({ slot, value }) => ({ path: slot.path, value, where: slot.path.join('.') })),
      fc.record({ level: fc.constantFrom(...objectLevels), key: undeclared(ChatCompletion, ChatChunk, TextCompletion), value: markedJson }).map(({ level, key, value }) => ({ path: [...level, key], value, where: `${[...level, key].join('.')} (undeclared)` })),
    ).map(({ path: p, value, where }) => ({ json: repairAnswer(placeAt(structuredClone(base), p, value) as Record<string, unknown>), where, value, declared: !where.endsWith('(undeclared)') }));

  async function checkAll(adapter: CompletionAdapter, answers: Map<number, Parameters<typeof checkAnswer>[2]>, reached: () => boolean, runtime: PolicyRuntime, parsed: typeof parsedChat, where: string, json: unknown) {
    for (const [i, answer] of answers) await checkAnswer(runtime, parsed, answer, i);
    if (!reached()) throw new Error(`marker in ${where} reached no guard: ${JSON.stringify(json).slice(0, 400)}`);
  }

  test.each([
    ['chat', chatAdapter, ChatCompletion, { id: 'c', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'ok' }, finish_reason: 'stop' }] }, 'message', parsedChat],
    ['completions', textAdapter, TextCompletion, { id: 'c', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text: 'ok', finish_reason: 'stop' }] }, null, parsedText],
  ] as const)('%s, not streamed', async (_name, adapter, schema, base, container, parsed) => {
    const outcomes = { refused: 0, checked: 0 };
    await fc.assert(
      fc.asyncProperty(placement(base as Record<string, unknown>, answerSlots(schema), levels(container)), async ({ json, where }) => {
        const { runtime, reached } = runtimeWithRecorders();
        const result = await outcome(() => checkAll(adapter, adapter.answers(json, { model: 'm' }), reached, runtime, parsed, where, json), EngineError);
        outcomes[result]++;
      }),
      { numRuns: 300 },
    );
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });

  test.each([
    ['chat', chatAdapter, ChatChunk, { id: 's', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'a' }, finish_reason: null }] }, 'delta', parsedChat],
    ['completions', textAdapter, TextCompletion, { id: 's', object: 'text_completion', created: 1, model: 'm', choices: [{ index: 0, text: 'a', finish_reason: null }] }, null, parsedText],
  ] as const)('%s, streamed (the marker whole in one chunk, or split over two)', async (_name, adapter, schema, base, container, parsed) => {
    const outcomes = { refused: 0, checked: 0 };
    const streams = fc.record({ placed: placement(base as Record<string, unknown>, answerSlots(schema), levels(container)), split: fc.boolean(), window: fc.boolean() });
    await fc.assert(
      fc.asyncProperty(streams, async ({ placed, split, window }) => {
        let chunks = [base, placed.json, base];
        if (split && placed.declared && typeof placed.value === 'string') {
          // The same member in two chunks, the text cut inside the marker: the lane must join them.
          const value = placed.value;
          const cut = value.indexOf(MARKER) + 3;
          const text = JSON.stringify(placed.json);
          const [left, right] = [text.replace(JSON.stringify(value), JSON.stringify(value.slice(0, cut))), text.replace(JSON.stringify(value), JSON.stringify(value.slice(cut)))];
          chunks = [base, JSON.parse(left), JSON.parse(right), base];
        }
        const bytes = [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), 'data: [DONE]\n\n'].join('');
        const { runtime, reached } = runtimeWithRecorders();
        const accumulator = new AnswerAccumulator();
        const result = await outcome(async () => {
          for await (const _ of engineEvents({ status: 200, contentType: 'text/event-stream', body: Readable.from([Buffer.from(bytes)]) }, accumulator, adapter)) {
            /* read to the end */
          }
          // buffer mode checks each choice whole; window mode checks ranges of events.
          const answers = window ? new Map([[0, accumulator.window(0, accumulator.textEvents, 0)]]) : new Map(accumulator.choiceIndexes().map((i) => [i, accumulator.answer(i)]));
          await checkAll(adapter, answers, reached, runtime, parsed, placed.where, chunks);
        }, EngineError);
        outcomes[result]++;
      }),
      { numRuns: 300 },
    );
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });
});

/**
 * The Responses API (issue 17): the same properties for its request (input items of every kind,
 * instructions, tools, text format) and its answers, whole and streamed (a marker in any member
 * of any event). The request schema and the answer and event schemas give the slots.
 */
describe('coverage, Responses API: a marker in any request field reaches a guard or the request is refused', () => {
  const endpoint = responsesEndpoint(new ConversationMemory());
  const text = word.map((t) => ({ type: 'input_text', text: t }));
  const item = fc.oneof(
    fc.record({ role: fc.constantFrom('system', 'developer', 'user', 'assistant'), content: fc.oneof(word, fc.array(text, { maxLength: 2 })) }),
    fc.record({ type: fc.constant('message'), role: fc.constant('assistant'), id: fc.constant('msg_1'), status: fc.constant('completed'), content: fc.constant([{ type: 'output_text', text: 'earlier', annotations: [] }]) }),
    fc.record({ type: fc.constant('function_call'), call_id: fc.constant('call_1'), name: fc.constant('search'), arguments: fc.constant('{}') }),
    fc.record({ type: fc.constant('function_call_output'), call_id: fc.constant('call_1'), output: fc.oneof(word, fc.array(text, { maxLength: 2 })) }),
    fc.record({ type: fc.constant('reasoning'), summary: fc.array(word.map((t) => ({ type: 'summary_text', text: t })), { maxLength: 2 }) }),
  );
  const base = fc.record({ model: fc.constant('m'), input: fc.oneof({ weight: 1, arbitrary: word }, { weight: 4, arbitrary: fc.array(item, { minLength: 1, maxLength: 3 }) }) });
  /** Members the schemas insist on, filled in after a marker was placed. */
  const repair = (body: Record<string, unknown>): Record<string, unknown> => {
    if (Array.isArray(body.input)) {
      for (const it of body.input as Record<string, unknown>[]) {
        if (!it || typeof it !== 'object') continue;
        if (it.type === undefined || it.type === 'message') it.role ??= 'user';
        if (it.type === undefined && it.content === undefined) it.content = 'hi';
        for (const key of ['content', 'output', 'summary'])
          if (Array.isArray(it[key])) for (const part of it[key] as Record<string, unknown>[]) if (part && typeof part === 'object') part.type ??= key === 'summary' ? 'summary_text' : 'input_text';
      }
    }
    if (Array.isArray(body.tools)) for (const tool of body.tools as Record<string, unknown>[]) if (tool && typeof tool === 'object') tool.type ??= 'function';
    return body;
  };
  const slots = requestSlots(ResponsesRequest, RESPONSES_FIELDS);
  const levels: Segment[][] = [[], ['input', 0], ['input', 0, 'content', 0], ['input', 0, 'output', 0], ['tools', 0], ['tools', 0, 'parameters']];
  const cases = fc
    .oneof(
      { weight: 3, arbitrary: fc.record({ base, slot: fc.constantFrom(...slots) }).chain(({ base, slot }) => (slot.kind === 'string' ? marked : markedJson).map((value) => ({ body: placeAt(base, slot.path, value) as Record<string, unknown>, where: slot.path.join('.') }))) },
      { weight: 1, arbitrary: fc.record({ base, level: fc.constantFrom(...levels), key: undeclared(ResponsesRequest), value: markedJson }).map(({ base, level, key, value }) => ({ body: placeAt(base, [...level, key], value) as Record<string, unknown>, where: `${[...level, key].join('.')} (undeclared)` })) },
    )
    .map(({ body, where }) => ({ body: repair(body), where }));

  test('the schema gives the property something to try', () => {
    const paths = slots.map((s) => s.path.join('.'));
    for (const p of ['input', 'input.0.content', 'input.0.content.0.text', 'input.0.arguments', 'input.0.call_id', 'input.0.output', 'input.0.summary.0.text', 'instructions', 'tools.0.description', 'tools.0.parameters', 'text', 'previous_response_id']) expect(paths).toContain(p);
  });

  test('responses', async () => {
    const outcomes = { refused: 0, checked: 0 };
    await fc.assert(
      fc.asyncProperty(cases, async ({ body, where }) => {
        const { runtime, reached } = runtimeWithRecorders();
        const result = await outcome(async () => {
          const parsed = endpoint.parse(body, runtime.loaded.policy.request_fields, { app: 'test' });
          await checkInput(runtime, parsed);
        }, ApiError);
        outcomes[result]++;
        if (result === 'checked' && !reached()) throw new Error(`marker in ${where} reached no guard: ${JSON.stringify(body).slice(0, 400)}`);
      }),
      { numRuns: 400 },
    );
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });
});

describe('coverage, Responses API: a marker in any answer field or event member reaches the output guard or the answer is rejected', () => {
  const parsed = responsesEndpoint(new ConversationMemory()).parse({ model: 'm', input: 'hi' }, undefined, { app: 'test' });
  /** Bookkeeping and enumerations: listed here, so adding one is a decision. */
  // Item and call ids (and events' item_id) are read only when they hold words: test/unit/gateway/extract/idBookkeeping.test.ts.
  const ids = ['output.0.id', 'output.0.call_id', 'response.output.0.id', 'response.output.0.call_id', 'item.id', 'item.call_id', 'item_id'];
  const STRUCTURE = new Set(['id', 'object', 'status', 'model', 'incomplete_details.reason', 'output.0.status', 'output.0.role', 'response.id', 'response.object', 'response.status', 'response.model', 'response.incomplete_details.reason', 'response.output.0.status', 'response.output.0.role', 'item.status', 'item.role', ...ids]);
  const slotsOf = (schema: Parameters<typeof stringSlots>[0]) => stringSlots(schema).filter((s) => !STRUCTURE.has(s.path.join('.')));
  const message = { id: 'msg_1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] };
  const response = { id: 'resp_1', object: 'response', created_at: 1, status: 'completed', model: 'm', error: null, output: [message] };
  /** Item and part kinds the schemas insist on. */
  const repair = (json: Record<string, unknown>): Record<string, unknown> => {
    const items = (r: unknown) => (r && typeof r === 'object' && Array.isArray((r as { output?: unknown }).output) ? ((r as { output: Record<string, unknown>[] }).output) : []);
    for (const it of [...items(json), ...items(json.response), ...(json.item && typeof json.item === 'object' ? [json.item as Record<string, unknown>] : [])]) {
      if (!it || typeof it !== 'object') continue;
      it.type ??= 'message';
      for (const key of ['content', 'summary']) if (Array.isArray(it[key])) for (const part of it[key] as Record<string, unknown>[]) if (part && typeof part === 'object') part.type ??= 'output_text';
    }
    if (json.part && typeof json.part === 'object') (json.part as Record<string, unknown>).type ??= 'output_text';
    if (json.response && typeof json.response === 'object') (json.response as Record<string, unknown>).output ??= [];
    return json;
  };

  test('not streamed', async () => {
    const outcomes = { refused: 0, checked: 0 };
    const placements = fc.oneof(
      fc.record({ slot: fc.constantFrom(...slotsOf(ResponseObject)), value: marked }).map(({ slot, value }) => ({ path: slot.path, value, where: slot.path.join('.') })),
      fc.record({ level: fc.constantFrom<Segment[]>([], ['output', 0], ['output', 0, 'content', 0]), key: undeclared(ResponseObject, ResponseStreamEvent), value: markedJson }).map(({ level, key, value }) => ({ path: [...level, key], value, where: `${[...level, key].join('.')} (undeclared)` })),
    );
    await fc.assert(
      fc.asyncProperty(placements, async ({ path: p, value, where }) => {
        const json = repair(placeAt(structuredClone(response), p, value) as Record<string, unknown>);
        const { runtime, reached } = runtimeWithRecorders();
        const result = await outcome(async () => {
          const answer = answerFromSlots(new SlotLedger().admit(responsePieces(responsesEngineAnswer(json), parsed.body)));
          await checkAnswer(runtime, parsed, answer, 0);
          if (!reached()) throw new Error(`marker in ${where} reached no guard: ${JSON.stringify(json).slice(0, 400)}`);
        }, EngineError);
        outcomes[result]++;
      }),
      { numRuns: 300 },
    );
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });

  test('streamed: a marker in any member of any event (deltas also split over two events)', async () => {
    const at = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const bases: Record<string, unknown>[] = [
      { type: 'response.output_text.delta', ...at, delta: 'a' },
      { type: 'response.output_text.done', ...at, text: 'a' },
      { type: 'response.content_part.done', ...at, part: { type: 'output_text', text: 'a', annotations: [] } },
      { type: 'response.output_item.done', output_index: 0, item: message },
      { type: 'response.function_call_arguments.delta', item_id: 'fc_1', output_index: 1, delta: '{' },
      { type: 'response.reasoning_summary_text.delta', item_id: 'rs_1', output_index: 2, summary_index: 0, delta: 'x' },
      { type: 'response.in_progress', response: { ...response, status: 'in_progress', output: [] } },
    ];
    const placements = fc.record({
      event: fc.constantFrom(...bases),
      placed: fc.oneof(
        fc.record({ slot: fc.constantFrom(...slotsOf(ResponseStreamEvent)), value: marked }).map(({ slot, value }) => ({ path: slot.path, value, where: slot.path.join('.'), declared: true })),
        fc.record({ level: fc.constantFrom<Segment[]>([], ['item'], ['part'], ['response']), key: undeclared(ResponseObject, ResponseStreamEvent), value: markedJson }).map(({ level, key, value }) => ({ path: [...level, key], value, where: `${[...level, key].join('.')} (undeclared)`, declared: false })),
      ),
      split: fc.boolean(),
      window: fc.boolean(),
    });
    const outcomes = { refused: 0, checked: 0 };
    await fc.assert(
      fc.asyncProperty(placements, async ({ event, placed, split, window }) => {
        const json = repair(placeAt(structuredClone(event), placed.path, placed.value) as Record<string, unknown>);
        let middle = [json];
        // A delta's text cut inside the marker over two delta events: the slot must join them.
        if (split && placed.where === 'delta' && String(event.type).endsWith('.delta') && typeof placed.value === 'string') {
          const cut = placed.value.indexOf(MARKER) + 3;
          middle = [{ ...json, delta: placed.value.slice(0, cut) }, { ...json, delta: placed.value.slice(cut) }];
        }
        const events: Record<string, unknown>[] = [{ type: 'response.created', response: { ...response, status: 'in_progress', output: [] } }, ...middle, { type: 'response.completed', response }].map((e, i) => ({ ...e, sequence_number: i }));
        const bytes = events.map((e) => `event: ${String(e.type)}\ndata: ${JSON.stringify(e)}\n\n`).join('');
        const { runtime, reached } = runtimeWithRecorders();
        const accumulator = new ResponsesAccumulator(parsed.body);
        const result = await outcome(async () => {
          for await (const _ of responseEvents({ status: 200, contentType: 'text/event-stream', body: Readable.from([Buffer.from(bytes)]) }, accumulator)) {
            /* read to the end */
          }
          await checkAnswer(runtime, parsed, window ? accumulator.window(0, accumulator.textEvents, 0) : accumulator.answer(), 0);
          if (!reached()) throw new Error(`marker in ${String(event.type)} ${placed.where} reached no guard: ${JSON.stringify(middle).slice(0, 400)}`);
        }, EngineError);
        outcomes[result]++;
      }),
      { numRuns: 400 },
    );
    expect(outcomes.checked).toBeGreaterThan(outcomes.refused);
  });
});

/** The endpoint's own parse of a whole answer (a malformed one is an EngineError, 502). */
function responsesEngineAnswer(json: unknown) {
  return engineAnswer(() => parseResponseObject(json));
}
