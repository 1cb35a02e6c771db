/**
 * The text pieces of a stream in arrival order, each with the text-bearing event that brought it
 * and its lane (chat: choice and field; Responses: slot), for window mode. A window is the events
 * since the last check, led by the last `overlap` events before them (every lane, as a client
 * reads them together), and, for each lane the window continues, by that lane's own last
 * `overlap` events too: events of other lanes (a reasoning delta between two content deltas) no
 * longer push the start of a phrase out of the overlap. That per-lane lead is capped in
 * characters, so small events of one lane cannot make a large one of another be read again and
 * again.
 */
export class EventPieces<P extends { event: number; text: string }> {
  private readonly pieces: P[] = [];
  /** Per lane, the positions of its pieces in `pieces`, ascending. */
  private readonly byLane = new Map<string, number[]>();

  constructor(private readonly laneOf: (piece: P) => string) {}

  push(piece: P): void {
    const lane = this.laneOf(piece);
    let at = this.byLane.get(lane);
    if (!at) this.byLane.set(lane, (at = []));
    at.push(this.pieces.length);
    this.pieces.push(piece);
  }

  all(): readonly P[] {
    return this.pieces;
  }

  /** The pieces of events (checked - overlap, to], and each lane's lead (above); in arrival order. */
  window(checked: number, to: number, overlap: number): P[] {
    const eventAt = (i: number) => this.pieces[i].event;
    const start = firstAfter(this.pieces.length, eventAt, checked);
    const shared = firstAfter(this.pieces.length, eventAt, checked - overlap);
    const end = firstAfter(this.pieces.length, eventAt, to);
    const lead: P[] = [];
    if (overlap > 0) {
      const lanes = new Set<string>();
      for (let i = start; i < end; i++) lanes.add(this.laneOf(this.pieces[i]));
      const picked: { at: number; piece: P }[] = [];
      for (const lane of lanes) {
        const at = this.byLane.get(lane)!;
        // This lane's pieces before the window, newest first, until `overlap` of its events are
        // in; those already in the shared overlap count, only older ones are added, up to the cap.
        const events = new Set<number>();
        let room = overlap * LEAD_CHARS_PER_EVENT;
        for (let k = firstAfter(at.length, (j) => at[j], start - 1) - 1; k >= 0 && room > 0; k--) {
          const piece = this.pieces[at[k]];
          if (!events.has(piece.event)) {
            if (events.size === overlap) break;
            events.add(piece.event);
          }
          if (at[k] >= shared) continue;
          const kept = piece.text.length <= room ? piece : { ...piece, text: piece.text.slice(piece.text.length - room) };
          room -= kept.text.length;
          picked.push({ at: at[k], piece: kept });
        }
      }
      picked.sort((a, b) => a.at - b.at);
      for (const p of picked) lead.push(p.piece);
    }
    return [...lead, ...this.pieces.slice(shared, end)];
  }
}

/** Characters of a lane's own lead per overlap event: its last few words, never a large piece again and again. */
const LEAD_CHARS_PER_EVENT = 32;

/** Pure: the first index in [0, length) whose key is above `bound` (keys ascending), or `length`. */
function firstAfter(length: number, keyAt: (i: number) => number, bound: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keyAt(mid) <= bound) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
