import { ApiError } from '../../errors';

/**
 * The conversations this gateway process relayed on /v1/responses, so that a client continuing one
 * with `previous_response_id`, or pointing at an earlier item with `item_reference` (what the AI
 * SDK's default provider sends for earlier assistant turns), still has every text the engine will
 * read checked: the gateway puts the items back in `input` and scans them with the rest. The engine
 * is never asked to recall anything (the gateway forwards `store: false`), so no history reaches it
 * unseen. Kept per app (one app never reaches another's), in memory, bounded (least recently used
 * out first), for answers that went out: delivered whole, or blocked (the refusal, and what
 * window mode released before the block), never a failed stream. A response this process did not relay (another replica, a restart, evicted) is refused
 * with a 400 saying to send the items themselves.
 */
export interface MemoryLimits {
  /** Responses kept (each with its whole conversation). */
  maxResponses: number;
  /** Bytes of JSON kept in all. */
  maxBytes: number;
  /**
   * Largest conversation kept: a continuation puts it back into one request, so it is held to what
   * one request body may be (the gateway's body limit), or a chain of small requests could make the
   * guards read far more than any client may send at once.
   */
  maxConversationBytes: number;
}

export const DEFAULT_MEMORY_LIMITS: MemoryLimits = { maxResponses: 2000, maxBytes: 64 * 1024 * 1024, maxConversationBytes: 4 * 1024 * 1024 };

interface Stored {
  /** Whose it is (app, and key): eviction takes from the largest first. */
  scope: string;
  items: readonly unknown[];
  bytes: number;
  itemKeys: string[];
}

export class ConversationMemory {
  /** By `app\0responseId`, least recently used first. */
  private readonly responses = new Map<string, Stored>();
  /** Items by `app\0itemId`, with the response that holds them. */
  private readonly items = new Map<string, { owner: string; item: unknown }>();
  /**
   * Response and item ids the engine gave out more than once (an engine that repeats ids, or
   * reuses one item id for every item): a reference to one could mean either conversation, so it
   * resolves to none (the client is told to send the conversation), never to someone else's.
   */
  private readonly ambiguous = new Set<string>();
  /**
   * Every response and output item id given out, kept after its conversation is evicted (or was too
   * large to keep), bounded: an engine that gives one out again later (Ollama draws six-digit ids)
   * makes it ambiguous, so a client still holding the first is never handed the second.
   */
  private readonly given = new Set<string>();
  private bytes = 0;
  /** Bytes held per app (a scope's app: its keys together), for eviction by share. */
  private readonly scopeBytes = new Map<string, number>();
  /** Responses held per app: the count limit evicts from the app holding the most. */
  private readonly scopeCounts = new Map<string, number>();

  constructor(private readonly limits: MemoryLimits = DEFAULT_MEMORY_LIMITS) {}

  get size(): number {
    return this.responses.size;
  }

  /** Keeps a delivered response: the input items as forwarded, then its output items. */
  remember(app: string, responseId: string, input: readonly unknown[], output: readonly unknown[]): void {
    const key = scoped(app, responseId);
    if (this.responses.has(key) || this.ambiguous.has(key) || this.given.has(key)) {
      this.drop(key);
      this.markAmbiguous(key);
      return;
    }
    this.markGiven(key);
    const items = [...input, ...output.map(withoutLogprobs)];
    const bytes = Buffer.byteLength(JSON.stringify(items), 'utf8');
    const outputIds = output.map((item) => (item as { id?: unknown } | null)?.id).filter((id): id is string => typeof id === 'string' && id !== '');
    if (bytes > Math.min(this.limits.maxBytes, this.limits.maxConversationBytes)) {
      for (const id of outputIds) this.markGiven(scoped(app, id));
      return;
    }
    let carried: string[] = [];
    const given: string[] = [];
    // An input item is the client's word: it never creates or replaces an item under its id (a
    // client could plant text under an id another conversation refers to). One that is the held item
    // itself (a reference the gateway expanded, or an exact copy) moves to this response, so an item
    // a chat refers to on every turn outlives the response that first gave it.
    for (const item of input) {
      const id = (item as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') continue;
      const itemKey = scoped(app, id);
      const held = this.items.get(itemKey);
      if (held && (held.item === item || sortedJson(held.item) === sortedJson(item))) {
        this.items.set(itemKey, { owner: key, item: held.item });
        carried.push(itemKey);
        // Still in use: its id stays known as given out, however long the chat goes on.
        this.markGiven(itemKey);
      }
    }
    // The engine's own output items are found by id. An id given to another item before (in this
    // response, an earlier one, or one since evicted) is ambiguous: neither.
    output.forEach((item) => {
      const id = (item as { id?: unknown } | null)?.id;
      if (typeof id !== 'string' || id === '') return;
      const itemKey = scoped(app, id);
      if (this.ambiguous.has(itemKey) || this.given.has(itemKey) || this.items.has(itemKey) || given.includes(itemKey)) {
        carried = carried.filter((k) => k !== itemKey);
        this.items.delete(itemKey);
        this.markAmbiguous(itemKey);
        return;
      }
      this.items.set(itemKey, { owner: key, item });
      given.push(itemKey);
    });
    for (const itemKey of given) this.markGiven(itemKey);
    const itemKeys = [...carried, ...given];
    this.responses.set(key, { scope: app, items, bytes, itemKeys });
    this.bytes += bytes;
    const share = shareOf(app);
    this.scopeBytes.set(share, (this.scopeBytes.get(share) ?? 0) + bytes);
    this.scopeCounts.set(share, (this.scopeCounts.get(share) ?? 0) + 1);
    while (this.responses.size > this.limits.maxResponses || this.bytes > this.limits.maxBytes) {
      const victim = this.evictionVictim(this.responses.size > this.limits.maxResponses ? this.scopeCounts : this.scopeBytes);
      if (victim === undefined) break;
      this.drop(victim);
    }
  }

  /**
   * What goes when the memory is full: the least recently used response of the app holding the
   * most of what is over its limit, responses or bytes, so one app's traffic evicts its own
   * conversations first, not others': by bytes alone, a flood of tiny conversations (2,000 one-word
   * ones) evicted a quieter app's few large ones, and counted per key, an app giving each of its
   * users a key never held the most.
   */
  private evictionVictim(held: ReadonlyMap<string, number>): string | undefined {
    let largest: string | undefined;
    for (const [scope, amount] of held) if (largest === undefined || amount > (held.get(largest) ?? 0)) largest = scope;
    for (const [key, stored] of this.responses) if (shareOf(stored.scope) === largest) return key;
    return this.responses.keys().next().value;
  }

  /** The whole conversation of a response (its input, then its output), or undefined. */
  conversation(app: string, responseId: string): readonly unknown[] | undefined {
    const key = scoped(app, responseId);
    const stored = this.responses.get(key);
    if (!stored) return undefined;
    // Used again: it moves to the back of the eviction order.
    this.responses.delete(key);
    this.responses.set(key, stored);
    return stored.items;
  }

  item(app: string, itemId: string): unknown {
    return this.items.get(scoped(app, itemId))?.item;
  }

  /** Bounded at eight ids a remembered response: the oldest go first. */
  private markGiven(key: string): void {
    addBounded(this.given, key, 8 * this.limits.maxResponses);
  }

  /** Bounded like the responses (four ids a response): the oldest marks go first. */
  private markAmbiguous(key: string): void {
    addBounded(this.ambiguous, key, 4 * this.limits.maxResponses);
  }

  private drop(key: string): void {
    const stored = this.responses.get(key);
    if (!stored) return;
    this.responses.delete(key);
    this.bytes -= stored.bytes;
    const share = shareOf(stored.scope);
    const left = (this.scopeBytes.get(share) ?? 0) - stored.bytes;
    if (left > 0) this.scopeBytes.set(share, left);
    else this.scopeBytes.delete(share);
    const count = (this.scopeCounts.get(share) ?? 0) - 1;
    if (count > 0) this.scopeCounts.set(share, count);
    else this.scopeCounts.delete(share);
    // An id a later response also holds now points there: leave it.
    for (const itemKey of stored.itemKeys) if (this.items.get(itemKey)?.owner === key) this.items.delete(itemKey);
  }
}

/** The app of a scope (`app` or `app\u0001key`, endpoint.ts memoryScope): what eviction shares by. */
function shareOf(scope: string): string {
  const at = scope.indexOf('\u0001');
  return at === -1 ? scope : scope.slice(0, at);
}

function scoped(app: string, id: string): string {
  return `${app}\u0000${id}`;
}

/**
 * An output item as a continuation puts it back into `input`: without its parts' logprobs. The
 * engine never reads them, but the guards and the token count would (a stored answer with
 * top_logprobs 5 counted 18,485 tokens for its 534, refusing continuations as over the context).
 */
function withoutLogprobs(item: unknown): unknown {
  const content = (item as { content?: unknown } | null)?.content;
  if (!Array.isArray(content) || !content.some((part) => part && typeof part === 'object' && 'logprobs' in part)) return item;
  return { ...(item as object), content: content.map((part) => (part && typeof part === 'object' && 'logprobs' in part ? (({ logprobs: _dropped, ...rest }) => rest)(part as Record<string, unknown>) : part)) };
}

const SEND_ITEMS = 'Send the whole conversation as items in `input` instead (with the AI SDK: providerOptions.openai.store = false).';

/**
 * Pure apart from the memory lookups: the body with `previous_response_id` replaced by the
 * conversation it names and every `item_reference` by the item, or the 400 for one the gateway
 * does not hold. Returns the body unchanged when it holds neither.
 */
export function expandHistory(body: Record<string, unknown>, memory: ConversationMemory, app: string): Record<string, unknown> {
  const previous = body.previous_response_id;
  const input = body.input;
  const items = Array.isArray(input) ? input : undefined;
  const hasReference = items?.some(isReference) ?? false;
  if ((previous === undefined || previous === null) && !hasReference) return body;

  let history: readonly unknown[] = [];
  if (typeof previous === 'string') {
    const found = memory.conversation(app, previous);
    if (!found) {
      throw new ApiError(
        400,
        `Previous response with id \`${previous.slice(0, 100)}\` not found: the gateway continues only conversations it relayed itself (kept in memory by this gateway process for a while, up to the size of one request), because history it has not seen cannot be checked. ${SEND_ITEMS}`,
        'invalid_request_error',
        'previous_response_not_found',
        'previous_response_id',
      );
    }
    history = found;
  }
  const own = items ?? (typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : []);
  const resolved = own.map((item, i) => {
    if (!isReference(item)) return item;
    const found = memory.item(app, item.id);
    if (found === undefined) {
      throw new ApiError(
        400,
        `Item with id \`${item.id.slice(0, 100)}\` not found: the gateway resolves references only to items of responses it relayed itself (kept in memory by this gateway process for a while). ${SEND_ITEMS}`,
        'invalid_request_error',
        'item_not_found',
        `input[${i}].id`,
      );
    }
    return found;
  });
  const expanded: Record<string, unknown> = { ...body, input: [...history, ...resolved] };
  delete expanded.previous_response_id;
  return expanded;
}

function isReference(item: unknown): item is { type: 'item_reference'; id: string } {
  const candidate = item as { type?: unknown; id?: unknown } | null;
  return candidate?.type === 'item_reference' && typeof candidate.id === 'string';
}

/** The input as items (a string input is one user message), for what memory keeps. */
export function inputItems(input: unknown): unknown[] {
  if (Array.isArray(input)) return input;
  return typeof input === 'string' ? [{ type: 'message', role: 'user', content: input }] : [];
}

/** Adds (or renews) `key` as the newest of `set`, dropping the oldest past `max`. */
function addBounded(set: Set<string>, key: string, max: number): void {
  set.delete(key);
  set.add(key);
  for (const oldest of set) {
    if (set.size <= max) break;
    set.delete(oldest);
  }
}

/** JSON with every object's members in name order: a client's copy of an item need not keep the order the gateway's parse gave it. */
function sortedJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v));
}
