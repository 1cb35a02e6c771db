import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { z } from 'zod';
import { didYouMean } from './didYouMean';
import { promptVariantOf, promptVariantOfDirectory } from './llamaGuardVariant';
import { mergeLayers, type MergedLayers } from './merge';
import { dotted, PolicyError, type PathSegment, type PolicyProblem } from './problems';
import { PolicyFile } from './schema';
import { isRecord, knownKeysAt } from './schemaKeys';
import { semanticProblems } from './semantics';
import { policyVersion } from './version';
import { parsePolicyYaml, type PolicyDocument } from './yamlDocument';

export { closest } from './didYouMean';
export { formatProblem, PolicyError, type PolicyProblem } from './problems';
export { policyVersion } from './version';

/** A policy ready to enforce: validated, `extends` resolved, model paths resolved, versioned by content hash. */
export interface LoadedPolicy {
  id: string;
  /** sha256 of the resolved policy (first 12 hex digits): what `x-safety-policy` and audit records carry. */
  version: string;
  /** Absolute path of the policy's own file. */
  file: string;
  /** Every file it was built from: the end of its `extends` chain first, its own file last. */
  files: string[];
  policy: PolicyFile;
}

/** Reads a file's text; throws like fs.readFileSync when it cannot. Injected so loading stays testable. */
export type ReadSource = (file: string) => string;

export const readUtf8: ReadSource = (file) => readFileSync(file, 'utf8');

/** A loaded policy plus what the policy-set loader needs from its own file. */
export interface LoadedPolicyWithSource {
  loaded: LoadedPolicy;
  /** The policy's own document, for locating its `id` and `policies` entries. */
  document: PolicyDocument;
  /** Its own `policies:` entries, as written (relative to its folder). */
  policies: string[];
}

export function loadPolicyFile(file: string, read: ReadSource = readUtf8): LoadedPolicy {
  return loadPolicyWithSource(file, read).loaded;
}

/** Pure given `read`: YAML text -> validated, resolved policy, or a PolicyError listing every problem with its location. */
export function parsePolicySource(source: string, file: string, read: ReadSource = readUtf8): LoadedPolicy {
  return resolvePolicy(source, file, read).loaded;
}

export function loadPolicyWithSource(file: string, read: ReadSource = readUtf8): LoadedPolicyWithSource {
  return resolvePolicy(readOrProblem(read, file, file), file, read);
}

interface Layer {
  /** As the author named it (the file given, or the absolute path of an inherited file). */
  file: string;
  absolute: string;
  document: PolicyDocument;
  data: Record<string, unknown>;
}

function resolvePolicy(source: string, file: string, read: ReadSource): LoadedPolicyWithSource {
  const chain = readChain(source, file, read);
  const layers = chain.map((layer) => resolveModelPaths(layer.data, path.dirname(layer.absolute)));
  const merged = mergeLayers(layers);
  const leaf = chain[chain.length - 1];
  const parsed = PolicyFile.safeParse(merged.data);
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((issue) => zodProblem(issue, merged, chain)));
  }
  withPromptVariants(parsed.data);
  const semantic = semanticProblems(parsed.data);
  if (semantic.length > 0) {
    throw new PolicyError(semantic.map((s) => withGuardOrigin(locate(merged, chain, s.path, s.message, s.at === 'key'), s.path, parsed.data, merged, chain)));
  }
  const { extends: _extends, policies, ...policy } = parsed.data;
  return {
    loaded: { id: policy.id, version: policyVersion(policy), file: leaf.absolute, files: chain.map((l) => l.absolute), policy },
    document: leaf.document,
    policies: policies ?? [],
  };
}

/** The file and every file it `extends`, base first. Cycles and unreadable parents are errors at the `extends` line. */
function readChain(source: string, file: string, read: ReadSource): Layer[] {
  const chain: Layer[] = [];
  let current: { file: string; absolute: string; source: string } = { file, absolute: path.resolve(file), source };
  for (;;) {
    const document = parsePolicyYaml(current.source, current.file);
    const data = documentData(document);
    chain.unshift({ file: current.file, absolute: current.absolute, document, data });
    const parent = data.extends;
    if (parent === undefined) return chain;
    const at = { file: current.file, ...document.positionOf(['extends']), path: 'extends' };
    if (typeof parent !== 'string' || parent === '') {
      throw new PolicyError([{ ...at, message: '`extends` takes the relative path of the policy file to inherit from, e.g. `extends: ./base.yaml`' }]);
    }
    // Hot reload watches .yaml and .yml files only (watcher.ts): a base named otherwise would never reload.
    if (!/\.ya?ml$/i.test(parent)) throw new PolicyError([{ ...at, message: `\`extends: ${parent}\` is not a .yaml or .yml file; hot reload watches only those, so edits to it would never apply` }]);
    const absolute = path.resolve(path.dirname(current.absolute), parent);
    const seen = chain.map((l) => l.absolute);
    if (seen.includes(absolute)) {
      // chain runs base-first; the cycle as the author follows it is the reverse.
      const cycle = [...seen].reverse().concat(absolute).map((f) => path.basename(f));
      throw new PolicyError([{ ...at, message: `cyclic \`extends\`: ${cycle.join(' -> ')}; a policy cannot inherit from itself` }]);
    }
    let parentSource: string;
    try {
      parentSource = read(absolute);
    } catch (err) {
      throw new PolicyError([{ ...at, message: `cannot read \`${parent}\` (${absolute}): ${errorCode(err)}` }]);
    }
    current = { file: absolute, absolute, source: parentSource };
  }
}

function documentData(document: PolicyDocument): Record<string, unknown> {
  const { data, file } = document;
  if (data === null || data === undefined) {
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: 'the policy file is empty: it needs at least an `id`' }]);
  }
  if (!isRecord(data)) {
    const kind = Array.isArray(data) ? 'a list' : `a ${typeof data}`;
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: `a policy file is a YAML mapping (id, guards, input, ...); this file holds ${kind}` }]);
  }
  return data;
}

function readOrProblem(read: ReadSource, file: string, shown: string): string {
  try {
    return read(file);
  } catch (err) {
    throw new PolicyError([{ file: shown, line: 1, column: 1, path: '', message: `cannot read policy file: ${errorCode(err)}` }]);
  }
}

/** What went wrong in words, with the system's code for searching (`no such file (ENOENT)`). */
const READ_FAILURES: Readonly<Record<string, string>> = { ENOENT: 'no such file', EACCES: 'permission denied', EISDIR: 'it is a folder, not a file', ENOTDIR: 'a part of the path is not a folder' };

function errorCode(err: unknown): string {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (!code) return String(err);
  return READ_FAILURES[code] ? `${READ_FAILURES[code]} (${code})` : code;
}

/**
 * Model directories resolve from the folder of the file that names them, so a base policy and an
 * app override in another folder each mean their own `./models`. Done on the raw data, per file,
 * before merging; values the schema would reject are left for it to report.
 */
function resolveModelPaths(data: Record<string, unknown>, baseDir: string): Record<string, unknown> {
  if (!isRecord(data.guards)) return data;
  const guards = Object.fromEntries(
    Object.entries(data.guards).map(([name, spec]) => {
      if (!isRecord(spec) || typeof spec.model !== 'string' || spec.model === '') return [name, spec];
      const isUrlLike = /^[a-z]+:\/\//i.test(spec.model);
      // Remote backends name a served model, not a directory.
      const isDirectory = spec.type === 'prompt_guard' ? spec.backend === undefined || spec.backend === 'onnx' : spec.backend !== 'openai';
      // A remote Prompt Guard's local tokenizer folder resolves like a model directory.
      const withTokenizer = typeof spec.tokenizer === 'string' && spec.tokenizer !== '' ? { ...spec, tokenizer: path.resolve(baseDir, spec.tokenizer) } : spec;
      return [name, isDirectory && !isUrlLike ? { ...withTokenizer, model: path.resolve(baseDir, spec.model) } : withTokenizer];
    }),
  );
  return { ...data, guards };
}

/** A Llama Guard decoder's prompt, when the policy does not name it: the model's own (llamaGuardVariant.ts), decided here so checks and the running guard agree. */
function withPromptVariants(policy: PolicyFile): void {
  for (const spec of Object.values(policy.guards)) {
    if (spec.type !== 'llama_guard' || spec.backend === 'encoder' || spec.prompt_variant !== undefined) continue;
    spec.prompt_variant = spec.backend === 'onnx' ? promptVariantOfDirectory(spec.model) : promptVariantOf({ name: spec.model });
  }
}

/**
 * A rule's problem that comes from its guard (`sources` on a guard that is not Prompt Guard, ...)
 * when the guard is defined in another file than the rule (a child redefining a base's guard):
 * says where, so the author is pointed at the line that changed, not only at the base's rule.
 */
function withGuardOrigin(problem: PolicyProblem, docPath: readonly PathSegment[], policy: PolicyFile, merged: MergedLayers, chain: Layer[]): PolicyProblem {
  const [direction, index] = docPath;
  if ((direction !== 'input' && direction !== 'output') || typeof index !== 'number') return problem;
  const guard = policy[direction][index]?.guard;
  const spec = guard === undefined ? undefined : policy.guards[guard];
  if (!spec) return problem;
  const defined = locate(merged, chain, ['guards', guard!], '');
  if (defined.file === problem.file) return problem;
  return { ...problem, message: `${problem.message} (guard \`${guard}\` is a ${spec.type} as defined at ${defined.file}:${defined.line})` };
}

function locate(merged: MergedLayers, chain: Layer[], docPath: readonly PathSegment[], message: string, key?: boolean): PolicyProblem {
  const origin = merged.originOf(docPath);
  const layer = chain[origin.layer] ?? chain[chain.length - 1];
  const position = key ? layer.document.keyPositionOf(origin.path) : layer.document.positionOf(origin.path);
  // The path as it is in the file named (an inherited rule's index there, not in the merged list).
  const shownPath = key ? origin.path.slice(0, -1) : origin.path;
  return { file: layer.file, ...position, path: dotted(shownPath), message };
}

function zodProblem(issue: z.core.$ZodIssue, merged: MergedLayers, chain: Layer[]): PolicyProblem {
  const docPath = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  const value = valueAt(merged.data, docPath);
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(docPath, merged.data);
      // A YAML merge key (`<<: *anchor`) reaches the schema as a field named `<<`: say what it is.
      const message = issue.keys
        .map((key) => (key === '<<' ? 'YAML merge keys (`<<: *anchor`) are not supported here: repeat the fields, or share them with `extends`' : `unknown field \`${key}\`${didYouMean(key, known)}`))
        .join('; ');
      return locate(merged, chain, [...docPath, issue.keys[0]], message, true);
    }
    case 'invalid_type':
      if (value === undefined) return locate(merged, chain, docPath, `missing required field \`${String(docPath[docPath.length - 1])}\``);
      return locate(merged, chain, docPath, issue.message);
    case 'invalid_value': {
      const options = issue.values.map(String);
      if (value === undefined) return locate(merged, chain, docPath, `missing required field \`${String(docPath[docPath.length - 1])}\`; use one of: ${options.join(', ')}`);
      return locate(merged, chain, docPath, `\`${String(value)}\` is not allowed here${didYouMean(String(value), options)}; use one of: ${options.join(', ')}`);
    }
    case 'invalid_union': {
      const options = (issue as { options?: unknown[] }).options?.map(String);
      if (options && (issue as { discriminator?: string }).discriminator) {
        const shown = value === undefined ? 'missing `type`' : `unknown type \`${String(value)}\`${didYouMean(String(value), options)}`;
        return locate(merged, chain, value === undefined ? docPath.slice(0, -1) : docPath, `${shown}; use one of: ${options.join(', ')}`);
      }
      // Say what each alternative wanted (zod's own message is only "Invalid input").
      const wanted = [...new Set(((issue as { errors?: z.core.$ZodIssue[][] }).errors ?? []).flatMap((alt) => alt.filter((i) => i.code === 'invalid_type' && i.path.length === 0).map((i) => (i as { expected: string }).expected)))];
      if (wanted.length > 0) return locate(merged, chain, docPath, `\`${JSON.stringify(value)?.slice(0, 60)}\` is not allowed here: expected ${wanted.map((w) => (w === 'array' ? 'a list' : `a ${w}`)).join(' or ')}`);
      return locate(merged, chain, docPath, issue.message);
    }
    case 'invalid_key': {
      const key = docPath[docPath.length - 1];
      const reasons = issue.issues.map((i) => i.message).join('; ');
      return locate(merged, chain, docPath, `invalid name \`${String(key)}\`: ${reasons}`, true);
    }
    default:
      return locate(merged, chain, docPath, issue.message);
  }
}

function valueAt(data: unknown, docPath: readonly PathSegment[]): unknown {
  let value = data;
  for (const segment of docPath) {
    if (!isRecord(value) && !Array.isArray(value)) return undefined;
    value = (value as Record<PathSegment, unknown>)[segment];
  }
  return value;
}
