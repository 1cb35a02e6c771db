import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020';
import YAML from 'yaml';
import { loadPolicySet } from '../../../policies/policySet';
import { policyJsonSchema, policyJsonSchemaText } from '../../../policies/schema';

const POLICIES = path.join(__dirname, '..', '..', '..', 'policies');

/** Every property name anywhere in a JSON Schema. */
function propertyNames(schema: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(schema)) schema.forEach((s) => propertyNames(s, into));
  else if (schema && typeof schema === 'object') {
    const properties = (schema as { properties?: Record<string, unknown> }).properties;
    if (properties) for (const name of Object.keys(properties)) into.add(name);
    for (const value of Object.values(schema)) propertyNames(value, into);
  }
  return into;
}

describe('the published JSON Schema', () => {
  test('policies/policy.schema.json is what policies/schema.ts generates (run `safety-gateway policy schema --write` when this fails)', () => {
    expect(readFileSync(path.join(POLICIES, 'policy.schema.json'), 'utf8')).toBe(policyJsonSchemaText());
  });

  test('editors are told about unknown fields, required fields and ranges', () => {
    const schema = policyJsonSchema() as { additionalProperties: boolean; required: string[]; properties: Record<string, { items?: { properties?: Record<string, unknown> } }> };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['id']);
    expect(schema.properties.input.items?.properties?.threshold).toMatchObject({ minimum: 0, maximum: 1 });
  });

  test("the authors' guide documents every field of the schema", () => {
    const readme = readFileSync(path.join(POLICIES, 'README.md'), 'utf8');
    const undocumented = [...propertyNames(policyJsonSchema())].filter((name) => !readme.includes(`\`${name}\``) && !readme.includes(`.${name}\``));
    expect(undocumented).toEqual([]);
  });

  test('the shipped policies point editors at the schema', () => {
    expect(readFileSync(path.join(POLICIES, 'default.yaml'), 'utf8')).toMatch(/^# yaml-language-server: \$schema=\.\/policy\.schema\.json/);
  });

  // Mistakes an author makes that the gateway refuses at load: an editor using the schema flags them too.
  const REFUSED: [string, string][] = [
    ['a remote Prompt Guard without url', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x}'],
    ['url on the onnx backend', 'guards:\n  pg: {type: prompt_guard, model: ./m, url: http://tei:80}'],
    ['a variant on a remote backend', 'guards:\n  pg: {type: prompt_guard, backend: vllm, model: x, url: http://v:8000, variant: quantized}'],
    ['a url without its scheme', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "tei-0:80"}'],
    ['an ftp url', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "ftp://tei"}'],
    ['a url without a host', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "http://"}'],
    ['backend openai without base_url', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x}'],
    ['base_url on the encoder', 'guards:\n  lg: {type: llama_guard, backend: encoder, model: ./m, base_url: http://v/v1}'],
    ['custom categories on the encoder', 'guards:\n  lg: {type: llama_guard, backend: encoder, model: ./m, categories: {S1: x}}'],
    ['fine windows on a decoder', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: http://v/v1, fine_window_tokens: 64}'],
    ['categories in mode chat', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: http://v/v1, mode: chat, categories: {S1: x}}'],
    ['a test with neither prompt nor conversation', 'tests:\n  - {name: t, expect: allow}'],
    ['a test with both', 'tests:\n  - {name: t, expect: allow, prompt: hi, conversation: [{role: user, content: hi}]}'],
    ['extends a JSON file', 'extends: ./base.json'],
    ['refusing model', 'request_fields: {refuse: [model]}'],
    ['server_adds_bos with mode unset and no custom categories (chat mode)', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v/v1", server_adds_bos: true}'],
    ['server_adds_bos in mode chat', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v/v1", mode: chat, server_adds_bos: true}'],
    ['a base_url without a host', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://:80/v1"}'],
    ['a base_url with credentials (never sent: undici drops them)', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://user:secret@lg.internal:8000/v1"}'],
    ['a base_url with a port out of range', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v:99999/v1"}'],
    // The loader took these (WHATWG URL parsing), the schema did not: one rule for both now.
    ['a url with a port of five digits led by a zero', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "http://tei-0:08080"}'],
    ['a url with an empty port', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "http://tei-0:/"}'],
  ];
  // And what it accepts, the schema accepts.
  const ACCEPTED: [string, string][] = [
    ['server_adds_bos in mode completions', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v/v1", mode: completions, server_adds_bos: true}'],
    ['server_adds_bos with custom categories (completions implied)', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v/v1", categories: {S1: x}, server_adds_bos: true}'],
    ['server_adds_bos with exclusions (completions implied)', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://v/v1", excluded_categories: [S2], server_adds_bos: true}'],
    ['a base_url with a port and a path', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "https://lg.internal:65535/v1"}'],
    ['an IPv6 base_url', 'guards:\n  lg: {type: llama_guard, backend: openai, model: x, base_url: "http://[::1]:8000/v1"}'],
    ['a url without a path', 'guards:\n  pg: {type: prompt_guard, backend: tei, model: x, url: "http://tei-0:80"}'],
  ];
  const validate = new Ajv2020({ strict: false, validateFormats: false }).compile(policyJsonSchema());
  test.each(REFUSED)('%s: refused by the loader and by the schema', (_name, body) => {
    const yaml = `id: a\n${body}\n`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-schema-')), 'p.yaml');
    writeFileSync(file, yaml);
    expect(() => loadPolicySet(file)).toThrow();
    expect(validate(YAML.parse(yaml))).toBe(false);
  });

  test.each(ACCEPTED)('%s: accepted by the loader and by the schema', (_name, body) => {
    const yaml = `id: a\n${body}\n`;
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-schema-')), 'p.yaml');
    writeFileSync(file, yaml);
    expect(() => loadPolicySet(file)).not.toThrow();
    expect(validate(YAML.parse(yaml))).toBe(true);
  });

  test('the shipped policy passes the schema', () => {
    expect(validate(YAML.parse(readFileSync(path.join(POLICIES, 'default.yaml'), 'utf8')))).toBe(true);
  });
});
