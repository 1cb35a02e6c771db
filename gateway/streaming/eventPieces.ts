/**
 * The text pieces of a stream in arrival order, each with the text-bearing event that brought it
 * and its lanes (chat: choice and field; Responses: slot, and the message text all items share),
 * for window mode. A window is the events since the last check, led by the last `overlap` events
 * before them (every lane, as a client reads them together), and, for each lane the window
 * continues, by that lane's own last `overlap` events too: events of other lanes (a reasoning delta
 * between two content deltas) no longer push the start of a phrase out of the overlap. Those leads
 * share one budget of characters per window, so small events of many lanes cannot make old text be
 * read again and again: first each lane gets an equal share, walking back from its newest piece
 * (at least its last word however many lanes go on: beyond the budget a window re-reads at most a
 * word per lane it continues), then the rest goes newest first. A lead cut short starts at a word
 * (a word the cut would halve is taken whole), unless the cut falls in a run without spaces longer
 * than any word: then it is that run's end, so what the window continues is still read with it.
 */
export class EventPieces<P extends { event: number; text: string }> {
  private readonly pieces: P[] = [];
  /** Per lane, the positions of its pieces in `pieces`, ascending. */
  private readonly byLane = new Map<string, number[]>();

  /** `isBytes`: pieces whose text is bytes, one character each (logprob bytes lanes), cut as UTF-8 (bytesTail). */
  constructor(
    private readonly lanesOf: (piece: P) => string | readonly string[],
    private readonly isBytes: (piece: P) => boolean = () => false,
  ) {}

  private lanes(piece: P): readonly string[] {
    const lanes = this.lanesOf(piece);
    return typeof lanes === 'string' ? [lanes] : lanes;
  }

  push(piece: P): void {
    for (const lane of this.lanes(piece)) {
      let at = this.byLane.get(lane);
      if (!at) this.byLane.set(lane, (at = []));
      at.push(this.pieces.length);
    }
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

  /** For each lane of pieces [start, end): its pieces of its last `overlap` events before `start` that precede `shared`, within one budget (above). */
  private leads(start: number, shared: number, end: number, overlap: number): P[] {
    if (overlap <= 0 || start === shared) return [];
    const lanes = new Set<string>();
    for (let i = start; i < end; i++) for (const lane of this.lanes(this.pieces[i])) lanes.add(lane);
    // Per lane, its candidate pieces, newest first.
    const byLane: number[][] = [];
    for (const lane of lanes) {
      const at = this.byLane.get(lane)!;
      const events = new Set<number>();
      const mine: number[] = [];
      for (let k = firstAfter(at.length, (j) => at[j], start - 1) - 1; k >= 0; k--) {
        const event = this.pieces[at[k]].event;
        if (!events.has(event)) {
          if (events.size === overlap) break;
          events.add(event);
        }
        // Those in the shared overlap are read anyway; they count towards the lane's events.
        if (at[k] < shared) mine.push(at[k]);
      }
      if (mine.length) byLane.push(mine);
    }
    let room = overlap * LEAD_CHARS_PER_EVENT;
    const taken = new Map<number, string>();
    /** Takes more of a piece, up to `allowance` more characters; `strict`: never past it (no whole word beyond). */
    const take = (at: number, allowance: number, strict: boolean): number => {
      const have = taken.get(at) ?? '';
      const piece = this.pieces[at];
      const text = (this.isBytes(piece) ? bytesTail : wordTail)(piece.text, have.length + allowance);
      const more = text.length - have.length;
      if (more <= 0 || (strict && more > allowance)) return 0;
      room -= more;
      taken.set(at, text);
      return more;
    };
    // An equal share for each lane, walking back from its newest piece: another lane's newer events
    // cannot take it all. However many lanes go on, each gets at least its last word (LONGEST_WORD):
    // that costs at most as many words as the window itself brings pieces.
    const share = Math.max(LONGEST_WORD, Math.floor(room / Math.max(1, byLane.length)));
    {
      for (const mine of byLane) {
        let left = share;
        for (const at of mine) {
          if (left <= 0) break;
          const whole = this.pieces[at].text.length - (taken.get(at)?.length ?? 0);
          left -= take(at, left, true);
          // A piece not taken whole ends this lane's walk: what precedes it would not join.
          if ((taken.get(at)?.length ?? 0) < this.pieces[at].text.length && whole > 0) break;
        }
      }
    }
    const candidates = [...new Set(byLane.flat())].sort((a, b) => b - a);
    for (const at of candidates) {
      if (room <= 0) break;
      take(at, room, false);
    }
    return [...taken.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([at, text]) => (text === this.pieces[at].text ? this.pieces[at] : { ...this.pieces[at], text }));
  }
}

/** Characters of the leads of one window per overlap event: the last words of what it continues. */
const LEAD_CHARS_PER_EVENT = 32;
/** Longer than any word of a language: a run of letters this long is cut, never taken whole. */
const LONGEST_WORD = 40;

/**
 * Pure: the last `room` characters of `text`, from the first word that starts inside them (never
 * half a word: "rapist said" of "the therapist said"). When no word starts inside them, the last
 * word whole if it is word-sized (up to LONGEST_WORD characters, past `room`), else the end of
 * that run (one long run without spaces): what the next window continues is read with it either
 * way. Whitespace the text ends with is kept and costs no room. Never a lone surrogate. Linear in
 * `room` and LONGEST_WORD, whatever the text's length.
 */
export function wordTail(text: string, room: number): string {
  if (room <= 0) return '';
  if (text.length <= room) return text;
  let body = text.length;
  while (body > 0 && /\s/.test(text[body - 1])) body--;
  const trailing = text.slice(body);
  if (body === 0) return trailing;
  let cut = Math.max(0, body - room);
  if (cut === 0) return text;
  if (/\s/.test(text[cut - 1])) return text.slice(cut);
  for (let i = cut; i < body; i++) if (/\s/.test(text[i])) return text.slice(i + 1);
  // No word starts inside: the word the cut falls in, whole when word-sized.
  let wordStart = cut;
  while (wordStart > 0 && body - wordStart <= LONGEST_WORD && !/\s/.test(text[wordStart - 1])) wordStart--;
  if (body - wordStart <= LONGEST_WORD && (wordStart === 0 || /\s/.test(text[wordStart - 1]))) return text.slice(wordStart);
  const code = text.charCodeAt(cut);
  if (code >= 0xdc00 && code <= 0xdfff) cut--;
  return text.slice(cut);
}

/**
 * Pure: wordTail for text that is bytes, one character each (UTF-8 read as latin1): only ASCII
 * whitespace separates words (0xA0 is a continuation byte, not a space), a cut never starts inside
 * a character (on a continuation byte), and a word counts up to four bytes a character.
 */
export function bytesTail(text: string, room: number): string {
  if (room <= 0) return '';
  if (text.length <= room) return text;
  const space = (i: number) => ASCII_SPACE.test(text[i]);
  const continuation = (i: number) => i < text.length && (text.charCodeAt(i) & 0xc0) === 0x80;
  let body = text.length;
  while (body > 0 && space(body - 1)) body--;
  const trailing = text.slice(body);
  if (body === 0) return trailing;
  let cut = Math.max(0, body - room);
  if (cut === 0) return text;
  if (space(cut - 1)) return text.slice(cut);
  for (let i = cut; i < body; i++) if (space(i)) return text.slice(i + 1);
  let wordStart = cut;
  const longest = 4 * LONGEST_WORD;
  while (wordStart > 0 && body - wordStart <= longest && !space(wordStart - 1)) wordStart--;
  if (body - wordStart <= longest && (wordStart === 0 || space(wordStart - 1))) return text.slice(wordStart);
  while (continuation(cut)) cut++;
  return text.slice(cut);
}

const ASCII_SPACE = /[ \t\n\r\f\v]/;

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
