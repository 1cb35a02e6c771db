import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * One labelled record of the shared guard data (../shared/data/README.md, "Format"), plus the
 * dataset it belongs to. Reading is strict about types so a malformed file fails loudly with
 * its file and line instead of silently skewing metrics.
 */

/** `system`: an app's system prompt (none in the shared sets; used with `--as-role system` to calibrate the system-prompt rule). */
export type RecordRole = 'user' | 'assistant' | 'tool' | 'document' | 'system';
export type RecordTask = 'A' | 'B';

export interface DataRecord {
  text: string;
  label: string;
  categories: string[];
  role: RecordRole;
  /** `owner/repo@commit:path` of the original file. */
  source: string;
  task: RecordTask;
  id: string;
  group?: string;
  orig_label?: string;
  /** Dataset name: the folder name (`<name>/<name>.jsonl`), else the id's prefix. */
  dataset: string;
}

export const RECORD_ROLES: readonly RecordRole[] = ['user', 'assistant', 'tool', 'document', 'system'];
const ROLES = RECORD_ROLES;
const TASK_A_LABELS = new Set(['benign', 'injection', 'jailbreak']);

export class DataError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

/**
 * The dataset a record belongs to. The shared layout is `<name>/<name>.jsonl`, and ids are
 * `<name>-NNNNNN`; the id wins so records copied into another file keep their dataset (the split
 * rule keys groups by dataset), the folder is the fallback for ids in another shape.
 */
export function datasetName(id: string, file: string): string {
  const match = /^(.+)-\d+$/.exec(id);
  if (match) return match[1];
  return path.basename(path.dirname(path.resolve(file)));
}

/** Parses one JSONL line into a record; throws DataError naming `where` on any problem. */
export function parseRecord(line: string, file: string, lineNumber: number): DataRecord {
  const where = `${file}:${lineNumber}`;
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new DataError(`${where}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new DataError(`${where}: each line must be a JSON object`);
  const o = raw as Record<string, unknown>;
  if (typeof o.text !== 'string') throw new DataError(`${where}: "text" must be a string`);
  if (typeof o.label !== 'string' || o.label === '') throw new DataError(`${where}: "label" must be a non-empty string`);
  const role = o.role ?? 'user';
  if (typeof role !== 'string' || !ROLES.includes(role as RecordRole)) throw new DataError(`${where}: "role" must be one of ${ROLES.join(', ')}`);
  const categories = o.categories ?? [];
  if (!Array.isArray(categories) || categories.some((c) => typeof c !== 'string')) throw new DataError(`${where}: "categories" must be an array of strings`);
  // Older files may lack `task`: the label vocabulary says which task it is.
  const task = o.task ?? (TASK_A_LABELS.has(o.label) ? 'A' : 'B');
  if (task !== 'A' && task !== 'B') throw new DataError(`${where}: "task" must be "A" or "B"`);
  const id = typeof o.id === 'string' && o.id !== '' ? o.id : `${path.basename(file, '.jsonl')}-line${lineNumber}`;
  // Python's split rule formats any non-empty group with %s; numbers become their decimal text.
  const group = o.group === null || o.group === undefined || o.group === '' ? undefined : String(o.group);
  return {
    text: o.text,
    label: o.label,
    categories: categories as string[],
    role: role as RecordRole,
    source: typeof o.source === 'string' ? o.source : '',
    task,
    id,
    ...(group !== undefined ? { group } : {}),
    ...(typeof o.orig_label === 'string' ? { orig_label: o.orig_label } : {}),
    dataset: datasetName(id, file),
  };
}

/** Parses a whole JSONL text (blank lines ignored). */
export function parseJsonl(content: string, file: string): DataRecord[] {
  const out: DataRecord[] = [];
  const lines = content.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line) out.push(parseRecord(line, file, i + 1));
  }
  return out;
}

export function readJsonlFile(file: string): DataRecord[] {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch (err) {
    throw new DataError(`cannot read ${file}: ${(err as Error).message}`);
  }
  return parseJsonl(content, file);
}
