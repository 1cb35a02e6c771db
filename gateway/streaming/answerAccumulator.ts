import type { AssistantAnswer } from '../pipeline/extractTexts';

/** A parsed engine chunk, only the parts the gateway reads. */
export interface StreamChunk {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices?: {
    index?: number;
    text?: string;
    delta?: { role?: string; content?: string | null; tool_calls?: { index?: number; function?: { name?: string; arguments?: string } }[] };
    finish_reason?: string | null;
  }[];
  usage?: Record<string, unknown> | null;
  error?: unknown;
}

/** Pure state machine: merges stream deltas into the answer of each choice (content and tool calls). */
export class AnswerAccumulator {
  private readonly answers = new Map<number, { content: string; toolCalls: Map<number, { name: string; arguments: string }>; finishReason?: string }>();
  /** The first chunk's identity, reused for chunks the gateway writes itself. */
  meta: { id?: string; object?: string; created?: number; model?: string } = {};
  usage: Record<string, unknown> | undefined;
  /** performance.now() of the first chunk: the engine's time to first chunk, for telemetry. */
  firstChunkAt: number | undefined;

  add(chunk: StreamChunk, now: number = performance.now()): void {
    this.firstChunkAt ??= now;
    if (!this.meta.id && chunk.id) this.meta = { id: chunk.id, object: chunk.object, created: chunk.created, model: chunk.model };
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices ?? []) {
      const state = this.stateOf(choice.index ?? 0);
      if (typeof choice.text === 'string') state.content += choice.text;
      const delta = choice.delta;
      if (typeof delta?.content === 'string') state.content += delta.content;
      for (const call of delta?.tool_calls ?? []) {
        const key = call.index ?? 0;
        const current = state.toolCalls.get(key) ?? { name: '', arguments: '' };
        if (call.function?.name) current.name += call.function.name;
        if (call.function?.arguments) current.arguments += call.function.arguments;
        state.toolCalls.set(key, current);
      }
      if (choice.finish_reason) state.finishReason = choice.finish_reason;
    }
  }

  choiceIndexes(): number[] {
    const indexes = [...this.answers.keys()].sort((a, b) => a - b);
    return indexes.length ? indexes : [0];
  }

  answer(index: number): AssistantAnswer {
    const state = this.answers.get(index);
    if (!state) return { content: '', toolCalls: [] };
    return { content: state.content, toolCalls: [...state.toolCalls.entries()].sort(([a], [b]) => a - b).map(([, c]) => c) };
  }

  /** What the request record keeps of the engine call (timings from `engineStarted`, a performance.now()). */
  engineSummary(engineStarted: number, now: number = performance.now()): { durationMs: number; firstByteMs?: number; model?: string; usage?: Record<string, unknown>; finishReasons: string[] } {
    return {
      durationMs: now - engineStarted,
      firstByteMs: this.firstChunkAt === undefined ? undefined : this.firstChunkAt - engineStarted,
      model: this.meta.model,
      usage: this.usage,
      finishReasons: this.finishReasons(),
    };
  }

  finishReasons(): string[] {
    return [...this.answers.values()].map((a) => a.finishReason).filter((r): r is string => !!r);
  }

  private stateOf(index: number) {
    let state = this.answers.get(index);
    if (!state) {
      state = { content: '', toolCalls: new Map() };
      this.answers.set(index, state);
    }
    return state;
  }
}
