import type { ChatTurn, Direction, Guard, ScanText, Verdict } from '../../guards/types';
import { errorVerdict } from '../../guards/types';
import { conversationChars, textsChars, timeoutFor, type TimeoutBudget } from '../../guards/runtime/timeoutBudget';
import { decide } from '../../policies/evaluate';
import type { Rule } from '../../policies/schema';
import { observeGuard } from './runtime/guardHealth';
import { skipsDeliveredAnswers } from './deliveredAnswers';
import type { GuardPhase } from '../record/guardPhase';
import { GuardSpans } from '../telemetry/spans';

export interface PhaseInput {
  direction: Direction;
  rules: Rule[];
  guards: ReadonlyMap<string, Guard>;
  /** Per guard: a fixed timeout (ms), or a budget that grows with the text (guards/runtime/timeoutBudget.ts). */
  timeouts: ReadonlyMap<string, number | TimeoutBudget>;
  texts: ScanText[];
  conversation: ChatTurn[];
  policy: { id: string; version: string };
  signal?: AbortSignal;
  /**
   * The tenant the request came from (its app, and its key: RequestContext.cacheTenant): verdicts
   * are reused within one tenant only. Shared across them, a cache hit (a faster answer,
   * `x-guard-duration-ms`) told one app, or one key of an app, whether another had sent a text.
   */
  tenant?: string;
}

/**
 * Runs every rule's guard in parallel (one run per distinct guard + sources, shared by the rules
 * that ask the same question) and decides. Never throws: a guard that throws or hangs becomes an
 * error verdict that the rule's on_error handles.
 */
export async function runGuardPhase(input: PhaseInput): Promise<GuardPhase> {
  const started = performance.now();
  // A direction without rules (an output check under an input-only policy, guards off) has nothing to run or trace.
  if (input.rules.length === 0) return { decision: decide(input.direction, input.rules, new Map(), input.policy), verdicts: [], durationMs: performance.now() - started };
  const runs = new Map<string, Promise<Verdict>>();
  const spans = new GuardSpans(input.direction);
  const anyDelivered = input.texts.some((t) => t.delivered);
  const ruleRuns = input.rules.map((rule) => {
    const sources = rule.sources ? [...rule.sources].sort() : undefined;
    const skipsDelivered = anyDelivered && skipsDeliveredAnswers(rule);
    const key = `${rule.guard}|${sources?.join(',') ?? '*'}|${rule.score}${skipsDelivered ? '|own' : ''}`;
    let run = runs.get(key);
    if (!run) {
      const texts = input.texts.filter((t) => (!sources || sources.includes(t.source)) && !(skipsDelivered && t.delivered));
      // Started inside its guard span, so a remote guard's traceparent names that span.
      run = spans.run(key, rule.guard, () =>
        checkWithDeadline(input.guards.get(rule.guard), rule.guard, backstopMs(input.timeouts.get(rule.guard), texts, input.conversation), {
          direction: input.direction,
          texts,
          conversation: input.conversation,
          signal: input.signal,
          // Cached verdicts are reused within one policy version and one app only.
          cacheScope: `${input.policy.id}@${input.policy.version}${input.tenant === undefined ? '' : `\u0000${input.tenant}`}`,
          // score: injection reads every selected text as untrusted content (Prompt Guard's injection score).
          ...(rule.score === 'injection' ? { score: 'injection' as const } : {}),
        }),
      );
      runs.set(key, run);
    }
    spans.ruleUses(rule.id, key);
    return run.then((verdict) => ({ ruleId: rule.id, verdict }));
  });
  const verdicts = await Promise.all(ruleRuns);
  const decision = decide(input.direction, input.rules, new Map(verdicts.map((v) => [v.ruleId, v.verdict])), input.policy);
  spans.finish(decision);
  return { decision, verdicts, durationMs: performance.now() - started };
}

/**
 * A rule that scores texts as the client's own writing (Prompt Guard's jailbreak score: no `score:
 * injection`, no `findings`) leaves out the answers the gateway delivered (pipeline/deliveredAnswers.ts).
 */
/** At least the guard's own budget for what it reads: the texts, or each turn and then the whole conversation (the content guard). */
function backstopMs(timeout: number | TimeoutBudget | undefined, texts: readonly ScanText[], conversation: readonly ChatTurn[]): number {
  if (timeout === undefined) return 10_000;
  if (typeof timeout === 'number') return timeout;
  return timeoutFor(timeout, Math.max(textsChars(texts), 2 * conversationChars(conversation)));
}

async function checkWithDeadline(guard: Guard | undefined, name: string, timeoutMs: number, request: Parameters<Guard['check']>[0]): Promise<Verdict> {
  const started = performance.now();
  if (!guard) return errorVerdict(name, 'unknown', { type: 'unavailable', message: `guard ${name} is not loaded` }, 0);
  let timer: NodeJS.Timeout | undefined;
  // The guard enforces its own timeout; this deadline is the backstop for one that never settles.
  const deadline = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve(errorVerdict(name, guard.model, { type: 'timeout', message: `guard did not answer within ${timeoutMs} ms` }, performance.now() - started)), timeoutMs + 250);
  });
  let verdict: Verdict;
  try {
    verdict = await Promise.race([
      guard.check(request).catch((err: unknown) => errorVerdict(name, guard.model, { type: 'model_error', message: (err as Error)?.message ?? String(err) }, performance.now() - started)),
      deadline,
    ]);
  } finally {
    clearTimeout(timer);
  }
  // Readiness counts the guard's own failures; a check cut short by the client's disconnect is neither.
  if (!request.signal?.aborted) observeGuard(guard, verdict);
  return verdict;
}
