import path from 'node:path';
import { loadPolicySet, policyFilesIn, PolicySetError } from '../../../policies/policySet';
import { memoryFiles } from './memoryFiles';

const MAIN = `id: main
policies: [./apps, ./extra.yaml]
guards:
  pg:
    type: prompt_guard
    model: ./models/pg
input:
  - id: jailbreak
    guard: pg
    threshold: 0.9
`;
const app = (id: string, threshold = 0.5) => `id: ${id}\nextends: ../main.yaml\ninput:\n  - id: jailbreak\n    guard: pg\n    threshold: ${threshold}\n`;

function setProblems(files: Record<string, string>, main = '/s/main.yaml') {
  try {
    loadPolicySet(main, memoryFiles(files));
  } catch (err) {
    if (err instanceof PolicySetError) return err;
    throw err;
  }
  throw new Error('expected a PolicySetError');
}

test('a listed policy file that is not .yaml or .yml is refused: hot reload would never see its edits', () => {
  const err = setProblems({ '/s/main.yaml': 'id: main\npolicies: [./app.policy]\n', '/s/app.policy': 'id: app\n' });
  expect(err.problems.map((p) => p.message).join('\n')).toContain('`./app.policy` is not a .yaml or .yml file');
});

test('a main policy file that is not .yaml or .yml is refused too: it loaded, and its edits were never applied', () => {
  for (const main of ['/s/live.json', '/s/policy']) {
    const err = setProblems({ [main]: 'id: main\n' }, main);
    expect(err.problems.map((p) => `${p.file}: ${p.message}`)).toEqual([`${main}: \`${path.basename(main)}\` is not a .yaml or .yml file; hot reload watches only those, so edits to it would never apply: rename it`]);
  }
  expect(loadPolicySet('/s/main.YML', memoryFiles({ '/s/main.YML': 'id: main\n' })).main.id).toBe('main');
});

describe('policy set', () => {
  const files = {
    '/s/main.yaml': MAIN,
    '/s/apps/kids.yaml': app('kids', 0.3),
    '/s/apps/research.yml': app('research', 0.99),
    '/s/apps/notes.txt': 'not a policy',
    '/s/apps/.kids.yaml.swp': 'editor junk',
    '/s/extra.yaml': 'id: extra\nextends: ./base/base.yaml\n',
    '/s/base/base.yaml': 'id: base\n',
  };

  test('the main file, the files and directories it lists, and every extends target form the set', () => {
    const set = loadPolicySet('/s/main.yaml', memoryFiles(files));
    expect(set.main.id).toBe('main');
    expect([...set.byId.keys()].sort()).toEqual(['base', 'extra', 'kids', 'main', 'research']);
    expect(set.byId.get('kids')?.policy.input[0].threshold).toBe(0.3);
    expect(set.byId.get('research')?.policy.input[0].threshold).toBe(0.99);
    // The watcher watches every folder the set was read from, listed directories included.
    expect(set.directories.sort()).toEqual(['/s', '/s/apps', '/s/base'].map((d) => path.resolve(d)));
  });

  test('a policy id used twice is an error at the second id', () => {
    const err = setProblems({ ...files, '/s/apps/kids2.yaml': `# copy\n${app('kids')}` });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ file: path.resolve('/s/apps/kids2.yaml'), line: 2, path: 'id' });
    expect(err.problems[0].message).toContain('policy id `kids` is already used by');
  });

  test('a listed path that does not exist is an error at its entry', () => {
    const err = setProblems({ ...files, '/s/main.yaml': MAIN.replace('./extra.yaml', './extra.yml') });
    expect(err.problems[0]).toMatchObject({ file: '/s/main.yaml', line: 2, path: 'policies.1' });
    expect(err.problems[0].message).toContain('`./extra.yml`');
  });

  test('a listed path that does not exist yet is watched from its nearest folder, so creating it is picked up', () => {
    // The folder exists (it holds another file), the listed file does not yet.
    const err = setProblems({ ...files, '/s/later/readme.yaml': app('later'), '/s/main.yaml': MAIN.replace('./extra.yaml', './later/new.yaml') });
    expect(err.problems[0].message).toContain('`./later/new.yaml`');
    expect(err.directories).toContain(path.resolve('/s/later'));
  });

  test('problems in several files are all reported, and the directories looked at are kept for the watcher', () => {
    const err = setProblems({ ...files, '/s/apps/kids.yaml': app('kids', 3), '/s/extra.yaml': 'id: extra\nguards: 1\n' });
    expect(err.problems.map((p) => path.basename(p.file)).sort()).toEqual(['extra.yaml', 'kids.yaml']);
    expect(err.directories).toContain(path.resolve('/s/apps'));
  });

  test("a main file with a problem still has its listed files checked: one run reports them all", () => {
    const err = setProblems({ ...files, '/s/main.yaml': MAIN.replace('threshold: 0.9', 'threshold: 9'), '/s/apps/kids.yaml': app('kids', 3) });
    expect(err.problems.map((p) => path.basename(p.file)).sort()).toEqual(['kids.yaml', 'main.yaml']);
  });

  test("a base's problem is said once, though every file that extends it meets it", () => {
    const err = setProblems({ ...files, '/s/main.yaml': MAIN.replace('    threshold: 0.9\n', '    threshold: 0.9\n    bogus: 1\n') });
    expect(err.problems.filter((p) => /bogus/.test(p.message))).toHaveLength(1);
  });

  test('an invalid main file fails the set', () => {
    const err = setProblems({ '/s/main.yaml': '' });
    expect(err.problems[0].message).toContain('empty');
    expect(setProblems({}).problems[0].message).toContain('cannot read policy file');
  });
});

test('policyFilesIn keeps *.yaml and *.yml, skips editor droppings, in a stable order', () => {
  expect(policyFilesIn(['b.yml', 'a.yaml', '.a.yaml.swp', '.#a.yaml', '#a.yaml#', 'a.yaml~', 'README.md', 'C.YAML'])).toEqual(['C.YAML', 'a.yaml', 'b.yml']);
});
