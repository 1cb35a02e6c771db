import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments } from 'yaml';

/** The repository root and the deployment kit's folder. */
export const ROOT = path.join(__dirname, '..', '..');
export const DEPLOY = path.join(ROOT, 'deploy');

export type Json = Record<string, unknown>;

/** One YAML file. Merge keys (`<<: *anchor`) are on, as docker compose reads them. */
export function readYaml(file: string): Json {
  const value = parse(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true }) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new Error(`${file}: not a YAML mapping`);
  return value as Json;
}

/** Every document of a multi-document YAML file; a document with errors throws. */
export function readYamlDocuments(file: string): Json[] {
  return parseAllDocuments(readFileSync(file, 'utf8'), { merge: true, uniqueKeys: true })
    .map((doc) => {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      return doc.toJS() as Json;
    })
    .filter((doc) => doc !== null);
}

export interface DockerInstruction {
  keyword: string;
  /** The instruction's text after the keyword, continuation lines joined. */
  args: string;
  /** `--name=value` options that lead the arguments (COPY --from, HEALTHCHECK --interval...). */
  flags: Record<string, string>;
  /** The JSON array of an exec-form instruction (CMD, ENTRYPOINT, HEALTHCHECK CMD), if it is one. */
  exec?: string[];
}

/** The Dockerfile's instructions in order: comments dropped, backslash continuations joined. */
export function parseDockerfile(text: string): DockerInstruction[] {
  const logical: string[] = [];
  let current = '';
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd();
    if (!current && (line.trim() === '' || line.trimStart().startsWith('#'))) continue;
    if (current && line.trimStart().startsWith('#')) continue;
    if (line.endsWith('\\')) {
      current += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(current + line);
    current = '';
  }
  if (current) logical.push(current);
  return logical.map((line) => {
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match) throw new Error(`not a Dockerfile instruction: ${line}`);
    const keyword = match[1].toUpperCase();
    let rest = match[2].trim();
    const flags: Record<string, string> = {};
    for (let flag = /^--([a-z-]+)=(\S+)\s+/.exec(rest); flag; flag = /^--([a-z-]+)=(\S+)\s+/.exec(rest)) {
      flags[flag[1]] = flag[2];
      rest = rest.slice(flag[0].length);
    }
    const json = keyword === 'HEALTHCHECK' ? rest.replace(/^CMD\s+/, '') : rest;
    let exec: string[] | undefined;
    if (json.startsWith('[')) {
      const parsed = JSON.parse(json) as unknown;
      if (Array.isArray(parsed) && parsed.every((p) => typeof p === 'string')) exec = parsed;
    }
    return { keyword, args: rest, flags, exec };
  });
}

/** The instructions of the last stage (the image that runs). */
export function finalStage(instructions: DockerInstruction[]): DockerInstruction[] {
  const from = instructions.map((i, n) => (i.keyword === 'FROM' ? n : -1)).filter((n) => n >= 0);
  return instructions.slice(from[from.length - 1]);
}

/** `KEY=value` pairs of ENV instructions (the form with `=`). */
export function envOf(instructions: DockerInstruction[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const i of instructions.filter((x) => x.keyword === 'ENV')) {
    for (const pair of i.args.match(/[A-Za-z_][A-Za-z0-9_]*=("[^"]*"|\S+)/g) ?? []) {
      const eq = pair.indexOf('=');
      env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"|"$/g, '');
    }
  }
  return env;
}

/** A compose `environment:` as a map (the list form `KEY=value` too). */
export function composeEnv(service: Json): Record<string, string> {
  const env = service.environment;
  if (Array.isArray(env)) return Object.fromEntries(env.map((e: string) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  return Object.fromEntries(Object.entries((env ?? {}) as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
}

/** A compose short-syntax volume `source:target[:mode]`. */
export function composeVolume(spec: string): { source: string; target: string; readOnly: boolean } {
  const [source, target, mode] = spec.split(':');
  return { source, target, readOnly: mode === 'ro' };
}

/**
 * Compose interpolation as `docker compose config` does it for `${VAR:?msg}`, `${VAR:-default}`
 * and `${VAR}`, from the given variables (a required one that is missing throws, as compose does).
 */
export function interpolate(value: string, vars: Record<string, string>): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:\?|:-)([^}]*))?\}/g, (_m, name: string, op: string | undefined, arg: string | undefined) => {
    const v = vars[name];
    if (v !== undefined && v !== '') return v;
    if (op === ':?') throw new Error(`required variable ${name} is missing: ${arg}`);
    return op === ':-' ? (arg ?? '') : '';
  });
}

/** `interpolate` over every string of a document, as compose does before it validates one. */
export function interpolateAll<T>(doc: T, vars: Record<string, string>): T {
  if (typeof doc === 'string') return interpolate(doc, vars) as T;
  if (Array.isArray(doc)) return doc.map((d: unknown) => interpolateAll(d, vars)) as T;
  if (doc && typeof doc === 'object') return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, interpolateAll(v, vars)])) as T;
  return doc;
}
