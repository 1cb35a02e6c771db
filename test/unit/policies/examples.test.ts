import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPolicySet } from '../../../policies/policySet';

const EXAMPLES = path.join(__dirname, '..', '..', '..', 'policies', 'examples');
const SCHEMA = path.join(__dirname, '..', '..', '..', 'policies', 'policy.schema.json');

function yamlFilesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? yamlFilesUnder(full) : /\.ya?ml$/.test(name) ? [full] : [];
  });
}

/** The examples a reader starts the gateway with; the per-app folder is one set. */
const ENTRY_POINTS = ['strict.yaml', 'permissive.yaml', 'shadow-rollout.yaml', 'custom-categories.yaml', 'passthrough-routes.yaml', 'per-app/gateway.yaml'];

describe('policies/examples', () => {
  test.each(ENTRY_POINTS)('%s is a valid policy set', (file) => {
    expect(() => loadPolicySet(path.join(EXAMPLES, file))).not.toThrow();
  });

  test('every example file is covered by one of the sets above, and points editors at the schema', () => {
    const covered = new Set(ENTRY_POINTS.flatMap((f) => [...loadPolicySet(path.join(EXAMPLES, f)).byId.values()].flatMap((p) => p.files)));
    for (const file of yamlFilesUnder(EXAMPLES)) {
      expect(covered).toContain(file);
      const comment = /^# yaml-language-server: \$schema=(\S+)/.exec(readFileSync(file, 'utf8'));
      expect(comment && path.resolve(path.dirname(file), comment[1])).toBe(SCHEMA);
    }
  });

  test('per-app: the main policy and each app policy, with the stricter rules where the app sets them', () => {
    const set = loadPolicySet(path.join(EXAMPLES, 'per-app', 'gateway.yaml'));
    expect(set.main.id).toBe('company-default');
    expect([...set.byId.keys()].sort()).toEqual(['company-default', 'default', 'internal-tools', 'kids']);
    const kids = set.byId.get('kids')?.policy;
    const inherited = (id: string) => [id, set.byId.get('default')?.policy.input.find((r) => r.id === id)?.threshold];
    expect(kids?.input.map((r) => [r.id, r.threshold])).toEqual([
      ['jailbreak', 0.5],
      // Not overridden by the app: inherited from policies/default.yaml.
      inherited('pasted-injection'),
      inherited('system-prompt'),
      inherited('indirect-injection'),
      ['unsafe-prompt', 0.2],
      inherited('obfuscated-text'),
    ]);
    // Inherited from the company default, which inherited the rest from default.yaml.
    expect(kids?.refusals.input).toBe(set.main.policy.refusals.input);
    expect(set.byId.get('internal-tools')?.policy.routes.passthrough).toEqual(['/v1/embeddings']);
    expect(set.main.policy.routes.passthrough).toEqual([]);
  });

  test('shadow rollout: the new rule is in shadow mode and everything else is the default', () => {
    const set = loadPolicySet(path.join(EXAMPLES, 'shadow-rollout.yaml'));
    const rules = set.main.policy.input;
    expect(rules.find((r) => r.id === 'jailbreak-strict')?.mode).toBe('shadow');
    expect(rules.filter((r) => r.mode === 'enforce').map((r) => r.id)).toEqual(set.byId.get('default')?.policy.input.map((r) => r.id));
  });
});
