import type { ResponseStreamEvent } from '../../engine/answerSchema';
import { outputText } from '../pipeline/responses/blockedResponse';

interface Part {
  type: 'output_text' | 'refusal';
  text: string;
}

interface Entry {
  id: string;
  type: string;
  role: unknown;
  /** Message content parts by content_index. */
  parts: Part[];
  /** Reasoning summary and reasoning text by their index. */
  summary: string[];
  reasoning: string[];
  /** The item as its `output_item.done` said, once that went out. */
  done?: Record<string, unknown>;
}

/**
 * The output items of a streamed Responses answer as far as the client got them: each item whose
 * `output_item.added` went out, with the text of the deltas released after it (a finished item as
 * its `output_item.done` said, whatever its type). When window mode blocks a stream, this (and
 * the refusal) is what the gateway keeps for the conversation, so a client that refers back to an
 * item it was shown (the AI SDK sends `item_reference`s for messages and reasoning) can go on;
 * never the unreleased text. An unfinished call (half its arguments) is left out: a reference to
 * one gets the usual `item_not_found`.
 */
export class ReleasedItems {
  private readonly byIndex = new Map<number, Entry>();

  note(event: ResponseStreamEvent): void {
    const at = event.output_index;
    if (event.type === 'response.output_item.added') {
      if (at !== undefined && typeof event.item?.id === 'string') {
        this.byIndex.set(at, { id: event.item.id, type: event.item.type, role: event.item.role ?? 'assistant', parts: [], summary: [], reasoning: [] });
      }
      return;
    }
    const entry = at === undefined ? undefined : this.byIndex.get(at);
    if (!entry) return;
    if (event.type === 'response.output_item.done' && event.item) {
      entry.done = event.item as Record<string, unknown>;
      return;
    }
    if (typeof event.delta !== 'string') return;
    const i = event.content_index ?? 0;
    switch (event.type) {
      case 'response.output_text.delta':
      case 'response.refusal.delta': {
        const type = event.type === 'response.refusal.delta' ? 'refusal' : 'output_text';
        const part = (entry.parts[i] ??= { type, text: '' });
        part.text += event.delta;
        break;
      }
      case 'response.reasoning_summary_text.delta':
        entry.summary[event.summary_index ?? 0] = (entry.summary[event.summary_index ?? 0] ?? '') + event.delta;
        break;
      case 'response.reasoning_text.delta':
        entry.reasoning[i] = (entry.reasoning[i] ?? '') + event.delta;
        break;
      default:
        break;
    }
  }

  /** Whether message text (or a refusal part) went out. */
  showedText(): boolean {
    for (const entry of this.byIndex.values()) if (entry.parts.some((p) => p && p.text !== '')) return true;
    return false;
  }

  /**
   * The messages and reasoning the client was shown, in output order, as far as they went: what a
   * blocked stream's `response.incomplete` lists before the refusal, so `output_text` is what the
   * client printed. Never a call, finished or not: agent SDKs run every call in the final
   * response's output, and a blocked turn's calls must not run (its output is then indexed as the
   * events were only when no call came before the refusal).
   */
  announced(): Record<string, unknown>[] {
    return this.output().filter((item) => item.type === 'message' || item.type === 'reasoning');
  }

  /** The items as the client holds them, in output order (an unfinished call left out: see above). */
  output(): Record<string, unknown>[] {
    const out: Record<string, unknown>[] = [];
    for (const [, entry] of [...this.byIndex].sort(([a], [b]) => a - b)) {
      if (entry.done) out.push(entry.done);
      else if (entry.type === 'message') {
        const content = [...entry.parts].map((p) => (p?.type === 'refusal' ? { type: 'refusal', refusal: p.text } : outputText(p?.text ?? '')));
        out.push({ id: entry.id, type: 'message', status: 'incomplete', role: entry.role, content });
      } else if (entry.type === 'reasoning') {
        const summary = [...entry.summary].map((text) => ({ type: 'summary_text', text: text ?? '' }));
        const content = [...entry.reasoning].map((text) => ({ type: 'reasoning_text', text: text ?? '' }));
        out.push({ id: entry.id, type: 'reasoning', status: 'incomplete', summary, ...(content.length ? { content } : {}) });
      }
    }
    return out;
  }
}
