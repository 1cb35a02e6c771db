import { parseConversation } from '../../../gateway/cli/policy/explainCommand';
import { judgeCase } from '../../../gateway/cli/policy/judgeCase';
import type { ConversationResult } from '../../../gateway/cli/policy/runConversation';
import { renderTable } from '../../../gateway/cli/policy/table';
import type { Verdict } from '../../../guards/types';
import { decide } from '../../../policies/evaluate';
import { Rule, TestCase } from '../../../policies/schema';

const policy = { id: 'p', version: 'v' };
const verdict = (score: number, categories: string[] = []): Verdict => ({ guard: 'g', model: 'm', label: 'x', score, categories, latencyMs: 1, segmentsScanned: 1 });
const rules = [Rule.parse({ id: 'jb', guard: 'g', threshold: 0.9 }), Rule.parse({ id: 'new', guard: 'g', threshold: 0.5, mode: 'shadow' })];

function result(score: number, outputScore?: number): ConversationResult {
  const input = decide('input', rules, new Map([['jb', verdict(score)], ['new', verdict(score)]]), policy);
  const output = outputScore === undefined ? undefined : decide('output', [Rule.parse({ id: 'ans', guard: 'g', threshold: 0.5 })], new Map([['ans', verdict(outputScore)]]), policy);
  const action = output && output.action === 'block' ? 'block' : input.action;
  return {
    input: { decision: input, verdicts: [], durationMs: 0 },
    output: output && { decision: output, verdicts: [], durationMs: 0 },
    action,
    deciding: output && output.action === 'block' && input.action !== 'block' ? output : input,
  };
}

describe('judgeCase', () => {
  test('passes when the action, deciding rule and shadow rules match', () => {
    const test = TestCase.parse({ name: 't', prompt: 'x', expect: 'block', rule: 'jb', shadow: ['new'] });
    expect(judgeCase(test, result(0.95))).toMatchObject({ passed: true, actual: 'block', rule: 'jb', detail: 'jb: score 0.95 >= threshold 0.9' });
  });

  test('says every way a case failed', () => {
    const test = TestCase.parse({ name: 't', prompt: 'x', expect: 'block', rule: 'jb', shadow: [] });
    expect(judgeCase(test, result(0.6))).toMatchObject({
      passed: false,
      actual: 'allow',
      detail: 'expected block, got allow; expected rule jb to decide, got none; expected shadow [], got [new]',
    });
  });

  test('a guard that failed fails the case, whatever its on_error decided', () => {
    const failed = { ...verdict(0), error: { type: 'unavailable' as const, message: 'connection refused' } };
    const input = decide('input', [Rule.parse({ id: 'jb', guard: 'g', threshold: 0.9 })], new Map([['jb', failed]]), policy);
    const broken: ConversationResult = { input: { decision: input, verdicts: [], durationMs: 0 }, action: input.action, deciding: input };
    expect(input.action).toBe('block'); // on_error: block
    expect(judgeCase(TestCase.parse({ name: 't', prompt: 'x', expect: 'block' }), broken)).toMatchObject({ passed: false, detail: 'guard g failed (unavailable) in rule jb: no verdict' });
  });

  test("a shadow rule whose guard failed fails the case: its on_error 'firing' says nothing about the rule", () => {
    const failed = { ...verdict(0), error: { type: 'timeout' as const, message: 'slow' } };
    const input = decide('input', rules, new Map([['jb', verdict(0.1)], ['new', failed]]), policy);
    const run: ConversationResult = { input: { decision: input, verdicts: [], durationMs: 0 }, action: input.action, deciding: input };
    const outcome = judgeCase(TestCase.parse({ name: 't', prompt: 'x', expect: 'allow', shadow: ['new'] }), run);
    expect(outcome).toMatchObject({ passed: false });
    expect(outcome.detail).toContain('guard g failed (timeout) in rule new: no verdict');
  });

  test('streamed (window mode): the input decision counts with the windows, so an input flag holds streamed too; a window block decides over it', () => {
    const flagRules = [Rule.parse({ id: 'jb', guard: 'g', threshold: 0.9, action: 'flag' })];
    const input = decide('input', flagRules, new Map([['jb', verdict(0.95)]]), policy);
    const windows = (score: number) => decide('output', [Rule.parse({ id: 'ans', guard: 'g', threshold: 0.5 })], new Map([['ans', verdict(score)]]), policy);
    const run = (score: number): ConversationResult => ({
      input: { decision: input, verdicts: [], durationMs: 0 },
      output: { decision: windows(0.1), verdicts: [], durationMs: 0 },
      action: 'flag',
      deciding: input,
      streamed: { phase: { decision: windows(score), verdicts: [], durationMs: 0 }, window: { from: 0, to: 4, released: 0, end: false }, tokens: 8, wholeAnswer: true },
    });
    const flagged = TestCase.parse({ name: 't', prompt: 'x', answer: 'y', expect: 'flag', rule: 'jb' });
    expect(judgeCase(flagged, run(0.1))).toMatchObject({ passed: true, actual: 'flag' });
    expect(judgeCase(flagged, run(0.9))).toMatchObject({ passed: false, actual: 'flag (streamed: block)', detail: expect.stringContaining('streamed (window mode): expected flag, got block at tokens 0-4 of 8') });
  });

  test('an output block decides when the input allowed', () => {
    const test = TestCase.parse({ name: 't', prompt: 'x', answer: 'y', expect: 'block', rule: 'ans' });
    expect(judgeCase(test, result(0.1, 0.9))).toMatchObject({ passed: true, rule: 'ans' });
  });
});

test('renderTable aligns columns and leaves the last one unpadded', () => {
  expect(renderTable(['A', 'LONGER'], [['xx', 'y'], ['x', 'yyyyyyy']])).toBe('A   LONGER\nxx  y\nx   yyyyyyy\n');
});

test('parseConversation takes a JSON list of messages and says what is wrong otherwise', () => {
  expect(parseConversation('[{"role":"user","content":"hi"}]')).toEqual([{ role: 'user', content: 'hi' }]);
  expect(parseConversation('[{role:user}]')).toMatch(/not valid JSON/);
  expect(parseConversation('[{"role":"wizard","content":"x"}]')).toMatch(/^0\.role: /);
  expect(parseConversation('[]')).toMatch(/the list/);
});

describe('policy check: what would keep the gateway from starting here', () => {
  const { deploymentWarnings } = require('../../../gateway/cli/policy/checkCommand') as typeof import('../../../gateway/cli/policy/checkCommand');
  const fixture = require('node:path').join(__dirname, '../../fixtures/models/prompt-guard-v1-tiny') as string;
  test('a local model without its config.json, and an unset api_key_env, are warned about; a present model and a set key are not', () => {
    const guards = {
      here: { type: 'prompt_guard', model: fixture },
      missing: { type: 'prompt_guard', model: '/nonexistent/model' },
      keyed: { type: 'llama_guard', backend: 'openai', model: 'm', base_url: 'http://x/v1', api_key_env: 'SG_CHECK_KEY' },
    } as unknown as Parameters<typeof deploymentWarnings>[0];
    expect(deploymentWarnings(guards, {})).toEqual([
      expect.stringMatching(/^guard missing: no model at \/nonexistent\/model/),
      expect.stringMatching(/^guard keyed: api_key_env SG_CHECK_KEY is not set here/),
    ]);
    expect(deploymentWarnings(guards, { SG_CHECK_KEY: 'k' })).toHaveLength(1);
  });

  test("a remote Prompt Guard's tokenizer folder without tokenizer.json is warned about; one with it is not", () => {
    const remote = (tokenizer: string) => ({ pg: { type: 'prompt_guard', backend: 'tei', model: 'm', url: 'http://tei:80', tokenizer } }) as unknown as Parameters<typeof deploymentWarnings>[0];
    expect(deploymentWarnings(remote('/nonexistent/tok'), {})).toEqual([expect.stringMatching(/^guard pg: no tokenizer\.json in \/nonexistent\/tok/)]);
    expect(deploymentWarnings(remote(fixture), {})).toEqual([]);
  });
});
