/**
 * The text pieces of a stream in arrival order, each with the text-bearing event that brought it
 * and its lane (chat: choice and field; Responses: slot), for window mode: a window is the events
 * since the last check, plus, lane by lane, the last `overlap` events of that same lane before
 * them. Counted per lane, the overlap re-reads the end of the text being continued: events of
 * other lanes (a reasoning delta between two content deltas) no longer push it out.
 */
export class EventPieces<P extends { event: number }> {
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

  /** The pieces of events (checked, to], each of their lanes led by its last `overlap` events up to `checked`; in arrival order. */
  window(checked: number, to: number, overlap: number): P[] {
    const start = firstAfter(this.pieces.length, (i) => this.pieces[i].event, checked);
    const end = firstAfter(this.pieces.length, (i) => this.pieces[i].event, to);
    const picked: number[] = [];
    if (overlap > 0) {
      const lanes = new Set<string>();
      for (let i = start; i < end; i++) lanes.add(this.laneOf(this.pieces[i]));
      for (const lane of lanes) {
        const at = this.byLane.get(lane)!;
        // This lane's pieces before the window, newest first, until `overlap` of its events are in.
        let k = firstAfter(at.length, (j) => at[j], start - 1) - 1;
        const events = new Set<number>();
        for (; k >= 0; k--) {
          const event = this.pieces[at[k]].event;
          if (!events.has(event)) {
            if (events.size === overlap) break;
            events.add(event);
          }
          picked.push(at[k]);
        }
      }
      picked.sort((a, b) => a - b);
    }
    const out = picked.map((i) => this.pieces[i]);
    for (let i = start; i < end; i++) out.push(this.pieces[i]);
    return out;
  }
}

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
