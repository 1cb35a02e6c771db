import { BYTES_MARK, type LanePiece } from '../pipeline/extract/answerLanes';
import { BOOKKEEPING_LANE, gatewayId, plainEnvelope, type AnswerContext } from '../pipeline/extract/bookkeeping';
import { answerFromPieces, type AssistantAnswer } from '../pipeline/extractTexts';
import { EngineError } from '../../engine/errors';
import { EventPieces } from './eventPieces';

/** A stream chunk as the engine sent it, already checked against engine/answerSchema.ts (only what the relay reads is typed). */
export interface StreamChunk {
  id?: string | null;
  object?: string | null;
  created?: number | null;
  model?: string | null;
  choices: { index?: number; [member: string]: unknown }[];
  usage?: Record<string, unknown> | null;
  [member: string]: unknown;
}

/** The identity of a stream (its first chunk's), reused for chunks the gateway writes itself. */
export interface ChunkMeta {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
}

interface Piece extends LanePiece {
  /** Which text-bearing event brought it (window mode counts these as tokens). */
  event: number;
  /** Choice index; -1 for text outside the choices, which belongs to every choice. */
  choice: number;
}

/**
 * Pure state machine: the text of every lane of every choice (content, reasoning, refusal, tool
 * calls, logprob tokens, unknown members) as the stream delivers it, piece by piece, so buffer
 * mode can check whole answers and window mode any range of events.
 */
export class AnswerAccumulator {
  // A lane is one field of one choice (text outside the choices, choice -1, a lane of its own).
  private readonly pieces = new EventPieces<Piece>(
    (p) => `${p.choice}\u0000${p.lane}`,
    (p) => p.lane.endsWith(BYTES_MARK),
  );
  private readonly finish = new Map<number, string>();
  private readonly indexes = new Set<number>();
  /** The last value of each bookkeeping lane read as text, per choice. */
  private readonly bookkeeping = new Map<string, string>();
  /** Events that carried text so far. */
  textEvents = 0;
  /** The first chunk's identity as the engine sent it (what the record keeps). */
  meta: ChunkMeta = {};
  /** The same for chunks the gateway writes itself: plain bookkeeping only (bookkeeping.ts), never a value that was read as text. */
  writableMeta: ChunkMeta = {};
  /** The first chunk's id, fingerprint and model: a later chunk that changes one is read as text, plain or not. */
  private readonly first = new Map<string, string>();
  private readonly changed = new Set<string>();
  /** The bookkeeping members a later chunk changed (each value was read as text). */
  get changedMembers(): ReadonlySet<string> {
    return this.changed;
  }

  /** `context`: what the gateway knows of the request (its model), for reading the chunks' bookkeeping. */
  constructor(readonly context: AnswerContext = {}) {}
  usage: Record<string, unknown> | undefined;
  /** performance.now() of the first chunk: the engine's time to first chunk, for telemetry. */
  firstChunkAt: number | undefined;

  /** Adds one chunk and its lanes (adapter.chunkLanes); true when it carried text. */
  add(chunk: StreamChunk, lanes: ReadonlyMap<number, readonly LanePiece[]>, now: number = performance.now()): boolean {
    this.firstChunkAt ??= now;
    if (!this.meta.id && chunk.id) {
      this.meta = { id: chunk.id, object: chunk.object ?? undefined, created: chunk.created ?? undefined, model: chunk.model ?? undefined };
      // Bookkeeping that was read as text (and may be what gets blocked) is not written again.
      this.writableMeta = plainEnvelope({ ...this.meta }, this.context, chunk.object === 'text_completion' ? 'text_completion' : 'chat.completion.chunk');
    }
    const changed = this.changedBookkeeping(chunk);
    // Before the chunk's own bookkeeping pieces, so a value read both ways is read once.
    if (changed.length) lanes = new Map([...lanes, [-1, [...changed, ...(lanes.get(-1) ?? [])]]]);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      const index = choice.index ?? 0;
      this.indexes.add(index);
      if (typeof choice.finish_reason === 'string') this.finish.set(index, choice.finish_reason);
      this.noteCallIndexes(index, (choice.delta as { tool_calls?: { index?: number | null }[] | null } | null | undefined)?.tool_calls);
    }
    let carried = false;
    for (const [choice, list] of lanes) {
      for (const piece of list) {
        if (piece.text.length === 0) continue;
        if (piece.lane.startsWith(BOOKKEEPING_LANE)) {
          // Restated by every chunk: only a new value is new text (and makes the event one that carries text).
          const key = `${choice}\u0000${piece.lane}`;
          if (this.bookkeeping.get(key) === piece.text) continue;
          this.bookkeeping.set(key, piece.text);
        }
        if (!carried) {
          carried = true;
          this.textEvents += 1;
        }
        this.pieces.push({ ...piece, choice, event: this.textEvents });
      }
    }
    return carried;
  }

  /** Per choice, whether its tool-call pieces came with an `index` (true) or without (false). */
  private readonly callIndexing = new Map<number, boolean>();

  /**
   * A choice's tool-call pieces with an index and without: clients differ on where the latter go
   * (the openai SDKs join them apart, others by position or as call 0), so no one reading of the
   * stream is the client's: an engine failure.
   */
  private noteCallIndexes(choice: number, calls: readonly { index?: number | null }[] | null | undefined): void {
    for (const call of calls ?? []) {
      const indexed = call.index != null;
      const seen = this.callIndexing.get(choice);
      if (seen === undefined) this.callIndexing.set(choice, indexed);
      else if (seen !== indexed) throw new EngineError('bad_gateway', 'the engine sent tool-call pieces with and without an index in one answer');
    }
  }

  /**
   * Every engine keeps a stream's id, fingerprint and model: a chunk that changes one could spell a
   * phrase across chunks out of values each plain on its own, so each new value is read as text.
   */
  private changedBookkeeping(chunk: StreamChunk): LanePiece[] {
    const pieces: LanePiece[] = [];
    for (const member of ['id', 'system_fingerprint', 'model'] as const) {
      const value = chunk[member];
      if (typeof value !== 'string' || value === '') continue;
      const first = this.first.get(member);
      if (first === undefined) this.first.set(member, value);
      else if (value !== first) {
        // The first change reads the first value too: the phrase starts there, so the gateway's own chunks no longer repeat it.
        if (!this.changed.has(member)) {
          pieces.push({ lane: `${BOOKKEEPING_LANE}${member}`, text: first });
          if (member === 'id') this.writableMeta = { ...this.writableMeta, id: gatewayId(this.writableMeta.object === 'text_completion' ? 'text_completion' : 'chat.completion.chunk') };
          if (member === 'model') this.writableMeta = { ...this.writableMeta, model: this.context.model ?? '' };
        }
        this.changed.add(member);
        pieces.push({ lane: `${BOOKKEEPING_LANE}${member}`, text: value });
      }
    }
    return pieces;
  }

  choiceIndexes(): number[] {
    const indexes = [...this.indexes].sort((a, b) => a - b);
    return indexes.length ? indexes : [0];
  }

  /** One choice's whole answer, with the text outside the choices. */
  answer(index: number): AssistantAnswer {
    return answerFromPieces(this.pieces.all().filter((p) => p.choice === index || p.choice === -1));
  }

  /** What window mode reads of the text-bearing events (checked, to], every choice together: with the shared overlap and each lane's lead (eventPieces.ts). */
  window(checked: number, to: number, overlap: number): AssistantAnswer {
    return answerFromPieces(this.pieces.window(checked, to, overlap));
  }

  /** What the request record keeps of the engine call (timings from `engineStarted`, a performance.now()). */
  engineSummary(engineStarted: number, now: number = performance.now()): { durationMs: number; firstByteMs?: number; id?: string; model?: string; usage?: Record<string, unknown>; finishReasons: string[] } {
    return {
      durationMs: now - engineStarted,
      firstByteMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - engineStarted,
      id: this.meta.id,
      model: this.meta.model,
      usage: this.usage,
      finishReasons: this.finishReasons(),
    };
  }

  finishReasons(): string[] {
    return [...this.finish.entries()].sort(([a], [b]) => a - b).map(([, r]) => r);
  }
}
