/**
 * `npm run bench:reload`: how long a policy set's load holds the event loop (loadPolicySet runs on
 * it), for per-app policies that each `extends` the shipped default policy, as a multi-tenant
 * deployment has them: a first load (every file parsed) and a reload after one app file changed.
 * BENCH_COMPARE=<a checkout of another commit, built> measures its build side by side (before
 * parses were kept, each app parsed its base again on every load). BENCH_APPS (default 100) sets
 * the number of apps.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { machine, table } from './stats';

type Build = { name: string; load: (file: string) => unknown; forget: () => void };

function build(root: string, name: string): Build {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const sets = require(path.join(root, 'dist', 'policies', 'policySet.js')) as { loadPolicySet: (file: string) => unknown };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const docs = require(path.join(root, 'dist', 'policies', 'yamlDocument.js')) as { forgetParsedPolicies?: () => void };
  return { name, load: sets.loadPolicySet, forget: docs.forgetParsedPolicies ?? (() => undefined) };
}

const apps = Number(process.env.BENCH_APPS ?? 100);
const rounds = Number(process.env.BENCH_ROUNDS ?? 5);
const repo = path.resolve(__dirname, '..', '..', '..');
const builds = [build(repo, 'this build'), ...(process.env.BENCH_COMPARE ? [build(path.resolve(process.env.BENCH_COMPARE), `compare (${path.basename(process.env.BENCH_COMPARE)})`)] : [])];
const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-reload-'));
try {
  mkdirSync(path.join(dir, 'apps'));
  const base = readFileSync(path.join(repo, 'policies', 'default.yaml'), 'utf8')
    .replace(/model: \.\.\/guards\/models/g, `model: ${path.join(repo, 'guards', 'models')}`)
    .replace(/^id: default$/m, 'id: main\npolicies: [./apps]');
  writeFileSync(path.join(dir, 'main.yaml'), base);
  const app = (i: number, refusal: string) => writeFileSync(path.join(dir, 'apps', `app${i}.yaml`), `id: app${i}\nextends: ../main.yaml\nrefusals:\n  output: ${refusal}\n`);
  for (let i = 0; i < apps; i++) app(i, `refused ${i}`);
  const main = path.join(dir, 'main.yaml');
  const ms = (run: () => void) => {
    const start = performance.now();
    run();
    return performance.now() - start;
  };
  const first = builds.map(() => [] as number[]);
  const changed = builds.map(() => [] as number[]);
  // Interleaved: each round measures every build in turn.
  for (let r = 0; r < rounds; r++) {
    builds.forEach((b, i) => {
      b.forget();
      first[i].push(ms(() => b.load(main)));
      app(r % apps, `edited in round ${r} by ${i}`);
      changed[i].push(ms(() => b.load(main)));
    });
  }
  const best = (xs: number[]) => Math.min(...xs);
  const reference = best(changed[builds.length - 1]);
  console.log(`# Policy set load, ${apps} apps extending the default policy (best of ${rounds}, interleaved); ${machine()}\n`);
  console.log(table(['build', 'first load ms', 'reload, one app changed, ms', `reload / ${builds[builds.length - 1].name}'s reload`], builds.map((b, i) => [b.name, best(first[i]), best(changed[i]), best(changed[i]) / reference])));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
