import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPolicyWithSource, type LoadedPolicy } from './loader';
import { PolicyError, type PolicyProblem } from './problems';
import { parsePolicyYaml, type PolicyDocument } from './yamlDocument';

/**
 * The policies one gateway serves. The main file (the one the gateway starts with) is the default;
 * its `policies:` entries name more files, or directories whose *.yaml / *.yml files are all
 * loaded; those may list more in turn, and every file an `extends` reaches is part of the set too.
 * Apps select a policy by its `id`, which must be unique in the set.
 */
export interface PolicySet {
  main: LoadedPolicy;
  /** Every policy of the set by id, the main one included. */
  byId: ReadonlyMap<string, LoadedPolicy>;
  /** Directories holding the set's files (and listed directories): what a watcher watches. */
  directories: string[];
  /**
   * What `policies:` entries name as folders, or name and is missing: a watcher also reloads when
   * one of these appears, is replaced or is re-pointed in its parent (no .yaml name in that event).
   */
  listed: string[];
}

/** The file system as the set loader sees it; injected so tests can run it on data. */
export interface PolicySetFs {
  read(file: string): string;
  /** 'directory', 'file', or undefined when nothing is there. */
  kind(p: string): 'directory' | 'file' | undefined;
  list(dir: string): string[];
  /** The file a path names once every symbolic link is followed (the path itself when it cannot be). */
  realpath?(file: string): string;
}

export const nodePolicySetFs: PolicySetFs = {
  read: (file) => readFileSync(file, 'utf8'),
  realpath: (file) => {
    try {
      return realpathSync(file);
    } catch {
      return file;
    }
  },
  kind: (p) => {
    try {
      return statSync(p).isDirectory() ? 'directory' : 'file';
    } catch {
      return undefined;
    }
  },
  list: (dir) => readdirSync(dir),
};

/** A set that failed to load, with every problem found and the directories it looked in (watch them: a fix may land there). */
export class PolicySetError extends PolicyError {
  constructor(
    problems: PolicyProblem[],
    readonly directories: string[],
    readonly listed: string[] = [],
  ) {
    super(problems);
    this.name = 'PolicySetError';
  }
}

/** A file that failed to load: its `policies:` entries as written, when the YAML itself reads and they are a list of names. */
function listedDespiteProblems(file: string, read: (file: string) => string): { entries: string[]; document: PolicyDocument } | undefined {
  try {
    const document = parsePolicyYaml(read(file), file);
    const listed = (document.data as { policies?: unknown } | null)?.policies;
    if (!Array.isArray(listed) || !listed.every((e) => typeof e === 'string' && e !== '')) return undefined;
    return { entries: listed as string[], document };
  } catch {
    return undefined;
  }
}

/** Loads the whole set; any problem anywhere fails the whole set, so a set is swapped in whole or not at all. */
export function loadPolicySet(mainFile: string, fs: PolicySetFs = nodePolicySetFs): PolicySet {
  const directories = new Set<string>();
  const listed = new Set<string>();
  // One read per file and load: a file that changes mid-load is seen with one content throughout.
  const contents = new Map<string, string>();
  const read = (file: string) => {
    const absolute = path.resolve(file);
    directories.add(path.dirname(absolute));
    // A link to a file in another folder: edits land there, so that folder is watched too.
    const real = fs.realpath?.(absolute);
    if (real && real !== absolute) directories.add(path.dirname(real));
    let text = contents.get(absolute);
    if (text === undefined) {
      text = fs.read(absolute);
      contents.set(absolute, text);
    }
    return text;
  };

  const problems: PolicyProblem[] = [];
  // As for a listed file: hot reload watches .yaml and .yml names only, so a `policy.json` would
  // load once and never take an edit, and nothing would say so.
  if (!YAML_FILE.test(mainFile)) {
    problems.push({ file: mainFile, line: 1, column: 1, path: '', message: `\`${path.basename(mainFile)}\` is not a .yaml or .yml file; hot reload watches only those, so edits to it would never apply: rename it` });
  }
  const loaded: LoadedPolicy[] = [];
  const queue: string[] = [path.resolve(mainFile)];
  const visited = new Set<string>();
  let main: LoadedPolicy | undefined;
  const ids = new Map<string, { file: string; line: number; column: number }>();

  while (queue.length > 0) {
    const file = queue.shift() as string;
    if (visited.has(file)) continue;
    visited.add(file);
    let result;
    try {
      // The main file keeps the name it was given in messages; the others are named by absolute path.
      result = loadPolicyWithSource(file === path.resolve(mainFile) ? mainFile : file, read);
    } catch (err) {
      if (!(err instanceof PolicyError)) throw err;
      problems.push(...err.problems);
      // The files it lists are checked too, so one run reports every file's problems, not one file's at a time.
      const listed = listedDespiteProblems(file === path.resolve(mainFile) ? mainFile : file, read);
      if (listed) queueListed(listed.entries, path.dirname(path.resolve(file)), listed.document);
      continue;
    }
    const { loaded: policy, document, policies } = result;
    main ??= policy;
    loaded.push(policy);
    queue.push(...policy.files.filter((f) => f !== policy.file));
    const idAt = { file: document.file, ...document.positionOf(['id']) };
    const first = ids.get(policy.id);
    if (first) {
      problems.push({ ...idAt, path: 'id', message: `policy id \`${policy.id}\` is already used by ${first.file}:${first.line}; ids select policies, so they must be unique` });
    } else {
      ids.set(policy.id, idAt);
    }
    queueListed(policies, path.dirname(policy.file), document);
  }

  /** The files and folders a policy's `policies:` names, queued; a missing one or one that is not YAML is a problem at its entry. */
  function queueListed(entries: readonly string[], dir: string, document: Pick<PolicyDocument, 'file' | 'positionOf'>): void {
    entries.forEach((entry, i) => {
      const target = path.resolve(dir, entry);
      const at = { file: document.file, ...document.positionOf(['policies', i]), path: `policies.${i}` };
      const kind = fs.kind(target);
      if (kind === 'directory') {
        directories.add(target);
        listed.add(target);
        queue.push(...policyFilesIn(fs.list(target)).map((name) => path.join(target, name)));
      } else if (kind === 'file' && !YAML_FILE.test(target)) {
        problems.push({ ...at, message: `\`${entry}\` is not a .yaml or .yml file; hot reload watches only those, so edits to it would never apply` });
      } else if (kind === 'file') {
        queue.push(target);
      } else {
        // Watched from the nearest folder that exists, so the fix (creating it) is picked up.
        const watchable = nearestExisting(fs, path.dirname(target));
        if (watchable) directories.add(watchable);
        listed.add(target);
        problems.push({ ...at, message: `\`${entry}\` (${target}) does not exist; list policy files or directories relative to this file` });
      }
    });
  }

  // A base's problem reaches every file that extends it: said once.
  const unique = [...new Map(problems.map((p) => [`${p.file}:${p.line}:${p.column}:${p.message}`, p])).values()];
  if (unique.length > 0 || !main) throw new PolicySetError(unique, [...directories], [...listed]);
  return { main, byId: new Map(loaded.map((p) => [p.id, p])), directories: [...directories], listed: [...listed] };
}

/** Pure: the entries of a listed directory that are policy files, in a stable order. Editor droppings (.x.swp, #x#, x~) are skipped. */
export function policyFilesIn(names: readonly string[]): string[] {
  return names.filter((name) => YAML_FILE.test(name) && !/^[.#]/.test(name)).sort();
}

/** Policy files end in .yaml or .yml: the watcher (watcher.ts isPolicyFileEvent) reloads on changes to those only. */
const YAML_FILE = /\.ya?ml$/i;

/** The folder itself or, when it does not exist yet, its parent (never a root: too wide to watch). */
function nearestExisting(fs: { kind(p: string): string | undefined }, dir: string): string | undefined {
  for (const at of [dir, path.dirname(dir)]) {
    if (path.dirname(at) === at) return undefined;
    if (fs.kind(at) === 'directory') return at;
  }
  return undefined;
}
