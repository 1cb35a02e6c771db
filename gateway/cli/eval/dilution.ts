/**
 * Dilution: does an attack stay detected when benign text surrounds it? Two families of cases,
 * built from the evaluated records themselves (attacks = the selection's positives, padding =
 * its benign texts), so a test-split run pads test attacks with test text only:
 * - padding: N words of benign text before the attack, after it, or both (N per side), beside
 *   the same padding alone (how often the padding itself is flagged: without this control a
 *   rising curve could be the padding's own false positives);
 * - documents: the attack at a random sentence boundary inside a benign document of N words,
 *   beside the same document without it (how often the document alone is flagged).
 * Pure and seeded: the same records give the same cases on every run.
 */
import { auroc } from './metrics';

export type Placement = 'before' | 'after' | 'both';

export interface DilutionCase {
  /** Which family and level, e.g. `padding:before:250` or `document:1000`. */
  group: string;
  attackId: string | null;
  /** The attack's role: the case is checked (and thresholded) as a text of that role. */
  role: string;
  text: string;
  /** True for the attack cases, false for the benign padding or documents alone. */
  positive: boolean;
}

export interface DilutionPlan {
  paddingWords: readonly number[];
  placements: readonly Placement[];
  documentWords: readonly number[];
  /** At most this many attacks (a fixed spread sample). */
  attacks: number;
  seed: number;
}

export const DEFAULT_DILUTION: DilutionPlan = {
  paddingWords: [0, 50, 100, 250, 500],
  placements: ['before', 'after', 'both'],
  documentWords: [250, 1000, 2500],
  attacks: 100,
  seed: 20240601,
};

/** mulberry32: a small seeded generator, so cases do not depend on Math.random. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * An endless stream of benign words in whole-text order: texts are taken in a seeded order and
 * their words joined, so padding reads as ordinary prose or chat, not a word salad.
 */
export class PaddingSource {
  private order: number[];
  private text = 0;
  private word = 0;
  private readonly words: string[][];

  constructor(texts: readonly string[], random: () => number) {
    this.words = texts.map((t) => t.split(/\s+/).filter(Boolean)).filter((w) => w.length > 0);
    if (this.words.length === 0) throw new Error('dilution needs benign texts to pad with');
    this.order = shuffle(
      this.words.map((_, i) => i),
      random,
    );
  }

  take(n: number): string {
    const out: string[] = [];
    while (out.length < n) {
      const w = this.words[this.order[this.text % this.order.length]];
      const need = n - out.length;
      const part = w.slice(this.word, this.word + need);
      out.push(...part);
      this.word += part.length;
      if (this.word >= w.length) {
        this.text++;
        this.word = 0;
      }
    }
    return out.join(' ');
  }
}

export function shuffle<T>(items: T[], random: () => number): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}

export function padAttack(attack: string, before: string, after: string): string {
  return [before, attack, after].filter((s) => s.length > 0).join('\n\n');
}

/** Offsets where a sentence or line starts (0 and the end included). */
export function sentenceBoundaries(text: string): number[] {
  const at = new Set<number>([0, text.length]);
  const re = /\n|(?<=[.!?])\s+/g;
  for (let m = re.exec(text); m; m = re.exec(text)) at.add(m.index + m[0].length);
  return [...at].sort((a, b) => a - b);
}

export function insertAtBoundary(document: string, attack: string, random: () => number): string {
  const cuts = sentenceBoundaries(document);
  const at = cuts[Math.floor(random() * cuts.length)];
  const before = document.slice(0, at).trimEnd();
  const after = document.slice(at).trimStart();
  return [before, attack, after].filter((s) => s.length > 0).join('\n');
}

export function dilutionCases(
  attacks: readonly { id: string; text: string; role: string }[],
  benignTexts: readonly string[],
  plan: DilutionPlan = DEFAULT_DILUTION,
): DilutionCase[] {
  const random = seededRandom(plan.seed);
  const chosen = attacks.slice(0, plan.attacks);
  const pad = new PaddingSource(benignTexts, random);
  const cases: DilutionCase[] = [];
  for (const words of plan.paddingWords) {
    for (const placement of plan.placements) {
      if (words === 0 && placement !== 'both') continue; // one unpadded baseline
      for (const a of chosen) {
        const before = placement === 'after' ? '' : pad.take(words);
        const after = placement === 'before' ? '' : pad.take(words);
        const group = `padding:${words === 0 ? 'none' : placement}:${words}`;
        cases.push({ group, attackId: a.id, role: a.role, text: padAttack(a.text, before, after), positive: true });
        if (words > 0) cases.push({ group, attackId: null, role: a.role, text: padAttack('', before, after), positive: false });
      }
    }
  }
  for (const words of plan.documentWords) {
    for (const a of chosen) {
      const doc = pad.take(words);
      cases.push({ group: `document:${words}`, attackId: a.id, role: a.role, text: insertAtBoundary(doc, a.text, random), positive: true });
      cases.push({ group: `document:${words}`, attackId: null, role: a.role, text: doc, positive: false });
    }
  }
  return cases;
}

export interface DilutionPoint {
  words: number;
  n: number;
  /** Attacks caught at the threshold. */
  detected: number | null;
  /** The benign text alone flagged: the padding without the attack, or the document without it. */
  benign_flagged?: number | null;
  /**
   * How well scores tell the attack with its benign text from the same benign text alone
   * (AUROC, threshold-free): detection that rises only because long benign text is flagged too
   * shows up here as no gain.
   */
  auroc_vs_alone?: number | null;
}

export interface DilutionResult {
  attacks: number;
  /** Detection by padding words per side, for each placement (`none` is the unpadded baseline). */
  padding: Record<string, DilutionPoint[]>;
  documents: DilutionPoint[];
  errors: number;
  /** Where the benign text came from: the selection's own benign rows, or other data (--dilution-padding). */
  padding_from?: string;
  /** Cases whose check by another rule reading them failed (counted as not flagged by it). */
  also_flagged_errors?: number;
}

/**
 * Rates per group from each case's score (null for a case whose check failed) at its role's
 * threshold, or flagged by another rule reading it (`alsoFlagged`, as the gateway blocks: before,
 * only the run's own rule counted, and benign documents padding a user turn read as never flagged
 * while pasted-injection refused 7-17% of them). The AUROC is the run's own score's.
 */
export function summarizeDilution(cases: readonly DilutionCase[], scores: readonly (number | null)[], thresholdOf: (role: string) => number, alsoFlagged: (i: number) => boolean = () => false): DilutionResult {
  const groups = new Map<string, { pos: number; hit: number; neg: number; flagged: number; scored: { score: number; positive: boolean }[] }>();
  let errors = 0;
  cases.forEach((c, i) => {
    const s = scores[i];
    if (s === null) {
      errors++;
      return;
    }
    const g = groups.get(c.group) ?? { pos: 0, hit: 0, neg: 0, flagged: 0, scored: [] };
    g.scored.push({ score: s, positive: c.positive });
    const fired = s >= thresholdOf(c.role) || alsoFlagged(i);
    if (c.positive) {
      g.pos++;
      if (fired) g.hit++;
    } else {
      g.neg++;
      if (fired) g.flagged++;
    }
    groups.set(c.group, g);
  });
  const padding: Record<string, DilutionPoint[]> = {};
  const documents: DilutionPoint[] = [];
  for (const [group, g] of groups) {
    const parts = group.split(':');
    const words = Number(parts[parts.length - 1]);
    const point: DilutionPoint = { words, n: g.pos, detected: g.pos ? g.hit / g.pos : null, benign_flagged: g.neg ? g.flagged / g.neg : null, auroc_vs_alone: g.neg ? auroc(g.scored) : null };
    if (parts[0] === 'document') documents.push(point);
    else (padding[parts[1]] ??= []).push(point);
  }
  // The unpadded baseline starts every placement's curve.
  const base = padding.none?.[0];
  delete padding.none;
  for (const key of Object.keys(padding)) {
    if (base) padding[key].push(base);
    padding[key].sort((a, b) => a.words - b.words);
  }
  documents.sort((a, b) => a.words - b.words);
  const attacks = new Set(cases.filter((c) => c.attackId !== null).map((c) => c.attackId)).size;
  return { attacks, padding, documents, errors };
}
