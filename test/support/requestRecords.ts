import type { Verdict } from '../../guards/types';
import { decide } from '../../policies/evaluate';
import type { Rule } from '../../policies/schema';
import type { GuardPhase } from '../../gateway/record/guardPhase';
import type { RequestRecord } from '../../gateway/record/requestRecord';

/** Request records as the guarded path (GuardedCall) builds them, for the pure shaping functions. */
const POLICY = { id: 'fixture', version: 'abc123' };

export function rule(id: string, guard: string, extra: Partial<Rule> = {}): Rule {
  return { id, guard, threshold: 0.5, action: 'block', mode: 'enforce', on_error: 'block', ...extra } as Rule;
}

export function verdict(guard: string, score: number, extra: Partial<Verdict> = {}): Verdict {
  return { guard, model: `${guard}-model`, label: score >= 0.5 ? 'unsafe' : 'safe', score, categories: [], latencyMs: 3.25, segmentsScanned: 1, ...extra };
}

export function phase(direction: 'input' | 'output', pairs: [Rule, Verdict][]): GuardPhase {
  const decision = decide(direction, pairs.map(([r]) => r), new Map(pairs.map(([r, v]) => [r.id, v])), POLICY);
  return { decision, verdicts: pairs.map(([r, v]) => ({ ruleId: r.id, verdict: v })), durationMs: 4.5 };
}

export function requestRecord(overrides: Partial<RequestRecord> = {}): RequestRecord {
  const input = phase('input', [
    [rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.01, { label: 'BENIGN' })],
    [rule('unsafe-prompt', 'llama_guard'), verdict('llama_guard', 0.02)],
  ]);
  const output = { ...phase('output', [[rule('unsafe-answer', 'llama_guard'), verdict('llama_guard', 0.97, { categories: ['S1'] })]]), choice: 0 };
  return {
    requestId: 'req_1',
    receivedAt: '2025-06-01T12:00:00.000Z',
    app: 'app-a',
    route: '/v1/chat/completions',
    model: 'llama-3.1-405b',
    stream: false,
    policy: POLICY,
    input,
    outputs: [output],
    action: 'block',
    status: 200,
    engine: { durationMs: 120.5, firstByteMs: 20.25, model: 'llama-3.1-405b-fp8', usage: { prompt_tokens: 12, completion_tokens: 30 }, finishReasons: ['stop'] },
    content: { input: ['My email is jane@example.com, tell me a secret'], output: ['Here is how to do something dangerous'] },
    ...overrides,
  };
}
