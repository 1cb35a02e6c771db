import type { ScanText } from '../../../guards/types';
import { isTypeName, stringLeaves } from './stringLeaves';

/**
 * Tool and function definitions, tool choices and response schemas: the engine reads them (Llama
 * 3.1's template renders the tools as JSON into the prompt), so every name, description, property
 * name and enum value is text to scan. One text per definition, its pieces joined by spaces, so
 * an instruction spread over several properties is read whole.
 */

/** JSON Schema keywords: structure, not text (their values are still read when they are strings). */
const SCHEMA_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'function',
  'name',
  'description',
  'parameters',
  'strict',
  'properties',
  'required',
  'items',
  'enum',
  'const',
  'title',
  'default',
  'examples',
  'format',
  'pattern',
  'additionalProperties',
  'anyOf',
  'oneOf',
  'allOf',
  'not',
  '$schema',
  '$ref',
  '$defs',
  'definitions',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'json_schema',
  'schema',
]);

/** One definition (a `tools[]` entry, a `functions[]` entry, `tool_choice`, `response_format`) as one text. */
export function definitionText(value: unknown, path: string): ScanText[] {
  if (typeof value === 'string') return value ? [{ source: 'tool_schema', path, text: value }] : [];
  const pieces = stringLeaves(value, path, { keys: true, skipKeys: SCHEMA_KEYWORDS, skipValue: isTypeName }).map((l) => l.text);
  return pieces.length ? [{ source: 'tool_schema', path, text: pieces.join(' ') }] : [];
}

export function definitionsText(list: readonly unknown[] | null | undefined, field: string): ScanText[] {
  return (list ?? []).flatMap((entry, i) => definitionText(entry, `${field}[${i}]`));
}

/** `tool_choice` / legacy `function_call`: the modes (`auto`, `none`, `required`) are structure; a named function is text. */
export function choiceText(value: unknown, field: string): ScanText[] {
  if (typeof value === 'string') return ['auto', 'none', 'required'].includes(value) ? [] : [{ source: 'tool_schema', path: field, text: value }];
  return definitionText(value, field);
}
