import path from 'node:path';
import { importCycles, importEdges, sourceFiles, type ImportEdge } from '../../support/importGraph';

/**
 * The layering rules of DESIGN.md, checked on the real source: no import circles anywhere, and
 * imports run one way (gateway -> policies, guards, engine; policies -> guards' types only; guards
 * and engine import nothing of gateway or policies). A change that breaks one fails here, naming
 * the files.
 */
const ROOT = path.resolve(__dirname, '..', '..', '..');
const FOLDERS = ['gateway', 'guards', 'engine', 'policies'];
const edges = importEdges(ROOT, sourceFiles(ROOT, FOLDERS));
const top = (file: string) => file.split(path.sep)[0];

describe('the import graph', () => {
  test('is read from the real files (a few edges known to exist are found)', () => {
    expect(edges.length).toBeGreaterThan(500);
    expect(edges).toContainEqual({ from: path.join('policies', 'evaluate.ts'), to: path.join('guards', 'types.ts'), typeOnly: true });
  });

  test('has no import circles', () => {
    expect(importCycles(edges)).toEqual([]);
  });

  test('guards and engine import nothing of gateway or policies', () => {
    const back = edges.filter((e) => ['guards', 'engine'].includes(top(e.from)) && ['gateway', 'policies'].includes(top(e.to)));
    expect(back).toEqual([]);
  });

  test('policies import guards for types only, and nothing of gateway or engine', () => {
    const wrong = edges.filter((e) => top(e.from) === 'policies' && (['gateway', 'engine'].includes(top(e.to)) || (top(e.to) === 'guards' && !e.typeOnly)));
    expect(wrong).toEqual([]);
  });
});

describe('the circle finder', () => {
  const edge = (from: string, to: string): ImportEdge => ({ from, to, typeOnly: false });
  test('finds each circle once, whatever its length, and a file importing itself', () => {
    const found = importCycles([edge('a', 'b'), edge('b', 'a'), edge('c', 'd'), edge('d', 'e'), edge('e', 'c'), edge('e', 'f'), edge('g', 'g'), edge('f', 'h')]);
    expect(found).toEqual([['a', 'b'], ['c', 'd', 'e'], ['g']]);
  });
  test('a graph that only fans out has none', () => {
    expect(importCycles([edge('a', 'b'), edge('a', 'c'), edge('b', 'c')])).toEqual([]);
  });
});
