import type { AssistantAnswer } from '../extract/answer';
import type { SlotPiece } from './answerSlots';

/**
 * Pure bookkeeping of a Responses answer's slots (answerSlots.ts): which pieces bring text the
 * output guard has not read yet. A delta always does. A whole value does unless it says what the
 * slot's deltas already said, or what an earlier whole value said: a stream states its text up to
 * four times (deltas, `*.done`, `output_item.done`, `response.completed`) and is checked once,
 * while a repeat that differs (an engine changing its story at the end) is checked too.
 */
export class SlotLedger {
  private readonly streamed = new Map<string, string>();
  private readonly stated = new Map<string, Set<string>>();

  /** The pieces that carry new text, in order; records them. */
  admit(pieces: readonly SlotPiece[]): SlotPiece[] {
    const kept: SlotPiece[] = [];
    for (const piece of pieces) {
      if (piece.text === '') continue;
      if (piece.append) {
        this.streamed.set(piece.slot, (this.streamed.get(piece.slot) ?? '') + piece.text);
        kept.push(piece);
        continue;
      }
      const seen = this.stated.get(piece.slot) ?? new Set<string>();
      if (piece.text === this.streamed.get(piece.slot) || seen.has(piece.text)) continue;
      seen.add(piece.text);
      this.stated.set(piece.slot, seen);
      kept.push(piece);
    }
    return kept;
  }
}

/**
 * Pure: admitted pieces (all of an answer, or a window of a stream) -> the answer as the output
 * guard reads it. The visible text is the content slots' text in order; a slot's deltas come
 * first, a differing whole value of it is an extra text; calls are grouped by output item.
 */
export function answerFromSlots(pieces: readonly SlotPiece[]): AssistantAnswer {
  const slots = new Map<string, { kind: SlotPiece['kind']; call?: number; streamed: string; whole: string[] }>();
  for (const piece of pieces) {
    const entry = slots.get(piece.slot) ?? { kind: piece.kind, call: piece.call, streamed: '', whole: [] };
    if (piece.append) entry.streamed += piece.text;
    else entry.whole.push(piece.text);
    slots.set(piece.slot, entry);
  }
  let content = '';
  const extras: { lane: string; text: string }[] = [];
  const calls = new Map<number, { name: string; arguments: string }>();
  for (const [slot, entry] of slots) {
    const [main, ...rest] = [entry.streamed, ...entry.whole].filter((t) => t !== '');
    if (main === undefined) continue;
    const again = rest.map((text) => ({ lane: `${slot}#whole`, text }));
    switch (entry.kind) {
      case 'content':
        content += main;
        extras.push(...again);
        break;
      case 'call_name':
      case 'call_arguments': {
        const call = calls.get(entry.call ?? -1) ?? { name: '', arguments: '' };
        call[entry.kind === 'call_name' ? 'name' : 'arguments'] = main;
        calls.set(entry.call ?? -1, call);
        extras.push(...again);
        break;
      }
      default:
        // Reasoning first in what the guard reads (answer.ts sorts `reasoning` lanes before the content).
        extras.push({ lane: entry.kind === 'reasoning' ? `reasoning:${slot}` : slot, text: main }, ...again.map((e) => (entry.kind === 'reasoning' ? { ...e, lane: `reasoning:${e.lane}` } : e)));
    }
  }
  return { content, toolCalls: [...calls.values()], extras };
}
