/** Where a policy is wrong, in terms an author can act on: file, line, column, and what to change. */
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
    super(problems.map((p) => formatProblem(p)).join('\n'));
    this.name = 'PolicyError';
  }
}

/** `file:line:column: message (path)`, the shape editors and terminals turn into links. */
export function formatProblem(p: PolicyProblem, displayFile: (file: string) => string = (f) => f): string {
  const where = p.path ? ` (${p.path})` : '';
  return `${displayFile(p.file)}:${p.line}:${p.column}: ${p.message}${where}`;
}

export type PathSegment = string | number;

export function dotted(path: readonly PathSegment[]): string {
  return path.join('.');
}
