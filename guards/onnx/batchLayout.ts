/**
 * How a batch of token-id rows travels to the worker and becomes int64 tensors. The main thread
 * packs the rows end to end into one Int32Array (moved to the worker, not copied); the worker
 * pads them to the longest row.
 */

export interface PackedRows {
  /** Every row's ids, one row after another. */
  ids: Int32Array;
  /** Ids in each row. */
  lengths: Int32Array;
}

export function packRows(rows: readonly (readonly number[])[]): PackedRows {
  let total = 0;
  for (const row of rows) total += row.length;
  const ids = new Int32Array(total);
  const lengths = new Int32Array(rows.length);
  let at = 0;
  rows.forEach((row, r) => {
    lengths[r] = row.length;
    for (let c = 0; c < row.length; c++) ids[at++] = row[c];
  });
  return { ids, lengths };
}

/** Pads packed rows to the longest and lays them out row-major for int64 tensors. */
export function padPacked(ids: Int32Array, lengths: Int32Array, padId: number): { ids: BigInt64Array; mask: BigInt64Array; width: number } {
  let width = 0;
  for (const n of lengths) width = Math.max(width, n);
  const out = new BigInt64Array(lengths.length * width).fill(BigInt(padId));
  const mask = new BigInt64Array(lengths.length * width);
  let at = 0;
  for (let r = 0; r < lengths.length; r++) {
    const base = r * width;
    for (let c = 0; c < lengths[r]; c++) {
      out[base + c] = BigInt(ids[at++]);
      mask[base + c] = 1n;
    }
  }
  return { ids: out, mask, width };
}

/** Pads rows to the longest and lays them out row-major for int64 tensors. */
export function padBatch(rows: readonly number[][], padId: number): { ids: BigInt64Array; mask: BigInt64Array; width: number } {
  const packed = packRows(rows);
  return padPacked(packed.ids, packed.lengths, padId);
}

/**
 * Rows of similar length, for separate runs: a batch padded to its longest row pays for every
 * pad position (and attention grows with the square of the width), so 16 fine windows of 60
 * tokens beside one 512-token segment would cost eight times their size. Rows are taken longest
 * first; a group takes rows down to 3/4 of its width (rows of 32 tokens or less all share one,
 * where a run's fixed cost outweighs the padding). Returns row indices per group.
 */
export function widthGroups(lengths: ArrayLike<number>): number[][] {
  const order = Array.from({ length: lengths.length }, (_, i) => i).sort((a, b) => lengths[b]! - lengths[a]! || a - b);
  const groups: number[][] = [];
  let width = -1;
  for (const r of order) {
    const n = lengths[r]!;
    if (groups.length === 0 || (n < width * 0.75 && width > 32)) {
      groups.push([r]);
      width = n;
    } else {
      groups[groups.length - 1]!.push(r);
    }
  }
  return groups;
}

/** The rows `indices` of a packed batch, packed on their own. */
export function pickRows(ids: Int32Array, lengths: Int32Array, indices: readonly number[]): PackedRows {
  const starts = new Int32Array(lengths.length);
  for (let r = 1; r < lengths.length; r++) starts[r] = starts[r - 1]! + lengths[r - 1]!;
  let total = 0;
  for (const r of indices) total += lengths[r]!;
  const out = new Int32Array(total);
  const outLengths = new Int32Array(indices.length);
  let at = 0;
  indices.forEach((r, k) => {
    outLengths[k] = lengths[r]!;
    out.set(ids.subarray(starts[r]!, starts[r]! + lengths[r]!), at);
    at += lengths[r]!;
  });
  return { ids: out, lengths: outLengths };
}
