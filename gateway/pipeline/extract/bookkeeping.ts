import { randomBytes } from 'node:crypto';
import { pathKey } from './stringLeaves';

/**
 * An answer's bookkeeping (`id`, `object`, `model`, `system_fingerprint`, `service_tier`, the names
 * in `usage`): the schema holds each to an identifier (no spaces), but `you-are-worthless` is one,
 * and a client that shows the JSON shows it. Values engines send are relayed unread; any other is
 * read as text (a lane of its own), and what the gateway writes itself after a block (a refusal, a
 * usage chunk) carries only such values, so a blocked one is never repeated.
 */

/** What the gateway knows of the request an answer is for. */
export interface AnswerContext {
  /** The model the request named: an answer naming it says nothing new. */
  model?: string;
}

const OBJECTS: ReadonlySet<string> = new Set(['chat.completion', 'chat.completion.chunk', 'text_completion']);
const SERVICE_TIERS: ReadonlySet<string> = new Set(['auto', 'default', 'flex', 'scale', 'priority', 'standard', 'on_demand']);

/**
 * Pure: an id as engines make them (`chatcmpl-B9MBs8Cjcv...`, `fp_44709d6fcb`, `cmpl-<uuid>`,
 * vLLM's `chatcmpl-<request id>`, `req_...`): at most two words in it. A word is a piece between
 * punctuation of three or more letters where letters are at least three quarters of it (so
 * `y0urself` is one, a hex group is not), and a piece without digits counts each of its camelCase
 * words (`YouAreWorthless` is three). `you-are-worthless` is text; two words pass (a bound, not a
 * proof: the schema already refuses spaces).
 */
export function opaqueId(value: string): boolean {
  let words = 0;
  for (const piece of value.split(/[-_.:/@+]+/)) {
    const camel = /\d/.test(piece) ? [piece] : piece.split(/(?<=[a-z])(?=[A-Z])/);
    for (const part of camel) {
      const letters = (part.match(/[A-Za-z]/g) ?? []).length;
      if (letters >= 3 && letters * 4 >= part.length * 3) words += 1;
    }
  }
  return words <= 2;
}

/** Token-count names of OpenAI's, vLLM's, TGI's and Ollama's usage blocks. */
const USAGE_NAMES: ReadonlySet<string> = new Set([
  'prompt_tokens',
  'completion_tokens',
  'total_tokens',
  'prompt_tokens_details',
  'completion_tokens_details',
  'cached_tokens',
  'reasoning_tokens',
  'audio_tokens',
  'accepted_prediction_tokens',
  'rejected_prediction_tokens',
  'input_tokens',
  'output_tokens',
  'input_tokens_details',
  'output_tokens_details',
  'num_cached_tokens',
  // Groq, DeepSeek, OpenRouter, vLLM extensions.
  'queue_time',
  'prompt_time',
  'completion_time',
  'total_time',
  'prompt_cache_hit_tokens',
  'prompt_cache_miss_tokens',
  'cost',
  'input_tokens_per_turn',
]);

/** Pure: is this bookkeeping value one engines send (relayed unread)? Absent and empty values are. */
export function plainBookkeeping(member: 'id' | 'object' | 'model' | 'system_fingerprint' | 'service_tier', value: unknown, context: AnswerContext): boolean {
  if (value == null || value === '') return true;
  if (typeof value !== 'string') return false;
  switch (member) {
    case 'object':
      return OBJECTS.has(value);
    case 'service_tier':
      return SERVICE_TIERS.has(value);
    case 'model':
      return value === context.model;
    default:
      return opaqueId(value);
  }
}

const MEMBERS = ['id', 'object', 'model', 'system_fingerprint', 'service_tier'] as const;

/** The lane prefix of bookkeeping read as text: a value restated by every chunk is read once per change (answerFromPieces). */
export const BOOKKEEPING_LANE = 'bookkeeping:';

/** Words engines put in front of the random part of an item's or a call's id. */
const ID_PREFIXES: ReadonlySet<string> = new Set(['msg', 'call', 'fc', 'rs', 'ctc', 'chatcmpl', 'cmpl', 'tool', 'toolu', 'resp', 'item', 'func', 'function', 'reasoning', 'message']);

/**
 * Whether an item's or a call's id is random characters only: identifier characters, and no piece
 * (between `-_.:`) that reads as a word (3+ letters, three quarters of it letters) but the prefixes
 * engines use (`msg_67cc...`, `call_abc123`, `chatcmpl-tool-<hex>`, a uuid). Stricter than the
 * answer's own id (opaqueId: up to two words), whose schema already holds it to identifier
 * characters: these members take any string, and apps show them (the Agents SDK's call ids).
 */
export function randomId(value: string): boolean {
  if (!/^[A-Za-z0-9_.:-]{1,256}$/.test(value)) return false;
  const pieces = value.split(/[-_.:]+/).filter((piece) => piece !== '' && !ID_PREFIXES.has(piece.toLowerCase()));
  // Hex (a uuid's groups, `msg_67cc...`) is random whatever letters it happens to hold; each piece,
  // and the pieces run together (`ki-ll-yo-ur-se-lf` is one word split up), must not read as a word.
  const wordLike = (piece: string) => {
    if (/^(?:[0-9a-f]+|[0-9A-F]+)$/.test(piece)) return false;
    const letters = (piece.match(/[A-Za-z]/g) ?? []).length;
    return letters >= 3 && letters * 4 >= piece.length * 3;
  };
  return !pieces.some(wordLike) && !(pieces.length > 1 && wordLike(pieces.join('')));
}

/** The lane of a chat tool call's id: its streamed pieces are judged joined (answer.ts), as clients join them. */
export const ID_LANE = '#id';

/**
 * An id an engine gives an item or a tool call: a random one is not read (read with the answer, a
 * long one diluted a harmful answer's score under the threshold: 0.94 -> 0.14 for an OpenAI-style
 * item id); any other is bookkeeping, read on its own, never joined to the answer. `slot`: where it
 * goes, under BOOKKEEPING_LANE.
 */
export function idPieces(value: string, slot: string): { slot: string; text: string }[] {
  return randomId(value) ? [] : [{ slot: `${BOOKKEEPING_LANE}${slot}`, text: value }];
}

/** Pure: the bookkeeping of an answer or chunk that is not plain, as lanes of text. */
export function bookkeepingLanes(json: Record<string, unknown>, context: AnswerContext): { lane: string; text: string }[] {
  const pieces: { lane: string; text: string }[] = [];
  for (const member of MEMBERS) {
    if (!plainBookkeeping(member, json[member], context)) pieces.push({ lane: `${BOOKKEEPING_LANE}${member}`, text: String(json[member]) });
  }
  for (const name of unknownUsageNames(json.usage)) pieces.push({ lane: `${BOOKKEEPING_LANE}usage${pathKey(name)}#key`, text: name });
  return pieces;
}

function unknownUsageNames(usage: unknown, out: string[] = []): string[] {
  if (!usage || typeof usage !== 'object' || Array.isArray(usage)) return out;
  for (const [name, value] of Object.entries(usage)) {
    if (!USAGE_NAMES.has(name)) out.push(name);
    unknownUsageNames(value, out);
  }
  return out;
}

/** An id of the gateway's own, for a chunk or answer it writes in place of one that was read as text. */
export function gatewayId(object: string): string {
  return `${object === 'text_completion' ? 'cmpl' : 'chatcmpl'}-${randomBytes(12).toString('hex')}`;
}

/**
 * Pure: the bookkeeping the gateway writes itself (a refusal after a block, a usage chunk, a
 * blocked whole answer), with every value that is not plain replaced: the model by the request's,
 * the object by the route's, an id by one of the gateway's; a fingerprint, a tier or a usage name
 * that is not plain is left out. `json` is changed in place and returned.
 */
export function plainEnvelope<T extends Record<string, unknown>>(json: T, context: AnswerContext, object: string): T {
  const out = json as Record<string, unknown>;
  if (!plainBookkeeping('id', out.id, context)) out.id = gatewayId(object);
  if (!plainBookkeeping('object', out.object, context)) out.object = object;
  if (!plainBookkeeping('model', out.model, context)) out.model = context.model ?? '';
  for (const member of ['system_fingerprint', 'service_tier'] as const) if (!plainBookkeeping(member, out[member], context)) delete out[member];
  if (out.usage && typeof out.usage === 'object') out.usage = knownUsage(out.usage as Record<string, unknown>);
  return json;
}

/** The usage block without names engines never send; the same object when it has none (so a chunk is still relayed as sent). */
function knownUsage(usage: Record<string, unknown>): Record<string, unknown> {
  if (unknownUsageNames(usage).length === 0) return usage;
  const kept: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(usage)) {
    if (!USAGE_NAMES.has(name)) continue;
    kept[name] = value && typeof value === 'object' && !Array.isArray(value) ? knownUsage(value as Record<string, unknown>) : value;
  }
  return kept;
}

const RESPONSE_STATUSES: ReadonlySet<string> = new Set(['completed', 'in_progress', 'incomplete', 'failed', 'queued', 'cancelled']);
const ITEM_STATUSES: ReadonlySet<string> = new Set(['completed', 'in_progress', 'incomplete', 'searching', 'generating', 'interpreting', 'failed']);
const INCOMPLETE_REASONS: ReadonlySet<string> = new Set(['max_output_tokens', 'content_filter']);

/** Pure: a Responses answer's bookkeeping engines never send, by slot (its place in the response): read as text. */
export function responseBookkeeping(response: Readonly<Record<string, unknown>>, context: AnswerContext): { slot: string; text: string }[] {
  const out: { slot: string; text: string }[] = [];
  const unplain = (slot: string, value: unknown, plain: (v: string) => boolean) => {
    if (value != null && value !== '' && !(typeof value === 'string' && plain(value))) out.push({ slot, text: String(value) });
  };
  // Slots under BOOKKEEPING_LANE: checked apart from the answer (answer.ts), never diluting it.
  unplain(`${BOOKKEEPING_LANE}response.id`, response.id, opaqueId);
  unplain(`${BOOKKEEPING_LANE}response.object`, response.object, (v) => v === 'response');
  unplain(`${BOOKKEEPING_LANE}response.status`, response.status, (v) => RESPONSE_STATUSES.has(v));
  unplain(`${BOOKKEEPING_LANE}response.model`, response.model, (v) => v === context.model);
  const details = response.incomplete_details;
  if (details && typeof details === 'object') unplain(`${BOOKKEEPING_LANE}response.incomplete_details.reason`, (details as { reason?: unknown }).reason, (v) => INCOMPLETE_REASONS.has(v));
  for (const name of unknownUsageNames(response.usage)) out.push({ slot: `${BOOKKEEPING_LANE}response.usage${pathKey(name)}#key`, text: name });
  return out;
}

/** Pure: an output item's status and role, where engines never send them: read as text. */
export function itemBookkeeping(item: Readonly<Record<string, unknown>>, at: string): { slot: string; text: string }[] {
  const out: { slot: string; text: string }[] = [];
  if (item.status != null && !(typeof item.status === 'string' && ITEM_STATUSES.has(item.status))) out.push({ slot: `${BOOKKEEPING_LANE}${at}.status`, text: String(item.status) });
  if (item.role != null && item.role !== 'assistant') out.push({ slot: `${BOOKKEEPING_LANE}${at}.role`, text: String(item.role) });
  return out;
}

/** Pure: a Responses envelope the gateway writes itself after a block, its bookkeeping plain (as plainEnvelope). */
export function plainResponseEnvelope(out: Record<string, unknown>, context: AnswerContext): Record<string, unknown> {
  if (typeof out.id === 'string' && !opaqueId(out.id)) out.id = `resp_${randomBytes(16).toString('hex')}`;
  if (typeof out.status === 'string' && !RESPONSE_STATUSES.has(out.status)) out.status = 'in_progress';
  const reason = (out.incomplete_details as { reason?: unknown } | null | undefined)?.reason;
  if (reason != null && !(typeof reason === 'string' && INCOMPLETE_REASONS.has(reason))) out.incomplete_details = null;
  if (out.object !== undefined && out.object !== 'response') out.object = 'response';
  if (out.model !== undefined && out.model !== context.model) out.model = context.model ?? null;
  if (out.usage && typeof out.usage === 'object') out.usage = knownUsage(out.usage as Record<string, unknown>);
  return out;
}
