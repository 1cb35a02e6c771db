import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { policyJsonSchemaText } from '../../../policies/schema';
import { packageRoot } from '../../paths';
import { displayPath, type CliIo } from './io';

export const publishedSchemaFile = (): string => path.join(packageRoot(), 'policies', 'policy.schema.json');

/**
 * `policy schema`: prints the JSON Schema generated from policies/schema.ts; `--write` updates the
 * published policies/policy.schema.json, `--check` exits 1 when that file is stale (for CI).
 */
export async function schemaCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({ args, options: { write: { type: 'boolean' }, check: { type: 'boolean' }, out: { type: 'string' } }, strict: true });
  const text = policyJsonSchemaText();
  const target = values.out ?? publishedSchemaFile();
  if (values.check) {
    let current = '';
    try {
      current = readFileSync(target, 'utf8');
    } catch {
      /* missing counts as stale */
    }
    if (current === text) {
      io.out(`${displayPath(io, target)} is up to date\n`);
      return 0;
    }
    io.out(`${displayPath(io, target)} is stale: run \`safety-gateway policy schema --write\`\n`);
    return 1;
  }
  if (values.write || values.out) {
    writeFileSync(target, text);
    io.out(`wrote ${displayPath(io, target)}\n`);
    return 0;
  }
  io.out(text);
  return 0;
}
