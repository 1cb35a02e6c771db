import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURE_POLICY, FIXTURES } from './gatewayHarness';

/** Writes a variant of the fixture policy (model paths made absolute) into a temp dir. */
export function fixturePolicyVariant(edit: (yaml: string) => string, name = 'variant.yaml'): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-policy-'));
  const source = readFileSync(FIXTURE_POLICY, 'utf8').replace(/\.\.\/models\//g, `${path.join(FIXTURES, 'models')}/`);
  const file = path.join(dir, name);
  writeFileSync(file, edit(source));
  return file;
}
