import path from 'node:path';
import { loadPolicyFile, PolicyError } from '../../../policies/loader';
import { mergeLayers } from '../../../policies/merge';
import { memoryFiles } from './memoryFiles';

const BASE = `id: base
description: the base
guards:
  pg:
    type: prompt_guard
    model: ./models/pg
  lg:
    type: llama_guard
    backend: encoder
    model: ./models/lg
input:
  - id: jailbreak
    guard: pg
    sources: [user]
    threshold: 0.9
  - id: unsafe-prompt
    guard: lg
    threshold: 0.5
output:
  - id: unsafe-answer
    guard: lg
    threshold: 0.5
streaming:
  mode: window
  window_tokens: 32
routes:
  passthrough: [/v1/embeddings]
tests:
  - name: base test
    prompt: hi
    expect: allow
`;

const CHILD = `id: child
extends: ../base.yaml
guards:
  lg:
    type: llama_guard
    backend: encoder
    model: ./own-lg
input:
  - id: unsafe-prompt
    guard: lg
    threshold: 0.2
    mode: shadow
  - id: injection
    guard: pg
    sources: [tool]
    threshold: 0.8
streaming:
  overlap_tokens: 8
routes:
  passthrough: [/v1/tokenize]
`;

function load(files: Record<string, string>, file: string) {
  return loadPolicyFile(file, memoryFiles(files));
}

function problemsOf(files: Record<string, string>, file: string) {
  try {
    load(files, file);
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('extends', () => {
  test("a child that redefines a base's guard: the base's rule it breaks is named with where the guard now comes from", () => {
    const child = 'id: child\nextends: ../base.yaml\nguards:\n  pg:\n    type: llama_guard\n    backend: encoder\n    model: ./m\n';
    const [p] = problemsOf({ '/p/base.yaml': BASE, '/p/apps/child.yaml': child }, '/p/apps/child.yaml');
    expect(p).toMatchObject({ file: '/p/base.yaml', path: 'input.0.sources' });
    expect(p!.message).toBe('`sources` applies to prompt_guard rules; llama_guard reads the whole conversation (guard `pg` is a llama_guard as defined at /p/apps/child.yaml:5)');
  });


  const files = { '/p/base.yaml': BASE, '/p/apps/child.yaml': CHILD };

  test('rules merge by id: a same-id rule replaces the inherited one in place, new rules follow', () => {
    const { policy } = load(files, '/p/apps/child.yaml');
    expect(policy.input.map((r) => r.id)).toEqual(['jailbreak', 'unsafe-prompt', 'injection']);
    // Replaced whole: the child's fields, and defaults (not the base's values) for the rest.
    expect(policy.input[1]).toMatchObject({ threshold: 0.2, mode: 'shadow', action: 'block' });
    expect(policy.output.map((r) => r.id)).toEqual(['unsafe-answer']);
  });

  test('mappings merge one level deep; guards are replaced whole; lists are replaced', () => {
    const { policy } = load(files, '/p/apps/child.yaml');
    // streaming: the child's overlap, the base's mode and window (defaults apply once, after merging).
    expect(policy.streaming).toEqual({ mode: 'window', window_tokens: 32, overlap_tokens: 8, whole_answer: true });
    expect(policy.guards.pg.model).toBe(path.resolve('/p/models/pg'));
    // Model paths resolve from the folder of the file that names them.
    expect(policy.guards.lg.model).toBe(path.resolve('/p/apps/own-lg'));
    expect(policy.routes.passthrough).toEqual(['/v1/tokenize']);
  });

  test('id, extends and tests are never inherited; description is', () => {
    const loaded = load(files, '/p/apps/child.yaml');
    expect(loaded.id).toBe('child');
    expect(loaded.policy.tests).toEqual([]);
    expect(loaded.policy.description).toBe('the base');
    expect('extends' in loaded.policy).toBe(false);
    expect(loaded.files).toEqual([path.resolve('/p/base.yaml'), path.resolve('/p/apps/child.yaml')]);
  });

  test('a change in the base changes the version of the policy built on it', () => {
    const before = load(files, '/p/apps/child.yaml').version;
    const after = load({ ...files, '/p/base.yaml': BASE.replace('threshold: 0.9', 'threshold: 0.95') }, '/p/apps/child.yaml').version;
    expect(after).not.toBe(before);
    expect(load(files, '/p/apps/child.yaml').version).toBe(before);
  });

  test('chains of any length resolve, each step relative to its own file', () => {
    const grandchild = 'id: grandchild\nextends: ./apps/child.yaml\nrefusals:\n  output: no\n';
    const loaded = load({ ...files, '/p/grandchild.yaml': grandchild }, '/p/grandchild.yaml');
    expect(loaded.policy.input.map((r) => r.id)).toEqual(['jailbreak', 'unsafe-prompt', 'injection']);
    expect(loaded.policy.refusals.output).toBe('no');
    expect(loaded.files).toHaveLength(3);
  });

  test('an error in an inherited value is reported in the file that holds it', () => {
    const broken = { ...files, '/p/base.yaml': BASE.replace('window_tokens: 32', 'window_tokens: 0') };
    const [p] = problemsOf(broken, '/p/apps/child.yaml');
    expect(p).toMatchObject({ file: path.resolve('/p/base.yaml'), line: 25, column: 18, path: 'streaming.window_tokens' });
  });

  test("an error in the file's own override is reported there, with did-you-mean", () => {
    const broken = { ...files, '/p/apps/child.yaml': CHILD.replace('overlap_tokens: 8', 'overlap_tokns: 8') };
    const [p] = problemsOf(broken, '/p/apps/child.yaml');
    expect(p).toMatchObject({ file: '/p/apps/child.yaml', line: 18, column: 3 });
    expect(p.message).toContain('did you mean `overlap_tokens`?');
  });

  test('a semantic error is located in the rule that causes it, in whichever file', () => {
    const broken = { ...files, '/p/apps/child.yaml': CHILD.replace('guard: pg\n    sources: [tool]', 'guard: pgg\n    sources: [tool]') };
    const [p] = problemsOf(broken, '/p/apps/child.yaml');
    // The path is the rule's place in the file named (index 1 there; index 2 once merged).
    expect(p).toMatchObject({ file: '/p/apps/child.yaml', line: 14, path: 'input.1.guard' });
    expect(p.message).toContain('unknown guard `pgg`; did you mean `pg`?');
  });

  test('a base that is not a .yaml or .yml file is refused: hot reload would never see its edits', () => {
    const [p] = problemsOf({ '/p/a.yaml': 'id: a\nextends: ./base.policy\n', '/p/base.policy': 'id: base\n' }, '/p/a.yaml');
    expect(p).toMatchObject({ path: 'extends' });
    expect(p.message).toContain('is not a .yaml or .yml file');
  });

  test('cyclic extends is rejected at the extends line that closes the cycle', () => {
    const cyclic = { '/p/a.yaml': 'id: a\nextends: ./b.yaml\n', '/p/b.yaml': 'id: b\n\nextends: ./a.yaml\n' };
    const [p] = problemsOf(cyclic, '/p/a.yaml');
    expect(p).toMatchObject({ file: path.resolve('/p/b.yaml'), line: 3, column: 10, path: 'extends' });
    expect(p.message).toBe('cyclic `extends`: a.yaml -> b.yaml -> a.yaml; a policy cannot inherit from itself');
    expect(problemsOf({ '/p/self.yaml': 'id: s\nextends: ./self.yaml\n' }, '/p/self.yaml')[0].message).toContain('self.yaml -> self.yaml');
  });

  test('an extends target that is missing or not a path is an error at the extends line', () => {
    const [missing] = problemsOf({ '/p/a.yaml': 'id: a\nextends: ./nope.yaml\n' }, '/p/a.yaml');
    expect(missing).toMatchObject({ line: 2, path: 'extends' });
    expect(missing.message).toContain('cannot read `./nope.yaml`');
    expect(missing.message).toContain('ENOENT');
    const [notPath] = problemsOf({ '/p/a.yaml': 'id: a\nextends: [x]\n' }, '/p/a.yaml');
    expect(notPath.message).toContain('`extends` takes the relative path');
  });

  test('an empty or broken base is reported in the base', () => {
    const [p] = problemsOf({ '/p/a.yaml': 'id: a\nextends: ./b.yaml\n', '/p/b.yaml': '' }, '/p/a.yaml');
    expect(p).toMatchObject({ file: path.resolve('/p/b.yaml'), message: expect.stringContaining('empty') });
  });
});

describe('mergeLayers (pure)', () => {
  test('tracks which layer each merged value came from', () => {
    const merged = mergeLayers([
      { id: 'a', input: [{ id: 'r1' }, { id: 'r2' }], streaming: { mode: 'window' }, tests: [1] },
      { id: 'b', input: [{ id: 'r2', x: 1 }, { id: 'r3' }], streaming: { window_tokens: 9 } },
    ]);
    expect(merged.data).toEqual({ id: 'b', input: [{ id: 'r1' }, { id: 'r2', x: 1 }, { id: 'r3' }], streaming: { mode: 'window', window_tokens: 9 } });
    expect(merged.originOf(['input', 0, 'id'])).toEqual({ layer: 0, path: ['input', 0, 'id'] });
    expect(merged.originOf(['input', 1, 'x'])).toEqual({ layer: 1, path: ['input', 0, 'x'] });
    expect(merged.originOf(['input', 2])).toEqual({ layer: 1, path: ['input', 1] });
    expect(merged.originOf(['streaming', 'mode'])).toEqual({ layer: 0, path: ['streaming', 'mode'] });
    expect(merged.originOf(['streaming', 'window_tokens'])).toEqual({ layer: 1, path: ['streaming', 'window_tokens'] });
  });

  test('a file listing one rule id twice keeps both, so the duplicate is reported', () => {
    const merged = mergeLayers([{ input: [{ id: 'r' }] }, { input: [{ id: 'r', n: 1 }, { id: 'r', n: 2 }] }]);
    expect(merged.data.input).toEqual([{ id: 'r', n: 1 }, { id: 'r', n: 2 }]);
  });

  test('a value of another shape replaces the inherited one whole (the schema then judges it)', () => {
    const merged = mergeLayers([{ input: [{ id: 'r' }], guards: { a: {} } }, { input: 'oops', guards: 3 }]);
    expect(merged.data).toEqual({ input: 'oops', guards: 3 });
    expect(merged.originOf(['guards'])).toEqual({ layer: 1, path: ['guards'] });
  });
});
