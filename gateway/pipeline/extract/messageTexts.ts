import type { ScanText, TextSource } from '../../../guards/types';
import type { RequestFields } from '../../../policies/schema';
import { ApiError } from '../../errors';
import { controlTokenError } from './controlTokens';
import { ChatMessage, type ContentPart } from '../requestSchemas';
import { isTypeName, stringLeaves, unknownMemberName } from './stringLeaves';
import { readableArguments } from './toolArguments';

/**
 * Every text of every message, whatever its role: content (a string or parts of any text-bearing
 * kind), `name`, tool calls (names, arguments, ids), legacy `function_call`, `refusal`, reasoning,
 * and any member the gateway does not know (its name and all its strings). Only `role` and parts' `type` are
 * structure. Media parts (images, audio, files) carry nothing the guards can read: refused unless
 * the policy allows them.
 */

/** Part types that carry media rather than text. */
export const MEDIA_PART_TYPES: ReadonlySet<string> = new Set([
  'image_url',
  'image',
  'input_image',
  'image_embeds',
  'image_pil',
  'input_audio',
  'audio',
  'audio_url',
  'video',
  'video_url',
  'input_video',
  'file',
  'input_file',
]);

/**
 * Part types that carry embeddings (vLLM's `prompt_embeds`, `image_embeds`, `audio_embeds`,
 * `video_embeds`): vectors that can stand for any text, which no guard reads. Refused whatever
 * `media_parts` says, as the top-level `prompt_embeds` is.
 */
const EMBEDDING_PART = /embed/i;

/** Part types whose strings are text the engine reads. Other types count as text when they carry a string `text`. */
export const TEXT_PART_TYPES: ReadonlySet<string> = new Set(['text', 'input_text', 'output_text', 'refusal', 'document', 'input_document']);

/** Message members handled by name below; every other member is scanned whole. */
const STRUCTURE = new Set(['role']);
/** The members the API documents on a message: any other member's name is scanned too. */
const MESSAGE_MEMBERS: ReadonlySet<string> = new Set(Object.keys(ChatMessage.shape));

export function sourceOfRole(role: ChatMessage['role']): TextSource {
  switch (role) {
    case 'system':
      return 'system';
    case 'developer':
      return 'developer';
    case 'user':
      return 'user';
    case 'assistant':
      return 'assistant';
    case 'tool':
    case 'function':
      return 'tool';
  }
}

export function messageTexts(message: ChatMessage, i: number, fields: Pick<RequestFields, 'media_parts' | 'control_tokens'>): ScanText[] {
  const source = sourceOfRole(message.role);
  const at = `messages[${i}]`;
  const texts: ScanText[] = [];
  for (const [key, value] of Object.entries(message)) {
    const name = unknownMemberName(key, at, MESSAGE_MEMBERS);
    if (name) texts.push({ source, ...name });
    if (STRUCTURE.has(key) || value === undefined || value === null) continue;
    if (key === 'content') texts.push(...contentTexts(message.content, source, `${at}.content`, fields));
    else if (key === 'tool_calls' || key === 'function_call') texts.push(...leavesAs('tool_call', value, `${at}.${key}`).map(decodedArguments));
    else texts.push(...leavesAs(source, value, `${at}.${key}`));
  }
  return texts;
}

export function contentTexts(content: ChatMessage['content'], source: TextSource, at: string, fields: Pick<RequestFields, 'media_parts' | 'control_tokens'>): ScanText[] {
  if (typeof content === 'string') return [{ source, path: at, text: content }];
  if (!Array.isArray(content)) return [];
  return content.flatMap((part, j) => partTexts(part, source, `${at}[${j}]`, fields));
}

function partTexts(part: ContentPart, source: TextSource, at: string, fields: Pick<RequestFields, 'media_parts' | 'control_tokens'>): ScanText[] {
  if (EMBEDDING_PART.test(part.type)) {
    throw new ApiError(400, `Content parts of type \`${part.type.slice(0, 40)}\` are not accepted: embeddings can stand for any text, and no guard can read them.`, 'invalid_request_error', 'unsupported_content', at);
  }
  if (MEDIA_PART_TYPES.has(part.type)) {
    if (fields.media_parts === 'allow') {
      // No guard reads a media part, but some engines render its URL into a text-only prompt (TGI:
      // `![](url)`), where a control token still ends the turn: refused there too.
      const forged = fields.control_tokens === 'refuse' ? controlTokenError(leavesAs(source, part, at)) : undefined;
      if (forged) throw forged;
      return [];
    }
    throw new ApiError(400, `Content parts of type \`${part.type}\` are not accepted: the gateway's guards read text only.`, 'invalid_request_error', 'unsupported_content', at);
  }
  if (!TEXT_PART_TYPES.has(part.type) && typeof part.text !== 'string') {
    throw new ApiError(400, `Content parts of type \`${part.type.slice(0, 40)}\` are not known to the gateway, so it cannot check them.`, 'invalid_request_error', 'unsupported_content', at);
  }
  const partSource = /document/.test(part.type) ? 'document' : source;
  // A plain text part keeps the short path `...content[j]`; other members get their own.
  const { type, text, ...rest } = part;
  const texts: ScanText[] = typeof text === 'string' ? [{ source: partSource, path: at, text }] : [];
  // A kind the gateway does not know is a word the engine may read too.
  if (!TEXT_PART_TYPES.has(type)) texts.push({ source: partSource, path: `${at}.type`, text: type });
  return [...texts, ...leavesAs(partSource, rest, at)];
}

/** A call's `arguments` as the engine reads them (toolArguments.ts). */
function decodedArguments(t: ScanText): ScanText {
  return t.path.endsWith('.arguments') ? { ...t, text: readableArguments(t.text) } : t;
}

function leavesAs(source: TextSource, value: unknown, at: string): ScanText[] {
  return stringLeaves(value, at, { keys: true, skipValue: isTypeName, skipKeys: API_KEYS }).map((l) => ({ source, path: l.path, text: l.text }));
}

/** Member names of the API itself: listing them as texts would only add noise. */
const API_KEYS: ReadonlySet<string> = new Set(['type', 'id', 'function', 'name', 'arguments', 'text', 'index']);
