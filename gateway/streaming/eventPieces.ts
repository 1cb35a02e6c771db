/**
 * The text pieces of a stream in arrival order, each with the text-bearing event that brought it
 * and its lane (chat: choice and field; Responses: slot), for window mode. A window is the events
 * since the last check, led by the last `overlap` events before them (every lane, as a client
 * reads them together), and, for each lane the window continues, by that lane's own last
 * `overlap` events too: events of other lanes (a reasoning delta between two content deltas) no
 * longer push the start of a phrase out of the overlap. Those leads share one budget of characters
 * per window, newest first, so small events of many lanes cannot make old text be read again and
 * again; a lead cut short starts at a word.
 */
export class EventPieces<P extends { event: number; text: string }> {
  private readonly pieces: P[] = [];
  /** Per lane, the positions of its pieces in `pieces`, ascending. */
  private readonly byLane = new Map<string, number[]>();

  /** `leadable`: pieces that continue a text (not a whole value restated, which begins none). */
  constructor(
    private readonly laneOf: (piece: P) => string,
    private readonly leadable: (piece: P) => boolean = () => true,
  ) {}

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

  /** The pieces of events (checked - overlap, to], led by the lanes' own leads (above); in arrival order. */
  window(checked: number, to: number, overlap: number): P[] {
    const eventAt = (i: number) => this.pieces[i].event;
    const start = firstAfter(this.pieces.length, eventAt, checked);
    const shared = firstAfter(this.pieces.length, eventAt, checked - overlap);
    const end = firstAfter(this.pieces.length, eventAt, to);
    return [...this.leads(start, shared, end, overlap), ...this.pieces.slice(shared, end)];
  }

  /** For each lane of pieces [start, end): its pieces of its last `overlap` events before `start` that precede `shared`, within one budget, newest first. */
  private leads(start: number, shared: number, end: number, overlap: number): P[] {
    if (overlap <= 0 || start === shared) return [];
    const lanes = new Set<string>();
    for (let i = start; i < end; i++) lanes.add(this.laneOf(this.pieces[i]));
    const candidates: number[] = [];
    for (const lane of lanes) {
      const at = this.byLane.get(lane)!;
      const events = new Set<number>();
      for (let k = firstAfter(at.length, (j) => at[j], start - 1) - 1; k >= 0; k--) {
        const event = this.pieces[at[k]].event;
        if (!events.has(event)) {
          if (events.size === overlap) break;
          events.add(event);
        }
        // Those in the shared overlap are read anyway; they count towards the lane's events.
        if (at[k] < shared && this.leadable(this.pieces[at[k]])) candidates.push(at[k]);
      }
    }
    candidates.sort((a, b) => b - a);
    let room = overlap * LEAD_CHARS_PER_EVENT;
    const kept: { at: number; piece: P }[] = [];
    for (const at of candidates) {
      if (room <= 0) break;
      const piece = this.pieces[at];
      const text = piece.text.length <= room ? piece.text : wordTail(piece.text, room);
      room -= piece.text.length <= room ? text.length : room;
      if (text) kept.push({ at, piece: text === piece.text ? piece : { ...piece, text } });
    }
    return kept.sort((a, b) => a.at - b.at).map((k) => k.piece);
  }
}

/** Characters of the leads of one window per overlap event: the last words of what it continues. */
const LEAD_CHARS_PER_EVENT = 32;

/** Pure: the last `room` characters of `text`, from the first word that starts inside them (never half a word or a lone surrogate). */
export function wordTail(text: string, room: number): string {
  if (room <= 0) return '';
  if (text.length <= room) return text;
  const cut = text.length - room;
  if (/\s/.test(text[cut - 1])) return text.slice(cut);
  const space = text.slice(cut).search(/\s/);
  return space < 0 ? '' : text.slice(cut + space + 1);
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
