import { buildGuardRequest } from '../../../gateway/cli/eval/guardRequest';
import { otherScoreRule, thresholdForRole, thresholdsByRole } from '../../../gateway/cli/eval/thresholds';
import { PolicyFile } from '../../../policies/schema';

describe('buildGuardRequest', () => {
  it('gives Prompt Guard style guards one text whose source is the record role', () => {
    expect(buildGuardRequest('texts', { id: 'a-000001', role: 'user', text: 'hi' })).toEqual({
      direction: 'input',
      texts: [{ source: 'user', path: 'a-000001', text: 'hi' }],
      conversation: [],
    });
    expect(buildGuardRequest('texts', { id: 'd', role: 'document', text: 'x' }).texts[0].source).toBe('document');
    expect(buildGuardRequest('texts', { id: 't', role: 'tool', text: 'x' }).texts[0].source).toBe('tool');
    expect(buildGuardRequest('texts', { id: 'r', role: 'assistant', text: 'x' }).texts[0].source).toBe('assistant');
  });

  it('asks for the injection score as a score: injection rule does, keeping the source', () => {
    const req = buildGuardRequest('texts', { id: 'u', role: 'user', text: 'x' }, 'injection');
    expect(req).toMatchObject({ score: 'injection', texts: [{ source: 'user' }] });
    expect(buildGuardRequest('texts', { id: 'u', role: 'user', text: 'x' }).score).toBeUndefined();
  });

  it('gives content-safety guards a user turn, or an answer after an empty user turn on output', () => {
    expect(buildGuardRequest('conversation', { id: 'u', role: 'user', text: 'q' })).toEqual({
      direction: 'input',
      texts: [],
      conversation: [{ role: 'user', content: 'q' }],
    });
    expect(buildGuardRequest('conversation', { id: 'r', role: 'assistant', text: 'a' })).toEqual({
      direction: 'output',
      texts: [],
      conversation: [
        { role: 'user', content: '' },
        { role: 'assistant', content: 'a' },
      ],
    });
  });
});

describe('default thresholds from the policy', () => {
  const policy = PolicyFile.parse({
    id: 'p',
    guards: {
      prompt_guard: { type: 'prompt_guard', model: 'm' },
      llama_guard: { type: 'llama_guard', backend: 'encoder', model: 'c' },
      other: { type: 'prompt_guard', model: 'm' },
    },
    input: [
      { id: 'jb', guard: 'prompt_guard', sources: ['user'], threshold: 0.8 },
      { id: 'inj', guard: 'prompt_guard', sources: ['tool', 'document'], threshold: 0.7 },
      { id: 'pasted', guard: 'prompt_guard', sources: ['user'], score: 'injection', threshold: 0.99 },
      { id: 'unsafe-in', guard: 'llama_guard', threshold: 0.4 },
    ],
    output: [{ id: 'unsafe-out', guard: 'llama_guard', threshold: 0.6 }],
  });

  it("uses the rule that would judge the record's source", () => {
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'user')).toBe(0.8);
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'document')).toBe(0.7);
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'tool')).toBe(0.7);
    // no input rule scans assistant text: the first rule of the guard
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'assistant')).toBe(0.8);
  });

  it('with --score injection, the rule that scores user turns that way', () => {
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'user', 'injection')).toBe(0.99);
    // no such rule for documents: the one that judges them
    expect(thresholdForRole(policy, 'prompt_guard', 'texts', 'document', 'injection')).toBe(0.7);
  });

  it('names the rule of the other score kind that reads the same rows: user turns are read both ways, third-party text one way only', () => {
    expect(otherScoreRule(policy, 'prompt_guard', 'texts', 'user')).toEqual({ rule: 'pasted', score: 'injection', threshold: 0.99 });
    expect(otherScoreRule(policy, 'prompt_guard', 'texts', 'user', 'injection')).toEqual({ rule: 'jb', score: 'default', threshold: 0.8 });
    // Documents are scored for injection by every rule: nothing else to ask, with or without --score injection.
    expect(otherScoreRule(policy, 'prompt_guard', 'texts', 'document')).toBeUndefined();
    expect(otherScoreRule(policy, 'prompt_guard', 'texts', 'document', 'injection')).toBeUndefined();
    expect(otherScoreRule(policy, 'llama_guard', 'conversation', 'user')).toBeUndefined();
  });

  it('uses the input rule for prompts and the output rule for answers', () => {
    expect(thresholdForRole(policy, 'llama_guard', 'conversation', 'user')).toBe(0.4);
    expect(thresholdForRole(policy, 'llama_guard', 'conversation', 'assistant')).toBe(0.6);
  });

  it('lets --threshold override, and asks for it when no rule uses the guard', () => {
    expect([...thresholdsByRole(policy, 'llama_guard', 'conversation', ['user', 'assistant'], 0.3)]).toEqual([
      ['user', 0.3],
      ['assistant', 0.3],
    ]);
    expect(() => thresholdsByRole(policy, 'other', 'texts', ['user'])).toThrow(/pass --threshold/);
    expect(thresholdsByRole(policy, 'other', 'texts', ['user'], 0.5).get('user')).toBe(0.5);
  });
});
