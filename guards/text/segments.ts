/**
 * Whole-input scanning: a text's tokens are cut into chunks that each fit the model's window
 * once the frame ([CLS] ... [SEP], plus any template tokens) is added. Every chunk is scored and
 * the text's score is the max, so nothing after token 512 goes unseen (LlamaFirewall and Llama
 * Stack score only the first window, which is a bypass). Chunks of a text longer than one
 * window start every half window, so an attack that straddles a boundary is whole in one of
 * them (guards/training/train_common.py segment_starts mirrors this).
 */

export interface SegmentLayout {
  /** Window length of the model, special tokens included. */
  maxLength: number;
  /** Ids before each chunk: [CLS] and any template prefix (e.g. "User:"). */
  prefix: readonly number[];
  /** Ids after each chunk: any template suffix and [SEP]. */
  suffix: readonly number[];
}

export function chunkCapacity(layout: SegmentLayout): number {
  const capacity = layout.maxLength - layout.prefix.length - layout.suffix.length;
  if (capacity < 1) {
    throw new Error(`segment frame (${layout.prefix.length + layout.suffix.length} tokens) leaves no room for text in a ${layout.maxLength}-token window`);
  }
  return capacity;
}

/** Chunk starts: [0] when the text fits, else every capacity/2 tokens until a chunk reaches the end. */
export function segmentStarts(length: number, capacity: number): number[] {
  if (length <= capacity) return [0];
  const stride = Math.max(1, Math.floor(capacity / 2));
  const starts: number[] = [];
  for (let start = 0; ; start += stride) {
    starts.push(start);
    if (start + capacity >= length) return starts;
  }
}

/** Half-overlapping chunks, framed; an empty text has no segments. */
export function buildSegments(ids: readonly number[], layout: SegmentLayout): number[][] {
  const capacity = chunkCapacity(layout);
  if (ids.length === 0) return [];
  return segmentStarts(ids.length, capacity).map((start) => [...layout.prefix, ...ids.slice(start, start + capacity), ...layout.suffix]);
}
