import { readFileSync } from 'node:fs';
import path from 'node:path';
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
});
