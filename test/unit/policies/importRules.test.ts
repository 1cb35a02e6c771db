import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const POLICIES = path.join(__dirname, '..', '..', '..', 'policies');

test('policies/ imports only guards/types, zod, yaml, Node and itself (policies/README.md)', () => {
  const allowed = (spec: string) => spec.startsWith('./') || spec.startsWith('node:') || spec === 'zod' || spec === 'yaml' || spec === '../guards/types';
  const offending = readdirSync(POLICIES)
    .filter((f) => f.endsWith('.ts'))
    .flatMap((f) => [...readFileSync(path.join(POLICIES, f), 'utf8').matchAll(/^(?:import|export)[^;]*?from '([^']+)'/gms)].map((m) => `${f}: ${m[1]}`))
    .filter((line) => !allowed(line.split(': ')[1]));
  expect(offending).toEqual([]);
});
