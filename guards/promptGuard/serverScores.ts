/**
 * What a classification server answered for each input, before labels are put in order: TEI
 * names every label, vLLM gives a vector in id2label order and names only the top label.
 * `labelOrder` turns either into the id2label list that scoring.ts reads (detectVariant).
 */

export interface ServerRow {
  /** Logits by label name (TEI). */
  byLabel?: Map<string, number>;
  /** Logits in the model's id2label order (vLLM). */
  byIndex?: number[];
  /** The server's name for the highest class, when it sends one (vLLM). */
  topLabel?: string;
}

export type ServerScores = { ok: true; rows: ServerRow[] } | { ok: false; error: string };

/**
 * Each value a probability and the row summing to 1 within the rounding of the model's dtype: vLLM
 * takes the softmax in float32 and casts it back, and bfloat16 keeps 8 bits of mantissa (each value
 * off by up to 2^-8 of itself), so [0.6, 0.4] arrives as [0.6015625, 0.400390625].
 */
export function isDistribution(values: readonly number[]): boolean {
  if (!values.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)) return false;
  return Math.abs(values.reduce((a, b) => a + b, 0) - 1) <= 0.01;
}

const V1 = ['BENIGN', 'INJECTION', 'JAILBREAK'];
const V2 = ['BENIGN', 'MALICIOUS'];

/**
 * The model's labels in id2label order: the policy's `labels` when set; else from TEI's label
 * names (Prompt Guard 1's three, or two where one is BENIGN or they are LABEL_0 / LABEL_1);
 * else, for vLLM, Meta's id2label by class count. Throws with what to set when it cannot tell.
 */
export function labelOrder(row: ServerRow, configured: readonly string[] | undefined): string[] {
  if (configured) return [...configured];
  if (row.byLabel) {
    const names = [...row.byLabel.keys()];
    const upper = names.map((n) => n.toUpperCase());
    if (names.length === 3 && V1.every((l) => upper.includes(l))) return V1.map((l) => names[upper.indexOf(l)]!);
    if (names.length === 2) {
      if (upper.includes('LABEL_0') && upper.includes('LABEL_1')) return ['LABEL_0', 'LABEL_1'].map((l) => names[upper.indexOf(l)]!);
      const benign = upper.indexOf('BENIGN');
      if (benign >= 0) return [names[benign]!, names[1 - benign]!];
    }
    throw new Error(`the server's labels (${names.join(', ')}) are not Prompt Guard's; set \`labels\` (the model's id2label in index order) on this guard`);
  }
  const n = row.byIndex?.length ?? 0;
  if (n === 3) return [...V1];
  if (n === 2) return [...V2];
  throw new Error(`the server returned ${n} classes; Prompt Guard has 3 (v1) or 2 (v2). Set \`labels\` on this guard if this model is one`);
}

/** The row's logits in `labels` order; throws when the server's answer does not fit those labels. */
export function orderedLogits(row: ServerRow, labels: readonly string[]): number[] {
  if (row.byLabel) {
    // A model exported without label names answers LABEL_0, LABEL_1, ...: index i is labels[i].
    return labels.map((l, i) => {
      const v = row.byLabel!.get(l) ?? row.byLabel!.get(`LABEL_${i}`);
      if (v === undefined) throw new Error(`the server's answer has no label ${l} (it has ${[...row.byLabel!.keys()].join(', ')}); check \`labels\``);
      return v;
    });
  }
  const values = row.byIndex ?? [];
  if (values.length !== labels.length) throw new Error(`the server returned ${values.length} classes for ${labels.length} labels (${labels.join(', ')}); check \`labels\``);
  if (row.topLabel !== undefined) {
    let top = 0;
    for (let i = 1; i < values.length; i++) if (values[i]! > values[top]!) top = i;
    // The server names its top class: it must be the one these labels put there.
    const named = row.topLabel.toUpperCase();
    if (named !== labels[top]!.toUpperCase() && named !== `LABEL_${top}`) {
      throw new Error(`the server calls its top class ${row.topLabel}, which is ${labels[top]} in the labels assumed here (${labels.join(', ')}); set \`labels\` to the model's id2label`);
    }
  }
  return values;
}
