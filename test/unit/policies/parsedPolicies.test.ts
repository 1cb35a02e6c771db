import { parsePolicyYaml } from '../../../policies/yamlDocument';
import { PolicyError } from '../../../policies/problems';

/** A parse is reused while a file's text is unchanged (every app that extends a base parsed it again, on every reload). */
describe('parsePolicyYaml: parses kept per file and text', () => {
  test('the same text gives the same data, each caller its own copy', () => {
    const text = 'id: base\ninput:\n  - id: r\n    guard: g\n    threshold: 0.5\n';
    const a = parsePolicyYaml(text, '/p/base.yaml');
    (a.data as { id: string }).id = 'changed by a caller';
    const b = parsePolicyYaml(text, '/p/base.yaml');
    expect(b.data).toEqual({ id: 'base', input: [{ id: 'r', guard: 'g', threshold: 0.5 }] });
    expect(b.positionOf(['input', 0, 'threshold'])).toEqual({ line: 5, column: 16 });
  });

  test('a changed text is parsed again', () => {
    expect(parsePolicyYaml('id: one\n', '/p/x.yaml').data).toEqual({ id: 'one' });
    expect(parsePolicyYaml('id: two\n', '/p/x.yaml').data).toEqual({ id: 'two' });
    expect(parsePolicyYaml('id: one\n', '/p/x.yaml').data).toEqual({ id: 'one' });
  });

  test('the same text under another file name is that file\'s own document', () => {
    expect(parsePolicyYaml('id: same\n', '/p/a.yaml').file).toBe('/p/a.yaml');
    expect(parsePolicyYaml('id: same\n', '/p/b.yaml').file).toBe('/p/b.yaml');
  });

  test('a text that does not parse fails every time, with its location', () => {
    for (let i = 0; i < 2; i++) expect(() => parsePolicyYaml('id: a\nid: b\n', '/p/dup.yaml')).toThrow(PolicyError);
  });
});
