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
 * Pure: YAML text -> PolicyDocument. Duplicate keys and syntax errors are PolicyErrors with their
 * location, since a YAML parser that keeps the last duplicate would silently drop a rule.
 */
export function parsePolicyYaml(source: string, file: string): PolicyDocument {
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
