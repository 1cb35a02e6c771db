import type { AssistantAnswer } from '../extract/answer';
import { BYTES_SLOT_MARK, type SlotPiece } from './answerSlots';

/**
 * Pure bookkeeping of a Responses answer's slots (answerSlots.ts), as a client keeps them (the
 * openai SDK's ResponseAccumulator, OpenAI's own stream): a slot's value is the last whole value
 * set (`*.added`, `*.done`, a lifecycle `response`) with the deltas that came after it appended.
 * A delta always brings text the output guard has not read; a whole value does unless it is the
 * slot's value already: a stream states its text up to four times (deltas, `*.done`,
 * `output_item.done`, `response.completed`) and is checked once, while one that differs (an
 * engine changing its story) starts a value of its own, which the deltas after it continue.
 */
export class SlotLedger {
  private readonly values = new Map<string, string>();

  /** The pieces that carry new text, in order; records them. */
  admit(pieces: readonly SlotPiece[]): SlotPiece[] {
    const kept: SlotPiece[] = [];
    for (const piece of pieces) {
      const value = this.values.get(piece.slot) ?? '';
      if (piece.append) {
        if (piece.text === '') continue;
        this.values.set(piece.slot, value + piece.text);
        kept.push(piece);
        continue;
      }
      if (piece.text === value) continue;
      // An emptied slot is kept too: the deltas after it begin a new value, not the old one's end.
      this.values.set(piece.slot, piece.text);
      kept.push(piece);
    }
    return kept;
  }
}

/**
 * Pure: admitted pieces (all of an answer, or a window of a stream) -> the answer as the output
 * guard reads it. Each slot's values as the client held them (a whole value starts one, deltas
 * continue the last); its last value is what the client ends with, the earlier ones are extra
 * texts (the client showed them too). The visible text is the content slots' last values joined
 * in order, as the client's `output_text` joins them; calls are grouped by output item.
 */
export function answerFromSlots(pieces: readonly SlotPiece[]): AssistantAnswer {
  const slots = new Map<string, { kind: SlotPiece['kind']; call?: number; values: string[] }>();
  for (const piece of pieces) {
    const entry = slots.get(piece.slot) ?? { kind: piece.kind, call: piece.call, values: [] };
    if (!piece.append || entry.values.length === 0) entry.values.push(piece.text);
    else entry.values[entry.values.length - 1] += piece.text;
    slots.set(piece.slot, entry);
  }
  for (const [slot, entry] of [...slots]) {
    if (!slot.endsWith(BYTES_SLOT_MARK)) continue;
    // Joined bytes decoded once; read only where they say something else than their tokens.
    slots.delete(slot);
    const named = slot.slice(0, -BYTES_SLOT_MARK.length);
    const tokens = slots.get(named.replace(/\.bytes$/, '.token'))?.values.at(-1);
    const values = entry.values.map((v) => Buffer.from(v, 'latin1').toString('utf8'));
    if (!(values.length === 1 && values[0] === tokens)) slots.set(named, { ...entry, values });
  }
  let content = '';
  const extras: { lane: string; text: string }[] = [];
  const calls = new Map<number, { name: string; arguments: string }>();
  const messageText: { slot: string; text: string }[] = [];
  for (const [slot, entry] of slots) {
    const values = entry.values.filter((t) => t !== '');
    const main = values.pop();
    if (main === undefined) continue;
    // The values the client held before its last one.
    const again = values.map((text) => ({ lane: `${slot}#earlier`, text }));
    switch (entry.kind) {
      case 'content':
        content += main;
        messageText.push({ slot, text: main });
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
  // The SDKs' `output_text` joins the message text in item and part order; `content` is in the order
  // each part's text first came (as a client printing deltas shows it). An engine that sends a later
  // part first makes the two differ: then the item-order join is read too.
  const inItemOrder = [...messageText].sort((a, b) => compareSlots(a.slot, b.slot)).map((m) => m.text).join('');
  if (inItemOrder !== content) extras.push({ lane: 'output_text#item_order', text: inItemOrder });
  return { content, toolCalls: [...calls.values()], extras };
}

/** Output and part indexes of a slot (`output[2].content[1].text` -> [2, 1]); others sort last, in their order. */
function compareSlots(a: string, b: string): number {
  const at = (slot: string) => /^output\[(\d+)\]\.(?:content|summary)\[(\d+)\]/.exec(slot)?.slice(1).map(Number) ?? [Infinity, Infinity];
  const [x, y] = [at(a), at(b)];
  return x[0]! - y[0]! || x[1]! - y[1]! || 0;
}
