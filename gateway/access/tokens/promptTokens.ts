import { CHAT_FIELDS, COMPLETION_FIELDS, type FieldClass, RESPONSES_FIELDS } from '../../pipeline/extract/requestFields';
import { countTokens } from './llama3Tokens';

/**
 * Prompt size of a completion request in Llama 3 tokens, as the engine will see it: every text the
 * engine turns into tokens (message contents, text parts, names, tool calls, tool definitions)
 * plus the Llama 3.1 chat template's own tokens. Reads any JSON: it runs before the body is
 * validated, so it counts only the strings it finds where they belong.
 */

/** `<|begin_of_text|>`, the default system header vLLM's template adds (knowledge/today dates), and the assistant header the answer starts from. */
const CHAT_FIXED_TOKENS = 1 + 26 + 4;
/** `<|start_header_id|>`, `<|end_header_id|>`, `\n\n` and `<|eot_id|>` around each message (the role is counted as text). */
const PER_MESSAGE_TOKENS = 4;

export interface PromptShape {
  /** Texts to count, in order. */
  texts: string[];
  /** Template tokens added around them. */
  fixedTokens: number;
  /** Answers the engine generates (n for chat, prompts x n for completions). */
  answers: number;
  /** Each text is a sequence of its own (completions with several prompts), rather than parts of one conversation. */
  separateSequences: boolean;
  maxTokens?: number;
  model?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const posInt = (v: unknown): number | undefined => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined);

export function chatPromptShape(body: Record<string, unknown>): PromptShape {
  const texts: string[] = [];
  const messages = Array.isArray(body.messages) ? body.messages : [];
  for (const m of messages as Record<string, unknown>[]) {
    if (!m || typeof m !== 'object') continue;
    const role = str(m.role);
    if (role) texts.push(role);
    const name = str(m.name);
    if (name) texts.push(name);
    texts.push(...contentStrings(m.content));
    if (Array.isArray(m.tool_calls)) {
      for (const call of m.tool_calls as { function?: { name?: unknown; arguments?: unknown } }[]) {
        const fn = call?.function;
        if (typeof fn?.name === 'string') texts.push(fn.name);
        if (typeof fn?.arguments === 'string') texts.push(fn.arguments);
      }
    }
    // The legacy function call and an assistant turn's reasoning and refusal are read back too.
    const legacy = m.function_call as { name?: unknown; arguments?: unknown } | undefined;
    for (const value of [legacy?.name, legacy?.arguments, m.reasoning_content, m.reasoning, m.refusal]) if (typeof value === 'string') texts.push(value);
  }
  // Tool definitions go into the prompt as JSON (Llama 3.1's tool-calling template); so do the
  // legacy functions, a structured-output schema and vLLM's documents.
  for (const key of ['tools', 'functions', 'documents'] as const) {
    const value = body[key];
    if (Array.isArray(value) && value.length > 0) texts.push(JSON.stringify(value));
  }
  texts.push(...definition(body.response_format));
  for (const m of messages as Record<string, unknown>[]) if (m && typeof m === 'object') texts.push(...membersNotCounted(m, CHAT_MESSAGE_COUNTED));
  texts.push(...parametersNotCounted(body, CHAT_FIELDS, CHAT_TOP_COUNTED));
  return {
    texts,
    fixedTokens: CHAT_FIXED_TOKENS + PER_MESSAGE_TOKENS * messages.length,
    answers: sequences(body),
    separateSequences: false,
    maxTokens: posInt(body.max_completion_tokens) ?? posInt(body.max_tokens),
    model: str(body.model),
  };
}

/** Sequences the engine generates per prompt: `n`, or vLLM's `best_of` when larger (it generates them all, returns n). */
function sequences(body: Record<string, unknown>): number {
  return Math.max(posInt(body.n) ?? 1, posInt(body.best_of) ?? 1);
}

/** The strings of a content value: a string, or parts' `text` / `refusal` (media parts carry none). */
function contentStrings(content: unknown): string[] {
  if (typeof content === 'string') return [content];
  if (!Array.isArray(content)) return [];
  const out: string[] = [];
  for (const part of content as { text?: unknown; refusal?: unknown }[]) {
    if (typeof part?.text === 'string') out.push(part.text);
    if (typeof part?.refusal === 'string') out.push(part.refusal);
  }
  return out;
}

/**
 * Responses API: the instructions, every input item the engine renders (messages of every role,
 * function and custom tool calls with their arguments, tool outputs, reasoning summaries), the tool
 * definitions and the output format's schema, each item a turn of the chat template. History a
 * `previous_response_id` or `item_reference` stands for is in the body already (the endpoint's
 * resolve step puts it there before the access layer counts).
 */
export function responsesPromptShape(body: Record<string, unknown>): PromptShape {
  const texts: string[] = [];
  const instructions = str(body.instructions);
  if (instructions) texts.push(instructions);
  const items: unknown[] = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : Array.isArray(body.input) ? body.input : [];
  for (const item of items as Record<string, unknown>[]) {
    if (!item || typeof item !== 'object') continue;
    const role = str(item.role);
    if (role) texts.push(role);
    for (const key of ['name', 'arguments', 'input'] as const) {
      const value = str(item[key]);
      if (value) texts.push(value);
    }
    texts.push(...contentStrings(item.content), ...contentStrings(item.output), ...contentStrings(item.summary));
    texts.push(...membersNotCounted(item, RESPONSES_ITEM_COUNTED));
  }
  texts.push(...parametersNotCounted(body, RESPONSES_FIELDS, RESPONSES_TOP_COUNTED));
  if (Array.isArray(body.tools) && body.tools.length > 0) texts.push(JSON.stringify(body.tools));
  // `text`: the output format's schema as the engine renders it, and anything else in it as the guards read it.
  const text = body.text;
  if (text && typeof text === 'object' && !Array.isArray(text)) {
    const { format, ...rest } = text as Record<string, unknown>;
    texts.push(...definition(format), ...membersNotCounted(rest, NOTHING_COUNTED));
  } else texts.push(...definition(text));
  return {
    texts,
    fixedTokens: CHAT_FIXED_TOKENS + PER_MESSAGE_TOKENS * (items.length + (instructions ? 1 : 0)),
    answers: 1,
    separateSequences: false,
    maxTokens: posInt(body.max_output_tokens),
    model: str(body.model),
  };
}

/** `max_tokens` of /v1/completions when the request leaves it out (OpenAI's and vLLM's default). */
export const COMPLETIONS_DEFAULT_MAX_TOKENS = 16;

export function completionPromptShape(body: Record<string, unknown>): PromptShape {
  const prompts = typeof body.prompt === 'string' ? [body.prompt] : Array.isArray(body.prompt) ? body.prompt.filter((p): p is string => typeof p === 'string') : [];
  // The suffix is read with every prompt (fill-in-the-middle).
  const suffix = str(body.suffix);
  return {
    texts: [...(suffix ? prompts.map((p) => `${p}${suffix}`) : prompts), ...parametersNotCounted(body, COMPLETION_FIELDS, COMPLETION_TOP_COUNTED)],
    fixedTokens: prompts.length, // <|begin_of_text|> each
    answers: Math.max(1, prompts.length) * sequences(body),
    separateSequences: true,
    // Absent, the legacy endpoint answers at most 16 tokens (OpenAI's and vLLM's default); an
    // explicit null lifts the cap on vLLM, so only absence means 16.
    maxTokens: posInt(body.max_tokens) ?? (body.max_tokens === undefined ? COMPLETIONS_DEFAULT_MAX_TOKENS : undefined),
    model: str(body.model),
  };
}

/**
 * Strings the counts above leave out but the guards read: members the gateway does not know (read
 * by default, `request_fields.unknown`), other members of content parts and tool calls, ids, and
 * request parameters. Counted so the token budget and the context check pay for every text the
 * guards read: 200 KB in an unknown message member was charged 40 tokens and held both cores for
 * 15-24 s of guard time. An over-count for the engine (its template may not render them), and
 * small for ordinary requests (ids, `stop`, `user`). Media parts are not read by any guard.
 */
function membersNotCounted(value: Record<string, unknown>, counted: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [key, member] of Object.entries(value)) {
    if (counted.has(key)) continue;
    out.push(key);
    stringsIn(member, out);
  }
  // Content parts: a text part's other members; a media part is read by no guard.
  for (const key of ['content', 'output', 'summary'] as const) {
    const parts = counted.has(key) ? value[key] : undefined;
    if (!Array.isArray(parts)) continue;
    for (const part of parts as Record<string, unknown>[]) {
      if (!part || typeof part !== 'object' || MEDIA_PART.test(String(part.type ?? ''))) continue;
      for (const [k, member] of Object.entries(part)) {
        if (PART_COUNTED.has(k)) continue;
        out.push(k);
        stringsIn(member, out);
      }
    }
  }
  // Tool calls: their ids and anything beside the function's name and arguments; so for a legacy function call.
  const beyondCall = (fn: unknown) => {
    if (fn && typeof fn === 'object') for (const [f, v] of Object.entries(fn)) if (f !== 'name' && f !== 'arguments') stringsIn(v, out);
  };
  if (counted.has('tool_calls') && Array.isArray(value.tool_calls)) {
    for (const call of value.tool_calls as Record<string, unknown>[]) {
      if (!call || typeof call !== 'object') continue;
      for (const [k, member] of Object.entries(call)) {
        if (k !== 'function') stringsIn(member, out);
        else beyondCall(member);
      }
    }
  }
  if (counted.has('function_call')) beyondCall(value.function_call);
  return out;
}

/** A definition (a schema, a format) as the engine renders it: JSON, or a string as it is; nothing when absent. */
function definition(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  return [typeof value === 'string' ? value : JSON.stringify(value)];
}

/**
 * Top-level members the extraction scans (requestFields.ts) that the counts above leave out
 * (`tool_choice`, vLLM's guided decoding, ...). Parameters are never read as text, and a member the
 * gateway does not know is refused or stripped before anything reads it.
 */
function parametersNotCounted(body: Record<string, unknown>, classes: Readonly<Record<string, FieldClass>>, counted: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [key, member] of Object.entries(body)) if (Object.hasOwn(classes, key) && classes[key] === 'scanned' && !counted.has(key)) stringsIn(member, out);
  return out;
}

/** Every string in a JSON value, object keys included (the guards read a member's name too). */
function stringsIn(value: unknown, out: string[]): void {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) stringsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out.push(k);
      stringsIn(v, out);
    }
  }
}

const MEDIA_PART = /image|audio|video|file/;
const NOTHING_COUNTED: ReadonlySet<string> = new Set();
const PART_COUNTED: ReadonlySet<string> = new Set(['type', 'text', 'refusal']);
const CHAT_MESSAGE_COUNTED: ReadonlySet<string> = new Set(['role', 'name', 'content', 'tool_calls', 'function_call', 'reasoning_content', 'reasoning', 'refusal']);
const CHAT_TOP_COUNTED: ReadonlySet<string> = new Set(['messages', 'tools', 'functions', 'documents', 'response_format']);
const RESPONSES_ITEM_COUNTED: ReadonlySet<string> = new Set(['role', 'name', 'arguments', 'input', 'content', 'output', 'summary', 'type']);
const RESPONSES_TOP_COUNTED: ReadonlySet<string> = new Set(['input', 'instructions', 'tools', 'text']);
const COMPLETION_TOP_COUNTED: ReadonlySet<string> = new Set(['prompt', 'suffix']);

export interface PromptCount {
  /** Every prompt token the engine will read (what the token budget pays). */
  total: number;
  /** The longest single sequence (what must fit the context window). */
  longest: number;
}

export async function countPromptTokens(shape: PromptShape): Promise<PromptCount> {
  const counts: number[] = [];
  for (const text of shape.texts) counts.push(await countTokens(text));
  const sum = counts.reduce((a, b) => a + b, 0);
  if (!shape.separateSequences) return { total: sum + shape.fixedTokens, longest: sum + shape.fixedTokens };
  return { total: sum + shape.fixedTokens, longest: Math.max(0, ...counts) + 1 };
}
