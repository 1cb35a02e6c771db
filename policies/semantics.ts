import type { PolicyFile, Rule } from './schema';

/** Problems the schema alone cannot see: references between parts of the file. Pure. */
export interface SemanticProblem {
  path: (string | number)[];
  message: string;
}

const DEFAULT_CATEGORIES = Array.from({ length: 14 }, (_, i) => `S${i + 1}`);

export function semanticProblems(policy: PolicyFile): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const ruleIds = new Set<string>();
  for (const direction of ['input', 'output'] as const) {
    policy[direction].forEach((rule, index) => {
      const at = [direction, index];
      if (ruleIds.has(rule.id)) problems.push({ path: [...at, 'id'], message: `rule id \`${rule.id}\` is used twice; ids must be unique` });
      ruleIds.add(rule.id);
      problems.push(...ruleProblems(policy, rule, direction, at));
    });
  }
  for (const [name, spec] of Object.entries(policy.guards)) {
    if (spec.type === 'llama_guard' && spec.backend === 'openai' && !spec.base_url) {
      problems.push({ path: ['guards', name, 'base_url'], message: `guard \`${name}\` uses backend openai and needs \`base_url\` (the server's URL including /v1)` });
    }
  }
  return problems;
}

function ruleProblems(policy: PolicyFile, rule: Rule, direction: 'input' | 'output', at: (string | number)[]): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const spec = policy.guards[rule.guard];
  if (!spec) {
    const known = Object.keys(policy.guards);
    problems.push({ path: [...at, 'guard'], message: `unknown guard \`${rule.guard}\`; defined guards: ${known.length ? known.join(', ') : '(none)'}` });
    return problems;
  }
  if (spec.type === 'prompt_guard' && direction === 'output') {
    problems.push({ path: [...at, 'guard'], message: `prompt_guard checks inputs; output rules need a llama_guard guard` });
  }
  if (spec.type === 'llama_guard' && rule.sources) {
    problems.push({ path: [...at, 'sources'], message: '`sources` applies to prompt_guard rules; llama_guard reads the conversation' });
  }
  if (rule.categories) {
    if (spec.type !== 'llama_guard') {
      problems.push({ path: [...at, 'categories'], message: 'per-category actions apply to llama_guard rules only' });
    } else {
      const known = spec.categories ? Object.keys(spec.categories) : DEFAULT_CATEGORIES;
      for (const code of Object.keys(rule.categories)) {
        if (!known.includes(code)) problems.push({ path: [...at, 'categories', code], message: `unknown category \`${code}\`; known: ${known.join(', ')}` });
      }
    }
  }
  return problems;
}
