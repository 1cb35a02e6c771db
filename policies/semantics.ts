import { skipsDeliveredAnswers } from './deliveredAnswerRules';
import { didYouMean } from './didYouMean';
import { expandFindings } from './evaluate';
import type { PathSegment } from './problems';
import type { Action, GuardSpec, LlamaGuardSpec, PolicyFile, Rule } from './schema';
import { GUARDED_ROUTES, guardedRouteCoveredBy } from './guardedRoutes';

/** Problems the schema alone cannot see: references between parts of the file. Pure. */
export interface SemanticProblem {
  path: PathSegment[];
  message: string;
  /** `key`: point at the mapping key (e.g. a category code) rather than its value. */
  at?: 'key';
}

type Direction = 'input' | 'output';

const SEVERITY: Record<Action, number> = { allow: 0, flag: 1, block: 2 };

/** Top-level members every request of a guarded route carries, by the route(s) that need them. */
const REQUIRED_FIELDS: ReadonlyMap<string, string> = new Map([
  ['model', 'every guarded route'],
  ['messages', '/v1/chat/completions'],
  ['prompt', '/v1/completions'],
  ['input', '/v1/responses'],
]);

/** The categories a Llama Guard spec knows: its custom ones, else the standard set of its prompt. */
export function knownCategories(spec: LlamaGuardSpec): string[] {
  if (spec.categories) return Object.keys(spec.categories);
  // The bundled encoder is trained on S1..S14; the 1b prompt stops at S13 (no code interpreter abuse).
  const count = spec.backend !== 'encoder' && spec.prompt_variant === '1b' ? 13 : 14;
  return Array.from({ length: count }, (_, i) => `S${i + 1}`);
}

export function semanticProblems(policy: PolicyFile): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  for (const [name, spec] of Object.entries(policy.guards)) problems.push(...guardProblems(name, spec));
  const ruleIds = new Set<string>();
  for (const direction of ['input', 'output'] as const) {
    policy[direction].forEach((rule, index) => {
      const at = [direction, index];
      if (ruleIds.has(rule.id)) problems.push({ path: [...at, 'id'], message: `rule id \`${rule.id}\` is used twice; ids must be unique across input and output` });
      ruleIds.add(rule.id);
      problems.push(...ruleProblems(policy, rule, direction, at));
    });
    problems.push(...unreachableRules(policy[direction], direction, policy.guards));
  }
  policy.routes.passthrough.forEach((route, i) => {
    // Listing one would promise something that never happens: the gateway never forwards them.
    const guarded = guardedRouteCoveredBy(route);
    if (guarded) {
      problems.push({ path: ['routes', 'passthrough', i], message: `\`${route}\` covers the guarded route ${guarded} (guarded: ${GUARDED_ROUTES.join(', ')}, any case, and their sub-paths), which always goes through the guards; list other routes only` });
    }
  });
  policy.request_fields.refuse.forEach((field, i) => {
    // Refusing what a request is made of would refuse every request of its route.
    if (REQUIRED_FIELDS.has(field)) {
      problems.push({ path: ['request_fields', 'refuse', i], message: `\`${field}\` is part of every request of its route (${REQUIRED_FIELDS.get(field)}): refusing it refuses them all; to turn a route off, give its apps another policy or no key` });
    }
  });
  policy.request_fields.allow.forEach((field, i) => {
    if (policy.request_fields.refuse.includes(field)) {
      problems.push({ path: ['request_fields', 'allow', i], message: `\`${field}\` is both refused and allowed; remove it from one of request_fields.refuse and request_fields.allow` });
    }
  });
  problems.push(...testProblems(policy));
  return problems;
}

/** A Llama Guard's fields its backend would refuse or ignore (mirrored for editors by LlamaGuardSpec's JSON Schema `allOf`). */
function guardProblems(name: string, spec: GuardSpec): SemanticProblem[] {
  if (spec.type !== 'llama_guard') return [];
  const problems: SemanticProblem[] = [];
  const at = ['guards', name];
  if (spec.backend === 'openai') {
    if (!spec.base_url) problems.push({ path: [...at, 'base_url'], message: `guard \`${name}\` uses backend openai and needs \`base_url\` (the server's URL including /v1)` });
    // The gateway refuses this at load (guards/llamaGuard/remote.ts resolveMode): say so here, where CI checks.
    if (spec.mode === 'chat' && (spec.categories !== undefined || spec.excluded_categories.length > 0)) {
      problems.push({ path: [...at, 'mode'], message: `mode chat cannot carry custom categories or exclusions (the server applies its own template); use mode completions or leave mode unset` });
    }
    // The gateway sends its own rendered prompt only in completions mode (set, or implied by custom categories or exclusions).
    const completions = spec.mode === 'completions' || (spec.mode === undefined && (spec.categories !== undefined || spec.excluded_categories.length > 0));
    if (spec.server_adds_bos !== undefined && !completions) {
      problems.push({ path: [...at, 'server_adds_bos'], message: '`server_adds_bos` applies to mode completions only (in chat mode the server renders the prompt, BOS included); add `mode: completions`' });
    }
  } else {
    for (const field of ['base_url', 'api_key_env', 'mode', 'server_adds_bos'] as const) {
      if (spec[field] !== undefined) problems.push({ path: [...at, field], message: `\`${field}\` applies to backend openai only; guard \`${name}\` uses backend ${spec.backend}` });
    }
  }
  // Fields a backend would ignore: a policy that sets one thinks it changed something it did not.
  const ignored: [keyof typeof spec, boolean, string][] = [
    ['variant', spec.backend === 'openai', 'backend encoder or onnx (an ONNX file variant)'],
    ['fine_window_tokens', spec.backend !== 'encoder', 'backend encoder (the Llama Guard 3 decoder reads each text whole)'],
    ['prompt_variant', spec.backend === 'encoder', 'backend onnx or openai (the encoder has no prompt)'],
  ];
  for (const [field, ignoredHere, where] of ignored) {
    if (ignoredHere && spec[field] !== undefined) problems.push({ path: [...at, field], message: `\`${field}\` applies to ${where}; guard \`${name}\` uses backend ${spec.backend}` });
  }
  if (spec.backend === 'encoder' && spec.categories) {
    problems.push({ path: [...at, 'categories'], message: 'custom categories need a Llama Guard 3 prompt (backend onnx or openai); the encoder backend is trained on the fixed S1..S14' });
  }
  const known = knownCategories(spec);
  spec.excluded_categories.forEach((code, i) => {
    if (!known.includes(code)) problems.push({ path: [...at, 'excluded_categories', i], message: `unknown category \`${code}\`${didYouMean(code, known)}; known: ${known.join(', ')}` });
  });
  return problems;
}

function ruleProblems(policy: PolicyFile, rule: Rule, direction: Direction, at: PathSegment[]): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const spec = Object.hasOwn(policy.guards, rule.guard) ? policy.guards[rule.guard] : undefined;
  if (!spec) {
    const known = Object.keys(policy.guards);
    problems.push({ path: [...at, 'guard'], message: `unknown guard \`${rule.guard}\`${didYouMean(rule.guard, known)}; defined guards: ${known.length ? known.join(', ') : '(none)'}` });
    return problems;
  }
  if (spec.type === 'prompt_guard' && direction === 'output') {
    problems.push({ path: [...at, 'guard'], message: 'prompt_guard checks inputs; output rules need a llama_guard guard' });
  }
  if (spec.type === 'llama_guard' && rule.score !== 'auto') {
    problems.push({ path: [...at, 'score'], message: '`score` applies to prompt_guard rules; llama_guard scores the conversation' });
  }
  if (spec.type === 'llama_guard' && rule.sources) {
    problems.push({ path: [...at, 'sources'], message: '`sources` applies to prompt_guard rules; llama_guard reads the whole conversation' });
  }
  if (rule.categories) {
    if (spec.type !== 'llama_guard') {
      problems.push({ path: [...at, 'categories'], message: 'per-category actions apply to llama_guard rules only' });
    } else {
      const known = knownCategories(spec);
      for (const code of Object.keys(rule.categories)) {
        if (!known.includes(code)) {
          problems.push({ path: [...at, 'categories', code], at: 'key', message: `unknown category \`${code}\`${didYouMean(code, known)}; guard \`${rule.guard}\` knows: ${known.join(', ')}` });
        } else if (spec.excluded_categories.includes(code)) {
          problems.push({ path: [...at, 'categories', code], at: 'key', message: `category \`${code}\` is excluded by guard \`${rule.guard}\` (excluded_categories), so this entry can never apply` });
        }
      }
    }
  }
  return problems;
}

/**
 * A rule is unreachable when another enforced rule on the same guard, scanning at least the same
 * texts, always fires first at least as severely: with a threshold at or below this rule's, no
 * per-category exceptions, and an on_error at least as strict. Such a rule can never decide, which
 * is almost always a mistake in the thresholds. Shadow rules are exempt: they exist to be recorded.
 */
function unreachableRules(rules: Rule[], direction: Direction, guards: PolicyFile['guards']): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  rules.forEach((rule, index) => {
    if (rule.mode !== 'enforce') return;
    const worst = Math.max(SEVERITY[rule.action], ...Object.values(rule.categories ?? {}).map((a) => SEVERITY[a]));
    const cover = rules.find((other, j) => {
      if (j === index || other.mode !== 'enforce' || other.categories || other.guard !== rule.guard || other.score !== rule.score) return false;
      if (!coversSources(other.sources, rule.sources) || !coversFindings(other, rule)) return false;
      if (SEVERITY[other.on_error] < SEVERITY[rule.on_error]) return false;
      if (direction === 'input' && readsDeliveredAnswersOnly(other, rule, guards)) return false;
      const severity = SEVERITY[other.action];
      // Equal severity: the earlier rule is named as the deciding one, so only an earlier rule covers.
      return severity > worst || (severity === worst && j < index);
    });
    if (cover) {
      problems.push({
        path: [direction, index],
        message: `unreachable rule \`${rule.id}\`: rule \`${cover.id}\` on the same guard and texts fires at threshold ${cover.threshold ?? 0} <= ${rule.threshold ?? 0}${cover.findings ? ` (findings: ${cover.findings.join(', ')})` : ''} with \`${cover.action}\`, so this rule never decides; change its threshold or action, remove it, or set mode: shadow`,
      });
    }
  });
  return problems;
}

/**
 * Whether `inner` reads assistant turns that `outer` leaves out: a Prompt Guard rule scoring
 * jailbreaks without findings skips the answers this gateway delivered when a client sends them
 * back (deliveredAnswerRules.ts), while a findings or injection-score rule reads them; on those
 * turns the inner rule still decides.
 */
function readsDeliveredAnswersOnly(outer: Rule, inner: Rule, guards: PolicyFile['guards']): boolean {
  const skips = skipsDeliveredAnswers;
  const isPromptGuard = Object.hasOwn(guards, outer.guard) && guards[outer.guard]!.type === 'prompt_guard';
  return isPromptGuard && skips(outer) && !skips(inner) && (!inner.sources || inner.sources.includes('assistant'));
}

/**
 * Whether `outer` fires whenever `inner` does as far as findings and score go: a rule without
 * findings covers any; one with findings only a rule whose findings are among its own; and its
 * threshold (none: any score) is at or below the inner one's.
 */
function coversFindings(outer: Rule, inner: Rule): boolean {
  if (outer.findings) {
    if (!inner.findings) return false;
    const own = expandFindings(outer.findings);
    if (![...expandFindings(inner.findings)].every((f) => own.has(f))) return false;
  }
  return (outer.threshold ?? 0) <= (inner.threshold ?? 0);
}

function coversSources(outer: Rule['sources'], inner: Rule['sources']): boolean {
  if (!outer) return true;
  if (!inner) return false;
  return inner.every((s) => outer.includes(s));
}

function testProblems(policy: PolicyFile): SemanticProblem[] {
  const problems: SemanticProblem[] = [];
  const rules = [...policy.input, ...policy.output];
  const ruleIds = rules.map((r) => r.id);
  const shadowIds = rules.filter((r) => r.mode === 'shadow').map((r) => r.id);
  policy.tests.forEach((test, i) => {
    const at = ['tests', i];
    if ((test.prompt === undefined) === (test.conversation === undefined)) {
      problems.push({ path: at, message: `test \`${test.name}\` needs exactly one of \`prompt\` or \`conversation\`` });
    }
    if (test.rule !== undefined && !ruleIds.includes(test.rule)) {
      problems.push({ path: [...at, 'rule'], message: `unknown rule \`${test.rule}\`${didYouMean(test.rule, ruleIds)}; rules: ${ruleIds.join(', ') || '(none)'}` });
    }
    test.shadow?.forEach((id, j) => {
      if (!shadowIds.includes(id)) {
        problems.push({ path: [...at, 'shadow', j], message: `\`${id}\` is not a shadow-mode rule${didYouMean(id, shadowIds)}; shadow rules: ${shadowIds.join(', ') || '(none)'}` });
      }
    });
  });
  return problems;
}
