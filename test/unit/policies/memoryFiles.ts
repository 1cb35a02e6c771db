import path from 'node:path';
import type { ReadSource } from '../../../policies/loader';
import type { PolicySetFs } from '../../../policies/policySet';

/** An in-memory file tree for loader tests: absolute path -> text. Reads fail like fs does (ENOENT). */
export function memoryFiles(files: Record<string, string>): ReadSource & PolicySetFs {
  const abs = new Map(Object.entries(files).map(([f, text]) => [path.resolve(f), text]));
  const read = (file: string) => {
    const text = abs.get(path.resolve(file));
    if (text === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
    return text;
  };
  const isDir = (p: string) => [...abs.keys()].some((f) => f.startsWith(path.resolve(p) + path.sep));
  return Object.assign(read, {
    read,
    kind: (p: string) => (abs.has(path.resolve(p)) ? ('file' as const) : isDir(p) ? ('directory' as const) : undefined),
    list: (dir: string) => [...abs.keys()].filter((f) => path.dirname(f) === path.resolve(dir)).map((f) => path.basename(f)),
  });
}
