import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { PolicyFile } from './schema';
import { semanticProblems } from './semantics';

/** A policy ready to enforce: validated, model paths resolved, versioned by content hash. */
export interface LoadedPolicy {
  id: string;
  /** sha256 of the resolved policy (first 12 hex digits): what `x-safety-policy` and audit records carry. */
  version: string;
  file: string;
  policy: PolicyFile;
}

export interface PolicyProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted location inside the document, e.g. `input.0.threshold`. */
  path: string;
  message: string;
}

export class PolicyError extends Error {
  constructor(readonly problems: PolicyProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'PolicyError';
  }
}

export function formatProblem(p: PolicyProblem): string {
  const where = p.path ? ` (${p.path})` : '';
  return `${p.file}:${p.line}:${p.column}: ${p.message}${where}`;
}

export function loadPolicyFile(file: string): LoadedPolicy {
  let source: string;
  try {
    source = readFileSync(file, 'utf8');
  } catch (err) {
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: `cannot read policy file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` }]);
  }
  return parsePolicySource(source, file);
}

/** Pure: YAML text -> validated, resolved policy, or a PolicyError listing every problem with its location. */
export function parsePolicySource(source: string, file: string): LoadedPolicy {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined) => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new PolicyError(doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: yamlMessage(e.message) })));
  }
  const raw: unknown = doc.toJS();
  if (raw === null || raw === undefined) {
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: 'the policy file is empty: it needs at least an `id`' }]);
  }
  const parsed = PolicyFile.safeParse(raw);
  if (!parsed.success) {
    throw new PolicyError(parsed.error.issues.map((issue) => zodProblem(issue, doc, file, at)));
  }
  const semantic = semanticProblems(parsed.data);
  if (semantic.length > 0) {
    throw new PolicyError(semantic.map((s) => ({ file, ...at(rangeOf(doc, s.path)), path: s.path.join('.'), message: s.message })));
  }
  const policy = resolveModelPaths(parsed.data, path.dirname(path.resolve(file)));
  return { id: policy.id, version: policyVersion(policy), file: path.resolve(file), policy };
}

/** Version = content hash of the resolved policy, so the same rules always carry the same version. */
export function policyVersion(policy: PolicyFile): string {
  return createHash('sha256').update(canonicalJson(policy)).digest('hex').slice(0, 12);
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function resolveModelPaths(policy: PolicyFile, baseDir: string): PolicyFile {
  const guards = Object.fromEntries(
    Object.entries(policy.guards).map(([name, spec]) => {
      const isUrlLike = /^[a-z]+:\/\//i.test(spec.model);
      const isDirectory = spec.type === 'prompt_guard' || spec.backend !== 'openai';
      const model = isDirectory && !isUrlLike ? path.resolve(baseDir, spec.model) : spec.model;
      return [name, { ...spec, model }];
    }),
  );
  return { ...policy, guards };
}

function zodProblem(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number | undefined) => { line: number; column: number },
): PolicyProblem {
  const docPath = issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p));
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeysAt(doc, docPath);
    message = issue.keys
      .map((key) => {
        const suggestion = closest(key, known);
        return `unknown field \`${key}\`` + (suggestion ? `; did you mean \`${suggestion}\`?` : '');
      })
      .join('; ');
    const keyPath = [...docPath, issue.keys[0] as string];
    return { file, ...at(keyRangeOf(doc, keyPath)), path: docPath.join('.'), message };
  }
  return { file, ...at(rangeOf(doc, docPath)), path: docPath.join('.'), message };
}

/** Field names the schema allows next to an unknown key, for did-you-mean hints. */
function knownKeysAt(_doc: Document, docPath: (string | number)[]): string[] {
  const top = Object.keys(PolicyFile.shape);
  if (docPath.length === 0) return top;
  const section = docPath[0];
  if ((section === 'input' || section === 'output') && docPath.length === 2) return ['id', 'guard', 'sources', 'threshold', 'action', 'categories', 'mode', 'on_error'];
  if (section === 'guards' && docPath.length === 2) {
    return ['type', 'backend', 'model', 'variant', 'temperature', 'timeout_ms', 'prompt_variant', 'base_url', 'api_key_env', 'mode', 'categories', 'excluded_categories'];
  }
  if (section === 'streaming') return ['mode', 'window_tokens', 'overlap_tokens'];
  if (section === 'refusals') return ['output', 'input'];
  if (section === 'routes') return ['passthrough'];
  return [];
}

export function closest(word: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    const d = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = candidate;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previousDiagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const saved = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, previousDiagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      previousDiagonal = saved;
    }
  }
  return row[b.length];
}

function rangeOf(doc: Document, docPath: (string | number)[]): number | undefined {
  for (let n = docPath.length; n >= 0; n--) {
    const node = doc.getIn(docPath.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyRangeOf(doc: Document, keyPath: (string | number)[]): number | undefined {
  const parent = doc.getIn(keyPath.slice(0, -1), true) as { items?: { key?: { value?: unknown; range?: [number, number, number] } }[] } | undefined;
  const key = keyPath[keyPath.length - 1];
  const pair = parent?.items?.find((item) => item.key?.value === key);
  return pair?.key?.range?.[0] ?? rangeOf(doc, keyPath.slice(0, -1));
}

function yamlMessage(message: string): string {
  const firstLine = message.split('\n')[0];
  if (/duplicate|unique/i.test(firstLine)) return `duplicate key: ${firstLine}`;
  return `not valid YAML: ${firstLine}`;
}
