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
