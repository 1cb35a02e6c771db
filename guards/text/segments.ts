/**
 * Whole-input scanning: a text's tokens are cut into consecutive chunks that each fit the
 * model's window once the frame ([CLS] ... [SEP], plus any template tokens) is added. Every
 * chunk is scored and the text's score is the max, so nothing after token 512 goes unseen
 * (LlamaFirewall and Llama Stack score only the first window, which is a bypass).
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

/** Consecutive, non-overlapping chunks; an empty text has no segments. */
export function buildSegments(ids: readonly number[], layout: SegmentLayout): number[][] {
  const capacity = chunkCapacity(layout);
  const segments: number[][] = [];
  for (let start = 0; start < ids.length; start += capacity) {
    segments.push([...layout.prefix, ...ids.slice(start, start + capacity), ...layout.suffix]);
  }
  return segments;
}
