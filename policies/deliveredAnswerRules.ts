import type { Rule } from './schema';

/**
 * Whether a rule leaves out the answers this gateway delivered when a client sends them back as
 * assistant turns (gateway/pipeline/deliveredAnswers.ts, runRules.ts): every rule but those that
 * read them for injection (`score: injection`) or for findings. Here, beside the schema, because
 * both the gateway (which texts a rule reads) and the policy check (which rule can pre-empt which,
 * semantics.ts) need the same answer.
 */
export function skipsDeliveredAnswers(rule: Pick<Rule, 'score' | 'findings'>): boolean {
  return rule.score !== 'injection' && !(rule.findings && rule.findings.length > 0);
}
