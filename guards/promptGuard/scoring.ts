/**
 * Prompt Guard scoring as Meta's reference code does it (llama-cookbook prompt_guard scripts,
 * LlamaFirewall promptguard_utils): probabilities = softmax(logits / T), then
 *  - v1 (labels BENIGN, INJECTION, JAILBREAK): a user's own text is scored for jailbreaks,
 *    p[JAILBREAK]; third-party text (tool results, documents, ...) for indirect injection,
 *    p[INJECTION] + p[JAILBREAK];
 *  - v2 (two labels): p[malicious], whatever the source: index 1 as Meta's id2label has it, or the
 *    label that is not BENIGN (or is MALICIOUS) where the model names its classes.
 * The variant comes from config.json's id2label, never from an operator flag.
 *
 * Labels (a choice of this project; Meta defines scores, not labels): a text is labelled with
 * what its score measures when the score is >= 0.5 (JAILBREAK for user text, INJECTION for
 * third-party text, MALICIOUS for v2), BENIGN otherwise. The policy decides on the score with
 * its own thresholds (Meta's public code blocks at 0.9); the label is for people reading logs.
 */
import { isThirdPartySource, type TextSource } from '../types';

export type PromptGuardVariant =
  | { version: 1; benign: number; injection: number; jailbreak: number }
  | { version: 2; malicious: number };

/** What a text's score measures. */
export type ScoreKind = 'jailbreak' | 'injection' | 'malicious';

export const LABEL_THRESHOLD = 0.5;

export function detectVariant(labels: readonly string[], file = 'config.json'): PromptGuardVariant {
  const upper = labels.map((l) => l.toUpperCase());
  if (labels.length === 3) {
    const benign = upper.indexOf('BENIGN');
    const injection = upper.indexOf('INJECTION');
    const jailbreak = upper.indexOf('JAILBREAK');
    if (benign >= 0 && injection >= 0 && jailbreak >= 0) return { version: 1, benign, injection, jailbreak };
    throw new Error(
      `${file} id2label has 3 labels (${labels.join(', ')}) but Prompt Guard 1 needs BENIGN, INJECTION and JAILBREAK. Is this a Prompt Guard model?`,
    );
  }
  if (labels.length === 2) {
    // Meta's Prompt Guard 2 puts the malicious class at index 1 (LABEL_1); a model that names its
    // classes is read by name, so id2label {0: MALICIOUS, 1: BENIGN} is not scored backwards.
    const benign = upper.indexOf('BENIGN');
    if (benign >= 0) return { version: 2, malicious: 1 - benign };
    const malicious = upper.indexOf('MALICIOUS');
    return { version: 2, malicious: malicious >= 0 ? malicious : 1 };
  }
  throw new Error(
    `${file} id2label has ${labels.length} labels (${labels.join(', ')}); Prompt Guard 1 has 3 (BENIGN, INJECTION, JAILBREAK) and Prompt Guard 2 has 2 (index 1 malicious).`,
  );
}

/**
 * A user (or the app's own system prompt, or an earlier answer) writing instructions is normal;
 * the same instructions inside a tool result, document or tool schema are an injection.
 */
export function scoreKindFor(variant: PromptGuardVariant, source: TextSource, score?: 'injection'): ScoreKind {
  if (variant.version === 2) return 'malicious';
  return score === 'injection' || isThirdPartySource(source) ? 'injection' : 'jailbreak';
}

export function scoreFromProbabilities(variant: PromptGuardVariant, kind: ScoreKind, p: readonly number[]): number {
  if (variant.version === 2) return p[variant.malicious];
  const score = kind === 'jailbreak' ? p[variant.jailbreak] : p[variant.injection] + p[variant.jailbreak];
  // The sum can exceed 1 by a rounding error; a score is a probability.
  return Math.min(1, Math.max(0, score));
}

export function labelFor(kind: ScoreKind, score: number): string {
  if (score < LABEL_THRESHOLD) return 'BENIGN';
  return kind === 'jailbreak' ? 'JAILBREAK' : kind === 'injection' ? 'INJECTION' : 'MALICIOUS';
}
