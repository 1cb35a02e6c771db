import type { AnswerMessage, ChatChoice, ChatChunkChoice, TextChoice } from '../../../engine/answerSchema';
import { bookkeepingLanes, ID_LANE, type AnswerContext } from './bookkeeping';
import { lanePath, pathKey, stringLeaves } from './stringLeaves';

/**
 * Every text a client receives with one choice of an engine answer (a whole choice, or one stream
 * chunk's piece of it), by lane: `content`, `reasoning_content`, `refusal`,
 * `tool_calls[i].function.arguments`, logprob tokens, ... A lane is one text across the chunks of
 * a stream (array indexes dropped from member paths, tool calls keyed by their `index`). Members
 * the gateway does not know are lanes too (all their strings), so nothing reaches the client
 * unchecked; only the structure members below are not text.
 */
export interface LanePiece {
  lane: string;
  text: string;
}

/** Members the schemas know, by where they sit: a null one is simply absent; any other name is text. */
const CHOICE_MEMBERS: ReadonlySet<string> = new Set(['message', 'delta', 'logprobs', 'stop_reason']);
const TEXT_CHOICE_MEMBERS: ReadonlySet<string> = new Set(['text', 'logprobs', 'stop_reason']);
const MESSAGE_MEMBERS: ReadonlySet<string> = new Set(['content', 'tool_calls', 'refusal', 'reasoning_content', 'reasoning', 'function_call']);
const TEXT_LOGPROB_MEMBERS: ReadonlySet<string> = new Set(['tokens', 'token_logprobs', 'top_logprobs', 'text_offset']);

/** The lane of a member's name: a client that renders the JSON shows it. */
function memberNameLane(lane: string, name = lane): LanePiece {
  return { lane: `${lane}#key`, text: name };
}

/** Choice members that are structure or bookkeeping, not text a reader sees (finish_reason: see VOCABULARY). */
const CHOICE_STRUCTURE = new Set(['index']);

/**
 * Bookkeeping with a closed vocabulary: the values engines send (OpenAI's, vLLM's, TGI's, Ollama's)
 * are structure; any other value is read as text. The schema already refuses one that is not an
 * identifier (a space), but `you-are-worthless` is one.
 */
const VOCABULARY = {
  finish_reason: new Set(['stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'eos_token', 'stop_sequence', 'abort', 'error']),
  role: new Set(['assistant', 'tool', 'user', 'system', 'developer', 'function']),
  'content[].type': new Set(['text', 'output_text', 'refusal', 'reasoning', 'reasoning_text', 'thinking']),
  'tool_calls[].type': new Set(['function', 'custom']),
} as const;

/** The lane of a vocabulary member whose value is not in it (nothing for a known value, null or absent). */
function vocabularyLane(member: keyof typeof VOCABULARY, value: unknown, lane: string = member): LanePiece[] {
  return typeof value === 'string' && !VOCABULARY[member].has(value) ? [{ lane, text: value }] : [];
}
/** Message / delta members the schema knows, each a lane of text. */
const MESSAGE_TEXT = new Set(['refusal', 'reasoning_content', 'reasoning', 'function_call']);

/**
 * `primary`: the member that carries this kind's answer (`message` in a whole choice, `delta` in a
 * chunk). The other one, when an engine sends it too, is read into lanes of its own: in one lane
 * with the primary's text, a stream's chunks would interleave the two and split a phrase of either.
 */
export function chatChoiceLanes(choice: ChatChoice | ChatChunkChoice, primary: 'message' | 'delta'): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const [key, value] of Object.entries(choice)) {
    if (CHOICE_STRUCTURE.has(key)) continue;
    if (key === 'finish_reason') {
      pieces.push(...vocabularyLane('finish_reason', value));
      continue;
    }
    if (value == null) {
      // A member the gateway does not know is text by its name alone, whatever its value.
      if (!CHOICE_MEMBERS.has(key)) pieces.push(memberNameLane(key));
      continue;
    }
    if (key === primary) pieces.push(...messageLanes(value as AnswerMessage, primary === 'delta'));
    else if (key === 'message' || key === 'delta') {
      const own = messageLanes(value as AnswerMessage);
      for (const piece of own) pieces.push({ lane: `${key}.${piece.lane}`, text: piece.text });
      // A `message` in a stream chunk is also read in the deltas' own lanes, where it arrived: the
      // openai client copies it over the message it builds and appends later deltas to it.
      if (primary === 'delta') pieces.push(...own);
    }
    else if (key === 'logprobs') pieces.push(...chatLogprobLanes(value as NonNullable<ChatChoice['logprobs']>));
    else pieces.push(...unknownMember(key, value));
  }
  return pieces;
}

export function textChoiceLanes(choice: TextChoice): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const [key, value] of Object.entries(choice)) {
    if (CHOICE_STRUCTURE.has(key)) continue;
    if (key === 'finish_reason') {
      pieces.push(...vocabularyLane('finish_reason', value));
      continue;
    }
    if (value == null) {
      if (!TEXT_CHOICE_MEMBERS.has(key)) pieces.push(memberNameLane(key));
      continue;
    }
    if (key === 'text') pieces.push({ lane: 'content', text: value as string });
    else if (key === 'logprobs') pieces.push(...textLogprobLanes(value as NonNullable<TextChoice['logprobs']>));
    else pieces.push(...unknownMember(key, value));
  }
  return pieces;
}

/** Where a streamed tool-call piece without an `index` also goes: the openai SDKs file every such piece under one key (`undefined`) and join them. */
export const INDEXLESS_CALL = 'tool_calls[-]';

function messageLanes(message: AnswerMessage, streamed = false): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const [key, value] of Object.entries(message)) {
    if (key === 'role') {
      pieces.push(...vocabularyLane('role', value));
      continue;
    }
    if (value == null) {
      if (!MESSAGE_MEMBERS.has(key)) pieces.push(memberNameLane(key));
      continue;
    }
    if (key === 'content') {
      if (typeof value === 'string') pieces.push({ lane: 'content', text: value });
      // Parts: their text is the content; their other strings are lanes of their own.
      else for (const part of value as { type: string; text?: string }[]) {
        const { type, text, ...rest } = part;
        pieces.push(...vocabularyLane('content[].type', type));
        if (typeof text === 'string') pieces.push({ lane: 'content', text });
        pieces.push(...unknownLanes(rest, 'content[]'));
      }
    } else if (key === 'tool_calls') {
      (value as NonNullable<AnswerMessage['tool_calls']>).forEach((call, position) => {
        const { index, type, id, ...rest } = call;
        // Streams key a call's fragments by `index`; whole answers by position. A streamed piece
        // without one (older Ollama and SGLang sent them) is read both ways: by its position, and
        // joined with every other such piece, as the openai SDKs join them (a stream that mixes
        // pieces with and without an index is refused: answerAccumulator.ts).
        const places = index !== undefined ? [`tool_calls[${index}]`] : streamed ? [`tool_calls[${position}]`, INDEXLESS_CALL] : [`tool_calls[${position}]`];
        for (const at of places) {
          pieces.push(...vocabularyLane('tool_calls[].type', type, `${at}.type`));
          // Judged joined and piece by piece, as clients keep a streamed id (answer.ts, ID_LANE); each
          // index-less piece's id is read by its position (joined, two calls' ids would read as words).
          if (typeof id === 'string') {
            if (at !== INDEXLESS_CALL) pieces.push({ lane: `${at}.id${ID_LANE}`, text: id });
          }
          else if (id != null) pieces.push(...unknownLanes({ id }, at));
          pieces.push(...unknownLanes(rest, at));
        }
      });
    } else if (MESSAGE_TEXT.has(key)) pieces.push(...unknownLanes(value, key));
    else pieces.push(...unknownMember(key, value));
  }
  return pieces;
}

function chatLogprobLanes(logprobs: NonNullable<ChatChoice['logprobs']>): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const [key, value] of Object.entries(logprobs)) {
    const known = key === 'content' || key === 'refusal';
    if (!known) pieces.push(memberNameLane(`logprobs.${key}`, key));
    if (value == null) continue;
    if (known && Array.isArray(value)) {
      pieces.push(...tokenLanes(value as { token: string; bytes?: number[] | null; top_logprobs?: { token: string; bytes?: number[] | null }[] | null }[], `logprobs.${key}`));
    } else pieces.push(...unknownLanes(value, known ? `logprobs.${key}` : unknownAt('logprobs', key)));
  }
  return pieces;
}

/**
 * The chosen tokens as one text, their bytes as one (every entry's, each byte as one character:
 * answer.ts decodes the lane's joined bytes as UTF-8, so a word or a character spelled across
 * entries is read whole, and drops it where it says what the tokens say), and each rank of
 * alternatives likewise.
 */
function tokenLanes(entries: { token: string; bytes?: number[] | null; top_logprobs?: { token: string; bytes?: number[] | null }[] | null; [k: string]: unknown }[], at: string): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const entry of entries) {
    const { token, bytes, top_logprobs: top, logprob: _logprob, ...rest } = entry;
    pieces.push({ lane: `${at}.token`, text: token }, ...bytesLane(`${at}.bytes`, bytes));
    (top ?? []).forEach((alt, rank) => {
      const { token: altToken, bytes: altRaw, logprob: _altLogprob, ...altRest } = alt as { token: string; bytes?: number[] | null; logprob?: unknown; [k: string]: unknown };
      pieces.push({ lane: `${at}.top_logprobs[${rank}].token`, text: altToken }, ...bytesLane(`${at}.top_logprobs[${rank}].bytes`, altRaw));
      // Anything else an alternative carries is text too (Responses does the same).
      pieces.push(...unknownLanes(altRest, `${at}.top_logprobs[${rank}]`));
    });
    pieces.push(...unknownLanes(rest, `${at}[]`));
  }
  return pieces;
}

function textLogprobLanes(logprobs: NonNullable<TextChoice['logprobs']>): LanePiece[] {
  const pieces: LanePiece[] = [];
  for (const [key, value] of Object.entries(logprobs)) {
    if (!TEXT_LOGPROB_MEMBERS.has(key)) pieces.push(memberNameLane(`logprobs.${key}`, key));
    if (value == null || key === 'token_logprobs' || key === 'text_offset') continue;
    if (key === 'tokens') for (const token of value as string[]) pieces.push({ lane: 'logprobs.tokens', text: token });
    else if (key === 'top_logprobs') {
      // Alternatives are the map's keys; rank by position in the map.
      for (const alternatives of value as (Record<string, number> | null)[]) {
        Object.keys(alternatives ?? {}).forEach((token, rank) => pieces.push({ lane: `logprobs.top_logprobs[${rank}]`, text: token }));
      }
    } else pieces.push(...unknownLanes(value, unknownAt('logprobs', key)));
  }
  return pieces;
}

/**
 * A member the gateway does not model: its name is text the client receives too, and its strings
 * have lanes of their own (`unknown:` and the name as a path writes it), never a known field's:
 * a member named `content` beside the delta would otherwise slip text into the content lane and
 * split a phrase there that the client, which ignores the member, shows whole.
 */
function unknownMember(key: string, value: unknown): LanePiece[] {
  return [{ lane: `${key}#key`, text: key }, ...unknownLanes(value, unknownAt('', key))];
}

/** The lane of a member the gateway does not model, under `at`: `unknown:` first, its name quoted when it holds a path's own characters. */
function unknownAt(at: string, key: string): string {
  return `unknown:${at}${at ? pathKey(key) : pathKey(key).replace(/^\./, '')}`;
}

export function unknownLanes(value: unknown, at: string): LanePiece[] {
  return stringLeaves(value, '', { keys: true, skipKeys: API_MEMBERS }).map((leaf) => ({ lane: joinPath(at, lanePath(leaf.path)), text: leaf.text }));
}

/** Member names of the API itself: not words anyone reads (their values are). */
const API_MEMBERS: ReadonlySet<string> = new Set(['id', 'type', 'function', 'name', 'arguments', 'text', 'token', 'bytes', 'logprob', 'top_logprobs', 'content', 'index']);

function joinPath(at: string, rel: string): string {
  if (!rel) return at;
  return rel.startsWith('[') || !at ? `${at}${rel}` : `${at}.${rel}`;
}

/** A token's bytes as a piece of its bytes lane (one character per byte, BYTES_LANE), or, when they are not bytes, as numbers in a lane of their own. */
function bytesLane(lane: string, bytes: number[] | null | undefined): LanePiece[] {
  if (!bytes || bytes.length === 0) return [];
  if (!bytes.every((b) => Number.isInteger(b) && b >= 0 && b <= 255)) return [{ lane: `${lane}.values`, text: bytes.join(' ') }];
  return [{ lane: `${lane}${BYTES_MARK}`, text: Buffer.from(bytes).toString('latin1') }];
}

/**
 * Lanes whose pieces are bytes, one character each, decoded as UTF-8 once joined: marked by a
 * character no member path holds (paths quote control characters), never by a member's name (an
 * engine's own member named `bytes` holds text, which decoding would garble).
 */
export const BYTES_MARK = '\u0000';

/** Envelope members that are bookkeeping (ids, model name, token counts): read only when not plain (bookkeeping.ts). */
export const ENVELOPE_STRUCTURE: ReadonlySet<string> = new Set(['id', 'object', 'created', 'model', 'system_fingerprint', 'service_tier', 'usage', 'choices']);

/** Strings outside the choices (members the gateway does not know, bookkeeping engines never send): checked with every choice. */
export function envelopeLanes(json: Record<string, unknown>, context: AnswerContext): LanePiece[] {
  const pieces: LanePiece[] = bookkeepingLanes(json, context);
  for (const [key, value] of Object.entries(json)) {
    if (ENVELOPE_STRUCTURE.has(key)) continue;
    if (value == null) pieces.push(memberNameLane(key));
    else pieces.push(...unknownMember(key, value));
  }
  return pieces;
}
