import type { Decision } from '../../../policies/evaluate';
import type { PolicyFile, Rule } from '../../../policies/schema';
import type { GuardPhase } from '../../record/guardPhase';
import type { ConversationResult } from './runConversation';
import { fmtScore, renderTable } from './table';

/** Pure: a ConversationResult in words: each rule's guard, label and score against its threshold, and the rule that decided. */
export function explainReport(ref: string, file: string, policy: Pick<PolicyFile, 'input' | 'output' | 'guards'>, result: ConversationResult, answerGiven: boolean): string {
  const parts = [`policy ${ref} (${file})\n`];
  parts.push(phaseReport('input', policy, result.input));
  if (result.output) parts.push(phaseReport('output', policy, result.output));
  else parts.push(`\noutput: not checked (${answerGiven ? 'the input was blocked, so the engine would not be called' : 'give --answer TEXT to check an answer'})\n`);
  if (result.fault) {
    const { direction, guards, rules, errorTypes } = result.fault;
    parts.push(`\nfinal: error (503 guard_unavailable: ${guards.join(', ')} failed on ${direction} (${errorTypes.join(', ')}) for rule ${rules.join(', ')}; a guard fault, not a verdict: the gateway answers 503 and records action error)\n`);
  } else {
    parts.push(`\nfinal: ${result.action}${result.action === 'allow' ? '' : ` (${result.deciding.reason})`}\n`);
  }
  if (result.streamed) parts.push(streamedLine(result.streamed));
  return parts.join('');
}

function phaseReport(direction: 'input' | 'output', policy: Pick<PolicyFile, 'input' | 'output' | 'guards'>, phase: GuardPhase): string {
  const rules = policy[direction];
  if (rules.length === 0) return `\n${direction}: no rules\n`;
  const rows = phase.decision.outcomes.map((o) => {
    const rule = rules.find((r) => r.id === o.ruleId);
    const verdict = phase.verdicts.find((v) => v.ruleId === o.ruleId)?.verdict;
    return [
      o.ruleId,
      o.guard,
      textsOf(rule, policy.guards[o.guard]?.type, direction),
      verdict?.label ?? '-',
      fmtScore(o.score),
      o.threshold === undefined ? '-' : fmtScore(o.threshold),
      o.categories.join(',') || '-',
      o.mode,
      o.mode === 'shadow' ? `${o.effective} (would ${o.action})` : o.action,
      o.reason,
    ];
  });
  const table = renderTable(['RULE', 'GUARD', 'TEXTS', 'LABEL', 'SCORE', 'THRESHOLD', 'CATEGORIES', 'MODE', 'ACTION', 'WHY'], rows);
  return `\n${direction}:\n${table}${decisionLine(direction, phase.decision)}`;
}

function decisionLine(direction: string, decision: Decision): string {
  const shadow = decision.shadow.length ? `; shadow: ${decision.shadow.map((s) => `${s.ruleId} would ${s.action}`).join(', ')}` : '';
  const decided = decision.decidingRule ? `${decision.action} by rule ${decision.reason}` : `${decision.action} (${decision.reason})`;
  return `${direction} decision: ${decided}${shadow}\n`;
}

/** What the rule's guard read: Prompt Guard the named sources, Llama Guard the conversation (plus the answer on output). */
function textsOf(rule: Rule | undefined, guardType: string | undefined, direction: 'input' | 'output'): string {
  if (rule?.sources) return rule.sources.join(',');
  if (guardType === 'llama_guard') return direction === 'output' ? 'conversation+answer' : 'conversation';
  return 'all texts';
}

/** The answer as window mode checks a stream of it: a window can block what the whole answer passes. */
function streamedLine(streamed: NonNullable<ConversationResult['streamed']>): string {
  const { phase, window, tokens, wholeAnswer } = streamed;
  const where = window.end ? `the end checks (tokens ${window.from}-${window.to} of ${tokens})` : `the window of tokens ${window.from}-${window.to} of ${tokens}`;
  if (phase.decision.action === 'allow') return `streamed (window mode): allow (every window${wholeAnswer ? ' and the whole answer' : ''} pass${wholeAnswer ? '' : 'es; whole_answer is off, so a stream is never checked whole'})\n`;
  const released = phase.decision.action === 'block' ? `; ${window.released} tokens had reached the client` : '';
  return `streamed (window mode): ${phase.decision.action} at ${where} (${phase.decision.reason})${released}\n`;
}
