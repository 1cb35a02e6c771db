import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Turns `--data` arguments into JSONL files. An argument may be a file, a directory, or a glob
 * the shell did not expand (quoted, or from a script): Node 20 has no fs.glob, and `*` / `?` per
 * path segment is all the shared layout needs (`../shared/data/*\/*.jsonl`).
 */

export function hasGlob(segment: string): boolean {
  return /[*?]/.test(segment);
}

/** `*` matches any run of characters except `/`, `?` one character; everything else is literal. */
export function globSegmentRegExp(segment: string): RegExp {
  const body = segment.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${body}$`);
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** Expands a glob one segment at a time; results sorted so runs are reproducible. */
export function expandGlob(pattern: string, cwd: string): string[] {
  const absolute = path.resolve(cwd, pattern);
  const root = path.parse(absolute).root;
  const segments = absolute.slice(root.length).split(path.sep).filter((s) => s !== '');
  let current = [root];
  for (const segment of segments) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasGlob(segment)) {
        const candidate = path.join(dir, segment);
        if (existsSync(candidate)) next.push(candidate);
        continue;
      }
      if (!isDirectory(dir)) continue;
      const re = globSegmentRegExp(segment);
      // Hidden entries only match a pattern that names the dot, as in the shell.
      for (const name of readdirSync(dir).sort()) if (re.test(name) && (!name.startsWith('.') || segment.startsWith('.'))) next.push(path.join(dir, name));
    }
    current = next;
  }
  return current.filter((p) => !isDirectory(p));
}

/**
 * A directory means its datasets: `<dir>/<dir>.jsonl` when it is one dataset's folder, else
 * `<dir>/<name>/<name>.jsonl` for each dataset folder in it. The `orig/` folders hold the
 * untouched source files, which are not in the uniform format, so they are never picked up.
 */
export function datasetFilesIn(dir: string): string[] {
  const own = path.join(dir, `${path.basename(path.resolve(dir))}.jsonl`);
  if (existsSync(own)) return [own];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const file = path.join(dir, name, `${name}.jsonl`);
    if (existsSync(file)) out.push(file);
  }
  return out;
}

/** Every file the arguments name, in order, each once; throws listing what matched nothing. */
export function resolveDataFiles(args: readonly string[], cwd: string): string[] {
  const files: string[] = [];
  const missing: string[] = [];
  for (const arg of args) {
    const absolute = path.resolve(cwd, arg);
    let found: string[];
    if (hasGlob(arg)) found = expandGlob(arg, cwd);
    else if (isDirectory(absolute)) found = datasetFilesIn(absolute);
    else found = existsSync(absolute) ? [absolute] : [];
    if (found.length === 0) missing.push(arg);
    files.push(...found);
  }
  if (missing.length) throw new Error(`no data files at ${missing.map((m) => `"${m}"`).join(', ')}`);
  return [...new Set(files)];
}

/**
 * Where the split rule's cross-set check (rule 4) looks: the folder holding the dataset folders,
 * i.e. the parent of the first file's folder (`../shared/data` for `../shared/data/xstest/xstest.jsonl`).
 */
export function defaultDataRoot(files: readonly string[]): string | undefined {
  if (files.length === 0) return undefined;
  return path.dirname(path.dirname(files[0]));
}
