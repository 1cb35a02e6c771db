import path from 'node:path';
import { loadPolicyFile, parsePolicySource, PolicyError } from '../../../policies/loader';

const base = `id: t
guards:
  pg:
    type: prompt_guard
    model: ./models/pg
input:
  - id: jb
    guard: pg
    sources: [user]
    threshold: 0.9
`;

function problems(source: string) {
  try {
    parsePolicySource(source, 'p.yaml');
  } catch (err) {
    if (err instanceof PolicyError) return err.problems;
    throw err;
  }
  throw new Error('expected a PolicyError');
}

describe('policy loader', () => {
  test('a valid file loads with defaults, resolved model paths and a content-hash version', () => {
    const loaded = parsePolicySource(base, '/etc/sg/p.yaml');
    expect(loaded.id).toBe('t');
    expect(loaded.version).toMatch(/^[0-9a-f]{12}$/);
    expect(loaded.policy.guards.pg.model).toBe(path.resolve('/etc/sg/models/pg'));
    expect(loaded.policy.input[0]).toMatchObject({ action: 'block', mode: 'enforce', on_error: 'block' });
    expect(loaded.policy.streaming.mode).toBe('buffer');
    // Same content, same version; different content, different version.
    expect(parsePolicySource(base + '\n# comment\n', '/etc/sg/p.yaml').version).toBe(loaded.version);
    expect(parsePolicySource(base.replace('0.9', '0.8'), '/etc/sg/p.yaml').version).not.toBe(loaded.version);
  });

  test('the shipped default policy and the fixture policy are valid', () => {
    expect(loadPolicyFile(path.join(__dirname, '..', '..', '..', 'policies', 'default.yaml')).id).toBe('default');
    expect(loadPolicyFile(path.join(__dirname, '..', '..', 'fixtures', 'policies', 'fixture.yaml')).id).toBe('fixture');
  });

  test('threshold out of range names the line and column', () => {
    const [p] = problems(base.replace('threshold: 0.9', 'threshold: 1.5'));
    expect(p).toMatchObject({ file: "p.yaml", line: 10, column: 16, path: 'input.0.threshold' });
  });

  test('misspelt key gets a did-you-mean', () => {
    const [p] = problems(base.replace('threshold: 0.9', 'threshold: 0.9\n    on_eror: allow'));
    expect(p.message).toContain('unknown field `on_eror`; did you mean `on_error`?');
    expect(p.line).toBe(11);
  });

  test('unknown guard, duplicate keys, empty file, not YAML', () => {
    expect(problems(base.replace('guard: pg', 'guard: nope'))[0].message).toContain('unknown guard `nope`');
    expect(problems(base + 'id: again\n')[0].message).toMatch(/duplicate key/);
    expect(problems('')[0].message).toContain('empty');
    expect(problems('id: [unclosed\n')[0].message).toMatch(/not valid YAML/);
  });

  test('prompt_guard on output is rejected', () => {
    const src = base + 'output:\n  - id: o\n    guard: pg\n    threshold: 0.5\n';
    expect(problems(src)[0].message).toContain('prompt_guard checks inputs');
  });
});
