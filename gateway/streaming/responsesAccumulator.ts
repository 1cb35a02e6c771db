import { TERMINAL_RESPONSE_EVENTS, type ResponseObject, type ResponseStreamEvent } from '../../engine/answerSchema';
import type { AssistantAnswer } from '../pipeline/extractTexts';
import { BYTES_SLOT_MARK, eventPieces, type SlotPiece } from '../pipeline/responses/answerSlots';
import { responseSummary } from '../pipeline/responses/engineSummary';
import { answerFromSlots, SlotLedger } from '../pipeline/responses/slotAnswer';
import { EventPieces } from './eventPieces';
import type { RequestRecord } from '../record/requestRecord';

/**
 * Pure state machine of a Responses stream, as answerAccumulator.ts is for chat: every text the
 * events bring (slots, answerSlots.ts), each distinct text once (slotAnswer.ts), by the event that
 * brought it, so buffer mode checks the whole answer and window mode any range of events. Keeps
 * what gateway-written events need: the opening response, the final one, the last sequence number.
 */
export class ResponsesAccumulator {
  private readonly ledger = new SlotLedger();
  // Leads by lane: each slot leads itself, and message text also leads as one lane, as the client's
  // `output_text` joins every item's text without a separator (a phrase may start in one item and end in the next).
  private readonly pieces = new EventPieces<SlotPiece & { event: number }>(
    (p) => (p.kind === 'content' ? [p.slot, 'output_text'] : p.slot),
    (p) => p.slot.endsWith(BYTES_SLOT_MARK),
  );
  /** Events that carried new text so far (window mode counts these as tokens). */
  textEvents = 0;
  /** The first lifecycle event's response (`response.created`). */
  opening: ResponseObject | undefined;
  /** The terminal event's response: the whole answer as the engine states it. */
  final: ResponseObject | undefined;
  lastSequence: number | undefined;
  /** performance.now() of the first event: the engine's time to first event, for telemetry. */
  firstEventAt: number | undefined;

  /** `sent`: the request as forwarded (echoed members are compared with it). */
  constructor(private readonly sent: Readonly<Record<string, unknown>>) {}

  /** Adds one parsed event; true when it carried text not read before. */
  add(event: ResponseStreamEvent, now: number = performance.now()): boolean {
    this.firstEventAt ??= now;
    if (typeof event.sequence_number === 'number') this.lastSequence = event.sequence_number;
    if (event.response) {
      this.opening ??= event.response;
      if (TERMINAL_RESPONSE_EVENTS.has(event.type)) this.final = event.response;
    }
    const kept = this.ledger.admit(eventPieces(event, this.sent));
    if (kept.length === 0) return false;
    this.textEvents += 1;
    for (const piece of kept) this.pieces.push({ ...piece, event: this.textEvents });
    return true;
  }

  answer(): AssistantAnswer {
    return answerFromSlots(this.pieces.all());
  }

  /** What window mode reads of the text-bearing events (checked, to]: with the shared overlap and each slot's lead (eventPieces.ts). */
  window(checked: number, to: number, overlap: number): AssistantAnswer {
    return answerFromSlots(this.pieces.window(checked, to, overlap));
  }

  engineSummary(engineStarted: number, now: number = performance.now()): NonNullable<RequestRecord['engine']> {
    return responseSummary(this.final ?? this.opening, now - engineStarted, this.firstEventAt === undefined ? undefined : this.firstEventAt - engineStarted);
  }
}
