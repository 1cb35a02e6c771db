import { existsSync } from 'node:fs';
import path from 'node:path';

/** The package root (where package.json is), from source (ts-jest) or from dist/ alike. */
export function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('safety-gateway: cannot find the package root');
    dir = parent;
  }
  return dir;
}

export const defaultPolicyFile = (): string => path.join(packageRoot(), 'policies', 'default.yaml');
