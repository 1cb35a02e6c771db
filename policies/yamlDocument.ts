import { isMap, isNode, LineCounter, parseDocument, type Document } from 'yaml';
import { PolicyError, type PathSegment } from './problems';

export interface SourcePosition {
  line: number;
  column: number;
}

/** One policy file parsed as YAML: its plain data plus a way back from a path to a line and column. */
export interface PolicyDocument {
  file: string;
  /** The document as plain data; undefined when the file holds nothing (empty or only comments). */
  data: unknown;
  /** Where the value at `path` starts, or its deepest existing ancestor when it is missing. */
  positionOf(path: readonly PathSegment[]): SourcePosition;
  /** Where the key of the entry at `path` starts (for unknown fields and bad keys). */
  keyPositionOf(path: readonly PathSegment[]): SourcePosition;
}

/**
 * Documents parsed before, by file, while their text is the same: a set reloads every file on any
 * change, and every app policy that `extends` a base parses that base again (100 apps extending the
 * default policy: 0.27 s of parsing on the event loop per reload, `npm run bench:reload`). Bounded; the least recently used goes first.
 */
const parsed = new Map<string, { source: string; document: PolicyDocument }>();
const PARSED_FILES = 256;
/** Larger texts are parsed each time (a parsed document holds several times its text's size). */
const PARSED_MAX_CHARS = 1024 * 1024;

/** Forgets every parse (`npm run bench:reload` measures a load that parses every file). */
export function forgetParsedPolicies(): void {
  parsed.clear();
}

/**
 * YAML text -> PolicyDocument, the same for the same text (a parse is reused while a file's text is
 * unchanged; each caller gets its own copy of the data). Duplicate keys and syntax errors are
 * PolicyErrors with their location, since a YAML parser that keeps the last duplicate would
 * silently drop a rule.
 */
export function parsePolicyYaml(source: string, file: string): PolicyDocument {
  const known = parsed.get(file);
  if (known?.source === source) {
    // Used again: the last to go (a base every app extends stays; a set of more files than the bound misses on the rest).
    parsed.delete(file);
    parsed.set(file, known);
    return { ...known.document, data: structuredClone(known.document.data) };
  }
  const document = parseYaml(source, file);
  parsed.delete(file);
  if (source.length > PARSED_MAX_CHARS) return document;
  if (parsed.size >= PARSED_FILES) parsed.delete(parsed.keys().next().value as string);
  parsed.set(file, { source, document });
  return { ...document, data: structuredClone(document.data) };
}

function parseYaml(source: string, file: string): PolicyDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number | undefined): SourcePosition => {
    const pos = lineCounter.linePos(offset ?? 0);
    return { line: pos.line, column: pos.col };
  };
  if (doc.errors.length > 0) {
    throw new PolicyError(doc.errors.map((e) => ({ file, ...at(e.pos[0]), path: '', message: yamlMessage(e.code, e.message, source.slice(e.pos[0])) })));
  }
  let data: unknown;
  try {
    data = doc.toJS();
  } catch (err) {
    // The yaml library's guard against alias bombs ("Excessive alias count ...") throws here: name the file.
    throw new PolicyError([{ file, line: 1, column: 1, path: '', message: `cannot read the YAML: ${(err as Error).message}` }]);
  }
  return {
    file,
    data,
    positionOf: (path) => at(valueOffset(doc, path)),
    keyPositionOf: (path) => at(keyOffset(doc, path)),
  };
}

function valueOffset(doc: Document, path: readonly PathSegment[]): number {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true);
    if (isNode(node) && node.range) return node.range[0];
  }
  return 0;
}

function keyOffset(doc: Document, path: readonly PathSegment[]): number {
  const parent = doc.getIn(path.slice(0, -1), true);
  const key = path[path.length - 1];
  if (isMap(parent)) {
    const pair = parent.items.find((item) => (isNode(item.key) ? (item.key as { value?: unknown }).value : item.key) === key);
    if (pair && isNode(pair.key) && pair.key.range) return pair.key.range[0];
  }
  return valueOffset(doc, path);
}

/** The parser's message, said for a policy author: `from` is the source from where the error starts. */
function yamlMessage(code: string, message: string, from: string): string {
  const firstLine = message.split('\n')[0];
  if (code === 'DUPLICATE_KEY' || /duplicate|unique/i.test(firstLine)) {
    // The key as written (plain, or quoted), so the author knows which of the two to remove.
    const key = /^("(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^:\n#]+?)\s*:/.exec(from)?.[1];
    return `duplicate key${key ? ` \`${key.slice(0, 60)}\`` : ''}: each key may appear once in a mapping (a parser that kept the last would silently drop the first)`;
  }
  if (code === 'MULTIPLE_DOCS') return 'a policy file holds one YAML document: remove the `---` separator and what follows it, or put that policy in a file of its own';
  return `not valid YAML: ${firstLine}`;
}
