/**
 * The one guard interface: every guard (Prompt Guard, Llama Guard 3 on any backend, the bundled
 * models) takes a GuardRequest and returns one Verdict. The gateway and policies see nothing else.
 */

/**
 * Where a piece of text came from; decides which Prompt Guard score applies (jailbreak vs injection).
 * Written by the app or its user: `system`, `developer` (the app's instructions), `user`,
 * `assistant` (earlier answers, as the client resends them). Third-party content the engine reads:
 * `tool` (tool and function results), `document` (document parts and documents), `tool_schema`
 * (tool and function definitions, response schemas), `tool_call` (tool-call names and arguments).
 */
export type TextSource = 'system' | 'developer' | 'user' | 'assistant' | 'tool' | 'document' | 'tool_schema' | 'tool_call';

/** Every source, in the order the policy schema lists them. */
export const TEXT_SOURCES: readonly TextSource[] = ['system', 'developer', 'user', 'assistant', 'tool', 'document', 'tool_schema', 'tool_call'];

/**
 * Third-party content: instructions in it are an injection (Prompt Guard's injection score). The
 * other sources are written by the app or its user, where instructions are normal and only a
 * jailbreak is suspicious (Meta's guidance: jailbreak score on user and system prompts).
 */
export function isThirdPartySource(source: TextSource): boolean {
  return source === 'tool' || source === 'document' || source === 'tool_schema' || source === 'tool_call';
}

/** One text a guard must scan, with where it sits in the request (for audit, never its content). */
export interface ScanText {
  source: TextSource;
  /** Human-readable location, e.g. `messages[2].content[1]` or `choices[0].message.tool_calls[0].function.arguments`. */
  path: string;
  text: string;
  /** An earlier assistant turn the gateway itself delivered, word for word: jailbreak-score rules leave it out. */
  delivered?: boolean;
}

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** A conversation turn as the guards see it: plain text, already flattened from content parts. */
export interface ChatTurn {
  role: ChatRole;
  content: string;
  /** Tool calls made by an assistant turn, as `name(arguments)` strings. */
  toolCalls?: string[];
  /**
   * Bookkeeping of the turn an engine's template may render (ids of tool calls and items that are
   * not random characters): read on its own by the guards that score texts, never joined to the
   * turn's words (a long id diluted a harmful tool result under the threshold).
   */
  apart?: string[];
  /**
   * The turn's text parts joined with nothing between them, as some engines join them (TGI), when a
   * word or token runs across a part boundary (gateway/pipeline/extract/gluedParts.ts): read beside
   * the turn, which joins its parts with spaces.
   */
  glued?: string;
  /**
   * The engine reads this turn apart from the conversation's other turns (each prompt of a
   * /v1/completions list is completed on its own): a guard that reads whole conversations
   * (Llama Guard) reads it as a conversation of its own on an input check.
   */
  alone?: true;
  /**
   * Where the turn sits in the request or answer (`messages[3]`, `input[0]`, `prompt[1]`,
   * `choices[0].message`; members read as one turn joined by `+`, `tools+documents`): the name a
   * verdict gives the turn it scored. Unset: `conversation[i]`, its place in this list.
   */
  path?: string;
}

export type Direction = 'input' | 'output';

export interface GuardRequest {
  direction: Direction;
  /** Texts to scan (Prompt Guard style guards use these). */
  texts: ScanText[];
  /** The conversation; on output, its last turn is the assistant's answer (Llama Guard style guards use this). */
  conversation: ChatTurn[];
  signal?: AbortSignal;
  /**
   * Cached verdicts are reused only within one scope: the gateway passes the policy `id@version`,
   * so a new policy version scans every text again. Unset: one shared scope.
   */
  cacheScope?: string;
  /**
   * Prompt Guard: `injection` scores every text for injection (p[INJECTION] + p[JAILBREAK]) as
   * untrusted content, whatever its source (a policy rule's `score: injection`, e.g. instructions
   * pasted into a user turn). Texts keep their source: a role marker (roleLayouts.ts) still goes
   * only in front of true third-party text. Unset: by source.
   */
  score?: 'injection';
}

/** What of a check was answered from the guard's caches instead of the model. */
export interface CacheHits {
  /** Texts whose whole result was reused (for Llama Guard: conversations, one per model call it would make). */
  texts: number;
  /** Segments and fine windows not run again: those of reused texts, plus rows reused inside texts that changed. */
  segments: number;
}

/** The result of one guard run. Holds no user content. */
export interface Verdict {
  guard: string;
  model: string;
  /** The guard's own label, e.g. BENIGN / JAILBREAK / INJECTION / MALICIOUS, safe / unsafe, error. */
  label: string;
  /** Probability in [0, 1] that the text is what the guard looks for (unsafe, malicious, ...). */
  score: number;
  /** Hazard categories (S1..S14 or custom codes), or finding kinds (e.g. `unicode_tags`). */
  categories: string[];
  /**
   * A content guard whose model points at categories at any score (the bundled encoder): the
   * categories of texts it judged safe, each with the highest score of a text pointing at it. A
   * rule whose threshold lies under the guard's own unsafe cut (0.5) reads those at or above its
   * threshold as categories, so its per-category actions apply there too. Llama Guard reading the
   * prompts of a list apart: the categories of the unsafe readings other than the one that stands,
   * each at its reading's score.
   */
  leanings?: Record<string, number>;
  latencyMs: number;
  segmentsScanned: number;
  /** Where the highest score was found, e.g. `messages[3].content` (no content). */
  worstPath?: string;
  /**
   * When the highest score came from a fine-grained window (a few lines or sentences of a long
   * text): its character offsets [start, end) in that text as the guard scanned it (after
   * sanitization). Offsets, never text.
   */
  worstSpan?: { start: number; end: number };
  /** Fine-grained windows scored on top of the segments (0 when none were needed). */
  windowsScanned?: number;
  /** What came from the cache (absent: the guard has none, or it was off). */
  cacheHits?: CacheHits;
  /** Set when the guard failed; the policy's on_error decides what that means. */
  error?: GuardError;
}

export interface GuardError {
  /** `cancelled`: the request ended before the guard finished (the client left, or shutdown cut it): not the guard's failure. */
  type: 'timeout' | 'model_error' | 'parse_error' | 'unavailable' | 'bad_input' | 'cancelled';
  message: string;
}

export interface Guard {
  /** Name the policy uses for it (e.g. `prompt_guard`). */
  readonly name: string;
  /** Model identity recorded with each verdict (e.g. a directory name or hub id). */
  readonly model: string;
  /** Loads models; throws with an actionable message when something is missing. */
  load(): Promise<void>;
  /** Never throws for a model failure: returns a Verdict with `error` set instead. */
  check(request: GuardRequest): Promise<Verdict>;
  close(): Promise<void>;
  /** After load(): one line on where its model runs (the gateway's start-up log). */
  describeRuntime?(): string;
}

export function errorVerdict(guard: string, model: string, error: GuardError, latencyMs: number): Verdict {
  // A cancelled check is labelled apart: dashboards and the guard-error alert count `error` verdicts as failures.
  return { guard, model, label: error.type === 'cancelled' ? 'cancelled' : 'error', score: 0, categories: [], latencyMs, segmentsScanned: 0, error };
}
