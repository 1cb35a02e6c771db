import type { ChatRole, ChatTurn, ScanText, TextSource } from '../../../guards/types';
import type { RequestFields } from '../../../policies/schema';
import { ApiError, badRequest } from '../../errors';
import {
  ResponsesCustomToolCallItem,
  ResponsesCustomToolCallOutputItem,
  ResponsesFunctionCallItem,
  ResponsesFunctionCallOutputItem,
  ResponsesItemReference,
  ResponsesMessageItem,
  ResponsesReasoningItem,
  type ResponsesInputItem,
} from '../requestSchemas';
import { randomId } from '../extract/bookkeeping';
import { membersOf } from '../extract/conversation';
import { gluedTurnText } from '../extract/gluedParts';
import { contentTexts } from '../extract/messageTexts';
import { isTypeName, stringLeaves, unknownMemberName } from '../extract/stringLeaves';
import { readableArguments } from '../extract/toolArguments';

/**
 * Every text of the Responses API's input items, whatever their kind, tagged with its source as
 * for chat: a message by its role (developer and system included), function and custom tool calls
 * as `tool_call`, their outputs as `tool` (third-party content), reasoning as `assistant` (clients
 * resend it and can forge it). Only `type`, `role`, `status` and `phase` are structure (the schema
 * holds them to enumerations); ids and unknown members (their names too) are scanned like any text.
 */

/** The schema of each item type the gateway reads. Others feed the engine results of tools it runs itself (web search, files, computer use, MCP, ...), which the gateway cannot check. */
const ITEM_SCHEMAS = {
  message: ResponsesMessageItem,
  function_call: ResponsesFunctionCallItem,
  function_call_output: ResponsesFunctionCallOutputItem,
  custom_tool_call: ResponsesCustomToolCallItem,
  custom_tool_call_output: ResponsesCustomToolCallOutputItem,
  reasoning: ResponsesReasoningItem,
  item_reference: ResponsesItemReference,
} as const;

export const KNOWN_ITEM_TYPES: ReadonlySet<string> = new Set(Object.keys(ITEM_SCHEMAS));
/** The members each item type documents: any other member's name is scanned too (the engine receives it). */
const ITEM_MEMBERS: ReadonlyMap<string, ReadonlySet<string>> = new Map(Object.entries(ITEM_SCHEMAS).map(([type, schema]) => [type, new Set(Object.keys(schema.shape))]));

/**
 * Pure, before the request schema runs: each item checked against the schema of its own type
 * (a message when it has none), so an error names the item and member (`input[2].call_id`)
 * rather than the schema union's "invalid input"; an item type the gateway does not know is
 * refused with a message naming it.
 */
export function checkItems(input: unknown): void {
  if (!Array.isArray(input)) return;
  input.forEach((item, i) => {
    const type = item !== null && typeof item === 'object' && !Array.isArray(item) ? (item as { type?: unknown }).type : undefined;
    if (type !== undefined && (typeof type !== 'string' || !KNOWN_ITEM_TYPES.has(type))) {
      throw new ApiError(
        400,
        `Input items of type \`${String(type).slice(0, 60)}\` are not accepted: the gateway forwards messages, function and custom tool calls with their outputs, and reasoning summaries. Other items carry results of tools the engine runs itself, which the gateway cannot check.`,
        'invalid_request_error',
        'unsupported_content',
        `input[${i}].type`,
      );
    }
    const result = ITEM_SCHEMAS[(type ?? 'message') as keyof typeof ITEM_SCHEMAS].safeParse(item);
    if (result.success) return;
    const issue = result.error.issues[0];
    const param = `input[${i}]${issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}`;
    throw badRequest(`invalid responses request: \`${param}\`: ${issue.message}`, param);
  });
}

/** Item members that are structure: enumerations the schema checks, never text. */
const STRUCTURE: ReadonlySet<string> = new Set(['type', 'role', 'status', 'phase']);

/** Member names of the API itself: listing them as texts would only add noise (their values are scanned). */
const API_KEYS: ReadonlySet<string> = new Set(['type', 'id', 'name', 'arguments', 'text', 'call_id', 'output', 'input', 'annotations', 'logprobs', 'summary', 'content']);

export function sourceOfItemRole(role: 'user' | 'assistant' | 'system' | 'developer'): TextSource {
  return role;
}

function leavesAs(source: TextSource, value: unknown, at: string): ScanText[] {
  return stringLeaves(value, at, { keys: true, skipValue: isTypeName, skipKeys: API_KEYS }).map((l) => ({ source, path: l.path, text: l.text }));
}

/** Every member but the structure ones, with `special` members read by their own rule. */
function memberTexts(item: Record<string, unknown>, at: string, source: TextSource, special: Record<string, (value: unknown, path: string) => ScanText[]>): ScanText[] {
  const texts: ScanText[] = [];
  const documented = ITEM_MEMBERS.get(typeof item.type === 'string' ? item.type : 'message') ?? new Set<string>();
  for (const [key, value] of Object.entries(item)) {
    const name = unknownMemberName(key, at, documented);
    if (name) texts.push({ source, ...name });
    if (STRUCTURE.has(key) || value === undefined || value === null) continue;
    const path = `${at}.${key}`;
    texts.push(...(special[key] ? special[key](value, path) : leavesAs(source, value, path)));
  }
  return texts;
}

/** Reasoning parts: their `type` is an enumeration (schema), every other member is text. */
function reasoningParts(value: unknown, at: string): ScanText[] {
  if (!Array.isArray(value)) return leavesAs('assistant', value, at);
  return value.flatMap((part: Record<string, unknown>, j) => Object.entries(part).flatMap(([key, v]) => (key === 'type' ? [] : leavesAs('assistant', v, `${at}[${j}].${key}`))));
}

/** The texts of one input item (item references are resolved before this runs). */
export function itemTexts(item: ResponsesInputItem, i: number, fields: Pick<RequestFields, 'media_parts' | 'control_tokens'>): ScanText[] {
  const at = `input[${i}]`;
  const record = item as Record<string, unknown>;
  switch (item.type) {
    case undefined:
    case 'message': {
      const source = sourceOfItemRole(item.role);
      return memberTexts(record, at, source, { content: () => contentTexts(item.content, source, `${at}.content`, fields) });
    }
    case 'function_call':
    case 'custom_tool_call':
      // Arguments as the engine reads them: JSON escapes decoded (extract/toolArguments.ts).
      return memberTexts(record, at, 'tool_call', { arguments: (value, path) => leavesAs('tool_call', value, path).map((t) => ({ ...t, text: readableArguments(t.text) })) });
    case 'function_call_output':
    case 'custom_tool_call_output':
      return memberTexts(record, at, 'tool', { output: () => contentTexts(item.output, 'tool', `${at}.output`, fields) });
    case 'reasoning':
      if (item.encrypted_content) {
        throw new ApiError(400, 'Encrypted reasoning is not accepted: the engine would read text the gateway cannot check. Send the reasoning summary instead.', 'invalid_request_error', 'unsupported_value', `${at}.encrypted_content`);
      }
      return memberTexts(record, at, 'assistant', { summary: reasoningParts, content: reasoningParts });
    case 'item_reference':
      // Resolved by conversationMemory before extraction; one left here would reach the engine unread.
      throw new ApiError(400, 'Item references are resolved by the gateway before they are checked.', 'invalid_request_error', 'unsupported_value', `${at}.id`);
  }
}

/**
 * Ids are bookkeeping, not words (Prompt Guard scans them all): a random one is left out of the
 * conversation, any other is read apart (an engine's template may render it; joined to its item, a
 * long one diluted the item's words).
 */
const ID_PATH = /\.(id|call_id)$/;

/**
 * The input items as a Llama Guard style guard reads the conversation: the preamble (tool
 * definitions, output format) and the instructions first, as system turns, then one turn per
 * item holding the same texts Prompt Guard scans; calls as `name(arguments)`.
 */
export function itemsConversation(items: readonly ResponsesInputItem[], perItem: readonly ScanText[][], preamble: readonly ScanText[], instructions: readonly ScanText[]): ChatTurn[] {
  const turns: ChatTurn[] = [];
  if (preamble.length > 0) turns.push({ role: 'system', content: preamble.map((t) => t.text).join(' '), path: membersOf(preamble) });
  if (instructions.length > 0) turns.push({ role: 'system', content: instructions.map((t) => t.text).join(' '), path: membersOf(instructions) });
  items.forEach((item, i) => {
    const at = `input[${i}]`;
    const texts = perItem[i] ?? [];
    const words = texts.filter((t) => !ID_PATH.test(t.path));
    const apart = texts.filter((t) => ID_PATH.test(t.path) && !randomId(t.text)).map((t) => t.text);
    const glued = gluedTurnText(texts);
    const withApart = (turn: ChatTurn): ChatTurn => ({ ...turn, path: at, ...(apart.length ? { apart } : {}), ...(glued !== undefined ? { glued } : {}) });
    if (item.type === 'function_call' || item.type === 'custom_tool_call') {
      const call = `${item.name}(${item.type === 'function_call' ? readableArguments(item.arguments) : item.input})`;
      const others = words.filter((t) => ![`${at}.name`, `${at}.arguments`, `${at}.input`].includes(t.path)).map((t) => t.text);
      turns.push(withApart({ role: 'assistant', content: '', toolCalls: [call, ...others] }));
      return;
    }
    turns.push(withApart({ role: turnRole(item), content: words.map((t) => t.text).join(' ') }));
  });
  return turns;
}

function turnRole(item: ResponsesInputItem): ChatRole {
  switch (item.type) {
    case undefined:
    case 'message':
      return item.role === 'developer' ? 'system' : item.role;
    case 'function_call_output':
    case 'custom_tool_call_output':
      return 'tool';
    default:
      return 'assistant';
  }
}
