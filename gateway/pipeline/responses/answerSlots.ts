import type { ResponseObject, ResponseOutputItem, ResponsePart, ResponseStreamEvent } from '../../../engine/answerSchema';
import { idPieces, itemBookkeeping, responseBookkeeping } from '../extract/bookkeeping';
import { isTypeName, lanePath, pathKey, stringLeaves } from '../extract/stringLeaves';

/**
 * Every text a client receives from a Responses answer, whole or streamed, placed in the slot it
 * fills in the response the client assembles (`output[0].content[0].text`, `output[1].arguments`,
 * ...). A stream repeats its text: deltas build a slot, then `*.done` events, `output_item.done`
 * and `response.completed` state it whole again; slotAnswer.ts checks each distinct text once.
 * Members the gateway does not know are slots too (all their strings, member names included), so
 * nothing reaches the client unchecked; only the structure listed here is not text.
 */
export type SlotKind = 'content' | 'refusal' | 'reasoning' | 'call_name' | 'call_arguments' | 'other';

export interface SlotPiece {
  slot: string;
  text: string;
  /** A delta, appended to the slot; otherwise the slot's whole value as the engine states it. */
  append: boolean;
  kind: SlotKind;
  /** Output index of the call a `call_*` piece belongs to. */
  call?: number;
}

/** Response members that are bookkeeping (ids, model, status, token counts), not text a reader sees. */
export const RESPONSE_STRUCTURE: ReadonlySet<string> = new Set(['id', 'object', 'created_at', 'status', 'model', 'output', 'usage', 'incomplete_details', 'error']);
/** Output item members that are structure. */
const ITEM_STRUCTURE: ReadonlySet<string> = new Set(['type', 'status', 'role']);
/** Event members that are structure: the event's kind, order and where its text goes. */
const EVENT_STRUCTURE: ReadonlySet<string> = new Set(['type', 'sequence_number', 'output_index', 'content_index', 'summary_index', 'annotation_index']);
const CALL_TYPES: ReadonlySet<string> = new Set(['function_call', 'custom_tool_call']);
/**
 * Member names the API documents on responses, items, parts, events and logprobs. Any other name
 * is the engine's own word and reaches the client with the bytes: it is text (even with a null
 * value), as on the chat routes.
 */
const DOCUMENTED_MEMBERS: ReadonlySet<string> = new Set([
  ...RESPONSE_STRUCTURE, ...ITEM_STRUCTURE, ...EVENT_STRUCTURE,
  // items, parts, events and logprobs
  'item_id', 'text', 'refusal', 'logprobs', 'annotations', 'content', 'summary', 'name', 'arguments', 'input', 'call_id',
  'encrypted_content', 'delta', 'part', 'item', 'response', 'annotation', 'token', 'bytes', 'logprob', 'top_logprobs', 'obfuscation',
  'output_text', 'code', 'message', 'param', 'url', 'title', 'start_index', 'end_index',
  // request settings a response echoes
  'instructions', 'tools', 'tool_choice', 'reasoning', 'temperature', 'top_p', 'max_output_tokens', 'truncation', 'metadata',
  'parallel_tool_calls', 'previous_response_id', 'store', 'user', 'service_tier', 'background', 'prompt_cache_key', 'safety_identifier',
  'max_tool_calls', 'conversation', 'prompt',
]);
const memberName = (at: string, key: string): SlotPiece[] => (DOCUMENTED_MEMBERS.has(key) ? [] : [set(`${at}${pathKey(key)}#key`, key)]);

/**
 * Words of the API's own vocabulary an engine echoes back as settings (`tool_choice: "auto"`,
 * `truncation: "disabled"`, ...): not text anyone reads, so an echo made only of them is not checked.
 */
const API_WORDS: ReadonlySet<string> = new Set(['auto', 'none', 'required', 'disabled', 'default', 'flex', 'priority', 'scale', 'low', 'medium', 'high', 'minimal', 'concise', 'detailed', 'text', 'function', 'json_schema', 'json_object', 'allowed_tools']);
/** Member names of echoed settings (`format`, `effort`, ...) and JSON Schema keywords. */
const ECHO_KEYS: ReadonlySet<string> = new Set(['type', 'format', 'effort', 'summary', 'generate_summary', 'verbosity', 'mode', 'name', 'description', 'parameters', 'strict', 'properties', 'required', 'items', 'additionalProperties', 'tools', 'schema']);

const set = (slot: string, text: string, kind: SlotKind = 'other', call?: number): SlotPiece => ({ slot, text, append: false, kind, ...(call !== undefined ? { call } : {}) });
const delta = (slot: string, text: string, kind: SlotKind, call?: number): SlotPiece => ({ ...set(slot, text, kind, call), append: true });

/** All strings of a value (member names too) as whole-value pieces, each in the slot of its path. */
function leaves(value: unknown, at: string): SlotPiece[] {
  return stringLeaves(value, at, { keys: true, skipValue: isTypeName }).map((l) => set(l.path, l.text));
}

/** Chosen tokens as one text, each rank of alternatives as one text, and their bytes (BYTES_SLOT). */
function tokenPieces(logprobs: readonly Record<string, unknown>[], at: string, append: boolean): SlotPiece[] {
  const lanes = new Map<string, string[]>();
  const add = (slot: string, text: string) => lanes.set(slot, [...(lanes.get(slot) ?? []), text]);
  // Every entry's bytes, one character per byte: slotAnswer.ts decodes a slot's joined bytes once.
  const addBytes = (slot: string, bytes: unknown[]) => {
    if (bytes.length === 0) return;
    if (bytes.every((b) => Number.isInteger(b) && (b as number) >= 0 && (b as number) <= 255)) add(`${slot}${BYTES_SLOT_MARK}`, Buffer.from(bytes as number[]).toString('latin1'));
    else add(`${slot}.values`, bytes.join(' '));
  };
  const extra: SlotPiece[] = [];
  for (const entry of logprobs) {
    for (const [key, value] of Object.entries(entry)) {
      extra.push(...memberName(at, key));
      if (key === 'logprob' || value == null) continue;
      if (key === 'token' && typeof value === 'string') add(`${at}.token`, value);
      else if (key === 'bytes' && Array.isArray(value)) addBytes(`${at}.bytes`, value);
      else if (key === 'top_logprobs' && Array.isArray(value)) {
        value.forEach((alt: Record<string, unknown>, rank) => {
          if (typeof alt?.token === 'string') add(`${at}.top_logprobs[${rank}].token`, alt.token);
          const { token: _t, logprob: _l, bytes, ...rest } = alt ?? {};
          // The alternative's bytes, as for the chosen one.
          if (Array.isArray(bytes)) addBytes(`${at}.top_logprobs[${rank}].bytes`, bytes);
          extra.push(...leaves(rest, `${at}.top_logprobs[${rank}]`));
        });
      } else extra.push(...leaves(value, `${at}${pathKey(key)}`));
    }
  }
  const joined = [...lanes].map(([slot, texts]) => ({ ...set(slot, texts.join('')), append }));
  return [...joined, ...extra.map((p) => ({ ...p, slot: lanePath(p.slot), append }))];
}

/** Slots whose text is bytes, one character each, decoded as UTF-8 once a slot's value is whole: marked by a character no path holds, never by a member's name. */
export const BYTES_SLOT_MARK = '\u0000';

/** A content, summary or reasoning part at `at`: its text in the slot of that kind, every other string as other slots. */
export function partPieces(part: ResponsePart, at: string, textKind: SlotKind): SlotPiece[] {
  const pieces: SlotPiece[] = [];
  for (const [key, value] of Object.entries(part)) {
    pieces.push(...memberName(at, key));
    if (key === 'type' || value == null) continue;
    if (key === 'text' && typeof value === 'string') pieces.push(set(`${at}.text`, value, textKind));
    else if (key === 'refusal' && typeof value === 'string') pieces.push(set(`${at}.refusal`, value, 'refusal'));
    else if (key === 'logprobs' && Array.isArray(value)) pieces.push(...tokenPieces(value as Record<string, unknown>[], `${at}.logprobs`, false));
    else pieces.push(...leaves(value, `${at}${pathKey(key)}`));
  }
  // A part kind the gateway does not know is a word the client receives too.
  if (!['output_text', 'refusal', 'reasoning_text', 'summary_text', 'input_text'].includes(part.type)) pieces.push(set(`${at}.type`, part.type));
  return pieces;
}

const textKindOf = (item: ResponseOutputItem): SlotKind => (item.type === 'reasoning' ? 'reasoning' : 'content');

/** One output item at index `i`, as a whole. */
export function itemPieces(item: ResponseOutputItem, i: number): SlotPiece[] {
  const at = `output[${i}]`;
  const isCall = CALL_TYPES.has(item.type);
  const pieces: SlotPiece[] = [];
  for (const [key, value] of Object.entries(item)) {
    pieces.push(...memberName(at, key));
    if (ITEM_STRUCTURE.has(key) || value == null) continue;
    if ((key === 'id' || key === 'call_id') && typeof value === 'string') pieces.push(...idPieces(value, `${at}.${key}`).map(({ slot, text }) => set(slot, text)));
    else if ((key === 'content' || key === 'summary') && Array.isArray(value)) {
      const kind = key === 'summary' ? 'reasoning' : textKindOf(item);
      (value as ResponsePart[]).forEach((part, j) => pieces.push(...partPieces(part, `${at}.${key}[${j}]`, kind)));
    } else if (isCall && key === 'name' && typeof value === 'string') pieces.push(set(`${at}.name`, value, 'call_name', i));
    else if (isCall && (key === 'arguments' || key === 'input') && typeof value === 'string') pieces.push(set(`${at}.arguments`, value, 'call_arguments', i));
    else pieces.push(...leaves(value, `${at}${pathKey(key)}`));
  }
  if (!['message', 'function_call', 'custom_tool_call', 'reasoning'].includes(item.type)) pieces.push(set(`${at}.type`, item.type));
  for (const { slot, text } of itemBookkeeping(item, at)) pieces.push(set(slot, text));
  return pieces;
}

/**
 * Members echoing the request (`instructions`, `tools`, `text`, ...) and members the gateway does
 * not know: the strings the client did not send in that member itself are text to check.
 */
function envelopePieces(key: string, value: unknown, sent: unknown): SlotPiece[] {
  const known = new Set(stringLeaves(sent, '', { keys: true }).map((l) => l.text));
  return stringLeaves(value, `response${pathKey(key)}`, { keys: true, skipKeys: ECHO_KEYS, skipValue: isTypeName })
    .filter((l) => !known.has(l.text) && !API_WORDS.has(l.text))
    .map((l) => set(l.path, l.text));
}

/** A whole response (a non-streamed answer, or the `response` of a lifecycle event). `sent`: the request as forwarded. */
export function responsePieces(response: ResponseObject, sent: Readonly<Record<string, unknown>>): SlotPiece[] {
  // Bookkeeping engines never send (hyphen-joined words in an id, a model other than the one asked for) is text.
  const pieces: SlotPiece[] = responseBookkeeping(response, { model: typeof sent.model === 'string' ? sent.model : undefined }).map(({ slot, text }) => set(slot, text));
  for (const [key, value] of Object.entries(response)) {
    pieces.push(...memberName('response', key));
    if (value == null) continue;
    if (key === 'output') (value as ResponseOutputItem[]).forEach((item, i) => pieces.push(...itemPieces(item, i)));
    else if (!RESPONSE_STRUCTURE.has(key)) pieces.push(...envelopePieces(key, value, sent[key]));
  }
  return pieces;
}

/** Whether a response member is bookkeeping, or an echo holding only what the client sent: what a blocked answer may keep of it. */
export function keepsInBlockedAnswer(key: string, value: unknown, sent: Readonly<Record<string, unknown>>): boolean {
  return key !== 'output' && memberName('response', key).length === 0 && (RESPONSE_STRUCTURE.has(key) || value == null || envelopePieces(key, value, sent[key]).length === 0);
}

type Reader = (event: ResponseStreamEvent, at: { item: string; part: string; summary: string }) => SlotPiece[];

/** How each known event type places the members it documents; the rest of an event is read generically. */
const EVENT_READERS: Readonly<Record<string, { members: readonly string[]; read: Reader }>> = (() => {
  const lifecycle = { members: ['response'], read: () => [] as SlotPiece[] }; // read with the request, below
  const item = { members: ['item'], read: ((e) => itemPieces(e.item!, e.output_index!)) as Reader };
  const part = { members: ['part'], read: ((e, at) => partPieces(e.part!, at.part, e.part!.type === 'reasoning_text' ? 'reasoning' : 'content')) as Reader };
  const summaryPart = { members: ['part'], read: ((e, at) => partPieces(e.part!, at.summary, 'reasoning')) as Reader };
  const text = (member: 'delta' | 'text', kind: SlotKind, where: 'part' | 'summary'): { members: readonly string[]; read: Reader } => ({
    members: [member, 'logprobs'],
    read: (e, at) => [
      { ...set(`${at[where]}.${kind === 'refusal' ? 'refusal' : 'text'}`, e[member] as string, kind), append: member === 'delta' },
      ...(Array.isArray(e.logprobs) ? tokenPieces(e.logprobs as Record<string, unknown>[], `${at[where]}.logprobs`, member === 'delta') : []),
    ],
  });
  const refusal = (member: 'delta' | 'refusal'): { members: readonly string[]; read: Reader } => ({
    members: [member],
    read: (e, at) => [{ ...set(`${at.part}.refusal`, e[member] as string, 'refusal'), append: member === 'delta' }],
  });
  const args = (member: 'delta' | 'arguments' | 'input'): { members: readonly string[]; read: Reader } => ({
    members: [member, 'name'],
    read: (e, at) => [
      { ...set(`${at.item}.arguments`, e[member] as string, 'call_arguments', e.output_index), append: member === 'delta' },
      ...(typeof e.name === 'string' ? [set(`${at.item}.name`, e.name, 'call_name', e.output_index)] : []),
    ],
  });
  return {
    'response.created': lifecycle,
    'response.queued': lifecycle,
    'response.in_progress': lifecycle,
    'response.completed': lifecycle,
    'response.incomplete': lifecycle,
    'response.output_item.added': item,
    'response.output_item.done': item,
    'response.content_part.added': part,
    'response.content_part.done': part,
    'response.output_text.delta': text('delta', 'content', 'part'),
    'response.output_text.done': text('text', 'content', 'part'),
    'response.refusal.delta': refusal('delta'),
    'response.refusal.done': refusal('refusal'),
    'response.function_call_arguments.delta': args('delta'),
    'response.function_call_arguments.done': args('arguments'),
    'response.custom_tool_call_input.delta': args('delta'),
    'response.custom_tool_call_input.done': args('input'),
    'response.reasoning_summary_part.added': summaryPart,
    'response.reasoning_summary_part.done': summaryPart,
    'response.reasoning_summary_text.delta': text('delta', 'reasoning', 'summary'),
    'response.reasoning_summary_text.done': text('text', 'reasoning', 'summary'),
    'response.reasoning_text.delta': text('delta', 'reasoning', 'part'),
    'response.reasoning_text.done': text('text', 'reasoning', 'part'),
    'response.output_text.annotation.added': { members: ['annotation'], read: (e, at) => leaves(e.annotation, `${at.part}.annotations[${e.annotation_index ?? 0}]`) },
  };
})();

/**
 * One stream event's pieces. `item_id` names the item whose text the event carries: a slot of that
 * item (it repeats the item's `id`). Members an event type does not document, and every member of
 * an event type the gateway does not know, are slots of their own: appended for `*.delta` events,
 * whole values otherwise.
 */
export function eventPieces(event: ResponseStreamEvent, sent: Readonly<Record<string, unknown>>): SlotPiece[] {
  const item = `output[${event.output_index ?? 0}]`;
  const at = { item, part: `${item}.content[${event.content_index ?? 0}]`, summary: `${item}.summary[${event.summary_index ?? 0}]` };
  const reader = EVENT_READERS[event.type];
  const pieces: SlotPiece[] = reader ? reader.read(event, at) : [];
  if (event.response && reader?.members.includes('response')) pieces.push(...responsePieces(event.response, sent));
  const handled = new Set([...EVENT_STRUCTURE, ...(reader?.members ?? [])]);
  const append = event.type.endsWith('.delta');
  for (const [key, value] of Object.entries(event)) {
    pieces.push(...memberName(`event.${event.type}`, key));
    if (handled.has(key) || value == null) continue;
    if (key === 'item_id' && typeof value === 'string') pieces.push(...idPieces(value, `${item}.id`).map(({ slot, text }) => set(slot, text)));
    else pieces.push(...leaves(value, `event.${event.type}${pathKey(key)}`).map((p) => ({ ...p, slot: append ? lanePath(p.slot) : p.slot, append })));
  }
  // An event kind the gateway does not know is a word the client receives too.
  if (!reader && !['keepalive', 'response.output_text.annotation.added'].includes(event.type)) pieces.push(set(`event.${event.type}#type`, event.type));
  return pieces;
}
