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
    expect(loaded.policy.streaming.mode).toBe('window');
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

  test('an alias bomb is a located problem of its file, not a bare error', () => {
    const levels = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]', ...'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(10).fill(`*${'abcdef'[i]}`).join(',')}]`)];
    const [p] = problems(`id: bomb\n${levels.join('\n')}\n`);
    expect(p).toMatchObject({ file: 'p.yaml', line: 1 });
    expect(p.message).toMatch(/cannot read the YAML: Excessive alias count/);
  });

  test('prompt_guard on output is rejected', () => {
    const src = base + 'output:\n  - id: o\n    guard: pg\n    threshold: 0.5\n';
    expect(problems(src)[0].message).toContain('prompt_guard checks inputs');
  });
});

describe('policy loader: every kind of bad input is a clear error at its location', () => {
  test('wrong types name the field and its line', () => {
    const [p] = problems(base.replace('threshold: 0.9', 'threshold: high'));
    expect(p).toMatchObject({ line: 10, column: 16, path: 'input.0.threshold' });
    expect(p.message).toContain('threshold must be a number between 0 and 1');
    const [list] = problems(base.replace('sources: [user]', 'sources: user'));
    expect(list).toMatchObject({ line: 9, path: 'input.0.sources' });
    expect(list.message).toMatch(/expected array/);
  });

  test('thresholds below 0 are out of range too', () => {
    const [p] = problems(base.replace('threshold: 0.9', 'threshold: -0.1'));
    expect(p).toMatchObject({ line: 10, path: 'input.0.threshold', message: 'threshold must be between 0 and 1' });
  });

  test('unknown top-level and nested fields get a did-you-mean at the key', () => {
    const [top] = problems(base + 'streming:\n  mode: window\n');
    expect(top).toMatchObject({ line: 11, column: 1, path: '' });
    expect(top.message).toBe('unknown field `streming`; did you mean `streaming`?');
    const [guardField] = problems(base.replace('model: ./models/pg', 'model: ./models/pg\n    temprature: 2'));
    expect(guardField).toMatchObject({ line: 6, column: 5, path: 'guards.pg' });
    expect(guardField.message).toContain('did you mean `temperature`?');
    const [unrelated] = problems(base + 'colour: blue\n');
    expect(unrelated.message).toBe('unknown field `colour`');
  });

  test('a YAML merge key is named as what it is, not answered with a did-you-mean', () => {
    const [merge] = problems(base.replace('threshold: 0.9', 'threshold: 0.9\n    <<: {action: flag}'));
    expect(merge.message).toBe('YAML merge keys (`<<: *anchor`) are not supported here: repeat the fields, or share them with `extends`');
  });

  test('a value outside its set gets a did-you-mean and the allowed values', () => {
    const [p] = problems(base.replace('threshold: 0.9', 'threshold: 0.9\n    action: blok'));
    expect(p).toMatchObject({ line: 11, path: 'input.0.action' });
    expect(p.message).toBe('`blok` is not allowed here; did you mean `block`?; use one of: flag, block');
  });

  test('an unknown or missing guard type is named with the types there are', () => {
    const [p] = problems(base.replace('type: prompt_guard', 'type: promt_guard'));
    expect(p).toMatchObject({ line: 4, path: 'guards.pg.type' });
    expect(p.message).toContain('unknown type `promt_guard`; did you mean `prompt_guard`?');
    const [missing] = problems(base.replace('    type: prompt_guard\n', ''));
    expect(missing.message).toContain('missing `type`');
    expect(missing).toMatchObject({ line: 4, path: 'guards.pg' });
  });

  test('a missing required field says so', () => {
    const [p] = problems(base.replace('id: t\n', 'description: no id\n'));
    expect(p.message).toBe('missing required field `id`');
    const [rule] = problems(base.replace('    threshold: 0.9\n', ''));
    expect(rule).toMatchObject({ path: 'input.0.threshold', line: 7 });
    expect(rule.message).toBe('missing required field `threshold` (or `findings`, to act on text findings alone)');
  });

  test('a missing field that takes one of a set of values says it is missing, with the values', () => {
    const [p] = problems(`${base}tests:\n  - name: hello\n    prompt: hi\n`);
    expect(p).toMatchObject({ path: 'tests.0.expect' });
    expect(p.message).toBe('missing required field `expect`; use one of: allow, flag, block');
  });

  test('a badly named guard is reported at its name', () => {
    const [p] = problems(base.replace('  pg:', '  Prompt-Guard:').replace('guard: pg', 'guard: Prompt-Guard'));
    expect(p).toMatchObject({ line: 3, column: 3 });
    expect(p.message).toContain('invalid name `Prompt-Guard`: guard names are lower_snake_case');
  });

  test('duplicate keys are located at the second key', () => {
    const [p] = problems(base.replace('    threshold: 0.9\n', '    threshold: 0.9\n    threshold: 0.5\n'));
    expect(p).toMatchObject({ line: 11, column: 5 });
    expect(p.message).toMatch(/^duplicate key `threshold`: /);
    expect(problems(`${base}"quoted key": 1\n"quoted key": 2\n`)[0].message).toMatch(/^duplicate key `"quoted key"`/);
  });

  test('a value of a type no alternative takes says which types they take', () => {
    const [p] = problems(base.replace('    type: prompt_guard\n', '    type: prompt_guard\n    backend: tei\n    url: 5\n'));
    expect(p.message).toBe('`5` is not allowed here: expected a string or a list');
  });

  test('a second YAML document is named as such, with what to do', () => {
    expect(problems(`${base}---\nid: other\n`)[0].message).toBe('a policy file holds one YAML document: remove the `---` separator and what follows it, or put that policy in a file of its own');
  });

  test('a file of only comments is empty; a list or a scalar is not a policy; binary junk is not YAML', () => {
    expect(problems('# nothing here\n')[0]).toMatchObject({ line: 1, column: 1, message: 'the policy file is empty: it needs at least an `id`' });
    expect(problems('- id: a\n')[0].message).toBe('a policy file is a YAML mapping (id, guards, input, ...); this file holds a list');
    expect(problems('just words\n')[0].message).toContain('this file holds a string');
    const [junk] = problems('id: x\n\tguards: {]\n');
    expect(junk.message).toMatch(/^not valid YAML/);
    expect(junk.line).toBe(2);
  });

  test('every problem of a file is reported at once', () => {
    const many = problems(base.replace('threshold: 0.9', 'threshold: 2\n    on_eror: allow').replace('guard: pg', 'guard: pgg'));
    expect(many.length).toBeGreaterThanOrEqual(2);
    expect(many.map((p) => p.path)).toEqual(expect.arrayContaining(['input.0.threshold', 'input.0']));
  });

  test('a file that cannot be read is an error naming the file', () => {
    expect(() => loadPolicyFile('/nonexistent/policy.yaml')).toThrow(/policy.yaml:1:1: cannot read policy file: no such file \(ENOENT\)/);
  });

  test('test cases are not part of the version', () => {
    const withTests = base + 'tests:\n  - name: ok\n    prompt: hi\n    expect: allow\n';
    expect(parsePolicySource(withTests, '/etc/sg/p.yaml').version).toBe(parsePolicySource(base, '/etc/sg/p.yaml').version);
    expect(parsePolicySource(withTests, '/etc/sg/p.yaml').policy.tests).toHaveLength(1);
  });
});
