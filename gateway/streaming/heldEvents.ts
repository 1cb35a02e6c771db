/**
 * The events a `window` relay holds until the text they carry passed a check, in order. Released
 * from the front by a head index, not `Array.shift()` (O(n) per call on a long array: an engine
 * sending 0.5 MiB of keep-alive comments ahead of its text cost 21 s of CPU), and a run of
 * keep-alives is held as one (they carry nothing a client reads; each still ends up as one comment).
 */
export class HeldEvents<E extends { keepAlive?: boolean }> {
  private items: { event: E; tokenEnd: number }[] = [];
  private head = 0;

  /** `tokenEnd`: the text events the answer had when this event came (it goes out once they passed). */
  push(event: E, tokenEnd: number): void {
    const last = this.items.length > this.head ? this.items[this.items.length - 1] : undefined;
    if (event.keepAlive && last?.event.keepAlive) {
      last.tokenEnd = tokenEnd;
      return;
    }
    this.items.push({ event, tokenEnd });
  }

  /** The held events whose text is within `upTo`, in order; they are no longer held. */
  *releaseUpTo(upTo: number): Generator<{ event: E; tokenEnd: number }> {
    while (this.head < this.items.length && this.items[this.head].tokenEnd <= upTo) {
      const item = this.items[this.head];
      this.head++;
      yield item;
    }
    // Released entries are dropped now and then, so the array does not keep every event of a long answer.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** The events still held, in order. */
  held(): E[] {
    return this.items.slice(this.head).map(({ event }) => event);
  }
}
