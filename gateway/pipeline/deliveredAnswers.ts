import { createHash } from 'node:crypto';
import type { ScanText } from '../../guards/types';
import { isJoinedText, isShortPiece } from './extract/joinedTexts';
import { CHAT_FIELDS, RESPONSES_FIELDS } from './extract/requestFields';

/**
 * Answers this gateway delivered, remembered by hash (never their text) so that a client resending
 * one as an earlier assistant turn is not read as a forgery by Prompt Guard's jailbreak score. That
 * score reads what a person wrote; on an engine's answers it misfires (2.4% of benign test answers
 * of benign-chat and CoCoNot score over the default threshold), and one such answer in a chat's
 * history refused every later turn of it. Only the jailbreak-score rules leave a recognized turn
 * out (runRules.ts): injection-score and findings rules read it, and so does the content guard,
 * with the whole conversation.
 *
 * Remembered only when nothing in the request could dictate the answer's words (clientDictatesAnswer),
 * every rule let the request through with no error or block (shadow blocks included; a flag only from a rule that still reads delivered answers), output rules ran, and the record
 * is durable (guardedCall.ts). Keyed by app and policy version, so one app's answers, or a laxer
 * policy's, are never another's; the bound is shared, the scope holding the most giving way first. Only answers longer than a short piece
 * (joinedTexts.ts): short pieces are also scanned joined, and recognizing them would let a payload
 * be assembled from remembered fragments.
 *
 * What it gives up: text a client got the engine to write in its own words (translated, decoded, past
 * the input rules) and the output rules passed is not read by the jailbreak score again when resent.
 * `guards.delivered_answers: 0` turns this off. Bounded, least recently used forgotten first, one
 * gateway process: a replica that did not deliver an answer reads it as before.
 */
export class DeliveredAnswers {
  /** Per scope, its answers' hashes, least recently used first. */
  private readonly scopes = new Map<string, Map<string, true>>();
  private total = 0;

  constructor(readonly maxEntries = 100_000) {}

  remember(scope: string, text: string): void {
    if (this.maxEntries <= 0 || !recognizable(text)) return;
    const key = digest(scope, text);
    let held = this.scopes.get(scope);
    if (!held) this.scopes.set(scope, (held = new Map()));
    if (!held.delete(key)) this.total++;
    held.set(key, true);
    if (this.total > this.maxEntries) this.evict();
  }

  /** Whether the answer was delivered in this scope; a hit counts as a use (the chat is still going). */
  recognizes(scope: string, text: string): boolean {
    if (!recognizable(text)) return false;
    const held = this.scopes.get(scope);
    const key = digest(scope, text);
    if (!held?.delete(key)) return false;
    held.set(key, true);
    return true;
  }

  get size(): number {
    return this.total;
  }

  /**
   * Over the bound: the least recently used answer of the scope holding the most goes, so one app's
   * traffic forgets its own answers first (one shared LRU let another app's ordinary traffic wipe
   * an app's answers, whose resent turns the jailbreak score then misread).
   */
  private evict(): void {
    let largest: Map<string, true> | undefined;
    let largestScope: string | undefined;
    for (const [scope, held] of this.scopes) {
      if (!largest || held.size > largest.size) [largest, largestScope] = [held, scope];
    }
    if (!largest || largestScope === undefined) return;
    largest.delete(largest.keys().next().value as string);
    this.total--;
    if (largest.size === 0) this.scopes.delete(largestScope);
  }
}

/**
 * Whether a rule leaves a delivered answer out when it comes back (policies/deliveredAnswerRules.ts).
 * A flag from a rule that leaves it out also keeps the answer from being remembered
 * (guardedCall.ts): that rule flagged what made the answer and would otherwise never read the
 * answer itself. (A content-guard rule reads the whole conversation either way; its flags keep
 * answers out too, erring on the safe side.)
 */
export { skipsDeliveredAnswers } from '../../policies/deliveredAnswerRules';

/** The scope answers are remembered and recognized in: the app and its policy version (a new version starts afresh). */
export function answerScope(app: string, policy: { id: string; version: string }): string {
  return `${app}\u0000${policy.id}@${policy.version}`;
}

function recognizable(text: string): boolean {
  return text.trim() !== '' && !isShortPiece(text);
}

/** UTF-16 characters hashed per step: long answers are hashed in slices, never copied whole. */
const HASH_SLICE_CHARS = 256 * 1024;

function digest(scope: string, text: string): string {
  // UTF-16 code units as they are: two strings that differ only in lone surrogates hash apart.
  const hash = createHash('sha256').update(Buffer.from(scope, 'utf16le')).update(Buffer.from([0, 0, 0, 0]));
  for (let from = 0; from < text.length; from += HASH_SLICE_CHARS) hash.update(Buffer.from(text.slice(from, from + HASH_SLICE_CHARS), 'utf16le'));
  return hash.digest('base64');
}

/**
 * The request's texts with the earlier assistant turns this gateway delivered marked `delivered`
 * (`recognized`: their paths, for the record). Nothing is removed; joined runs are left as they are.
 */
export function markDeliveredAnswers(texts: readonly ScanText[], answers: DeliveredAnswers, scope: string): { texts: ScanText[]; recognized: string[] } {
  const recognized: string[] = [];
  if (answers.size === 0) return { texts: [...texts], recognized };
  const marked = texts.map((t) => {
    if (t.source !== 'assistant' || isJoinedText(t) || !answers.recognizes(scope, t.text)) return t;
    recognized.push(t.path);
    return { ...t, delivered: true };
  });
  return { texts: marked, recognized };
}

/**
 * The fields of each route whose answers may be remembered; anything else reached the body through
 * an operator's `request_fields.allow`. /v1/completions is not among them: a raw prompt steers the
 * engine into repeating text word for word, and no chat resends its answers.
 */
const KNOWN_FIELDS: Readonly<Record<string, ReadonlySet<string>>> = {
  '/v1/chat/completions': new Set(Object.keys(CHAT_FIELDS)),
  '/v1/responses': new Set(Object.keys(RESPONSES_FIELDS)),
};

const isEmpty = (value: unknown): boolean =>
  value === undefined || value === null || value === false || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && Object.keys(value as object).length === 0);

/** A tool call whose arguments must follow the client's schema: a named or required choice, or a strict tool. */
function forcesToolCall(body: Record<string, unknown>): boolean {
  const choice = body.tool_choice;
  if (choice === 'required' || (typeof choice === 'object' && !isEmpty(choice)) || (typeof body.function_call === 'object' && !isEmpty(body.function_call))) return true;
  const tools = [...(Array.isArray(body.tools) ? body.tools : []), ...(Array.isArray(body.functions) ? body.functions : [])] as { strict?: unknown; function?: { strict?: unknown } }[];
  return tools.some((t) => t?.strict === true || t?.function?.strict === true);
}

/**
 * Whether the request could dictate the answer's words: an output schema or format other than
 * text, a logit bias, echo, a forced or strict tool call (its arguments follow the client's schema,
 * and an engine whose tool parser does not pick them out leaves them in the content), a field the
 * route does not know, or a route whose answers are never remembered (KNOWN_FIELDS).
 */
export function clientDictatesAnswer(route: string, body: Record<string, unknown>): boolean {
  const known = KNOWN_FIELDS[route];
  if (!known) return true;
  for (const [key, value] of Object.entries(body)) {
    if (isEmpty(value)) continue;
    if (!known.has(key) || key === 'logit_bias' || key === 'echo') return true;
  }
  if (forcesToolCall(body)) return true;
  const formats = [body.response_format, (body.text as { format?: unknown } | null | undefined)?.format];
  return formats.some((f) => !isEmpty(f) && (f as { type?: unknown }).type !== 'text');
}
