import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { datasetFilesIn, defaultDataRoot, globSegmentRegExp, resolveDataFiles } from '../../../gateway/cli/eval/dataFiles';
import { datasetName, DataError, parseJsonl, parseRecord } from '../../../gateway/cli/eval/records';

describe('reading records', () => {
  it('reads the shared format and names the dataset from the id', () => {
    const line = JSON.stringify({ text: 't', label: 'unsafe', categories: ['S1'], role: 'assistant', source: 's', task: 'B', id: 'gptfuzz-000012', group: 'q1', orig_label: 'x' });
    expect(parseRecord(line, '/d/other/other.jsonl', 1)).toEqual({
      text: 't',
      label: 'unsafe',
      categories: ['S1'],
      role: 'assistant',
      source: 's',
      task: 'B',
      id: 'gptfuzz-000012',
      group: 'q1',
      orig_label: 'x',
      dataset: 'gptfuzz',
    });
  });

  it("falls back to the file's folder for the dataset, and to defaults for optional fields", () => {
    expect(datasetName('no-number-here', '/data/xstest/xstest.jsonl')).toBe('xstest');
    const r = parseRecord('{"text":"t","label":"jailbreak","group":null}', '/data/mine/mine.jsonl', 3);
    expect(r).toMatchObject({ role: 'user', task: 'A', categories: [], id: 'mine-line3', dataset: 'mine' });
    expect(r.group).toBeUndefined();
  });

  it('fails with file and line on malformed input', () => {
    expect(() => parseJsonl('{"text":"a","label":"safe"}\n\n{oops', 'f.jsonl')).toThrow(new DataError('f.jsonl:3: not valid JSON (' + jsonError('{oops') + ')'));
    expect(() => parseRecord('{"label":"safe"}', 'f.jsonl', 1)).toThrow(/f.jsonl:1: "text" must be a string/);
    expect(() => parseRecord('{"text":"a","label":"safe","role":"bot"}', 'f.jsonl', 1)).toThrow(/"role" must be one of/);
  });
});

function jsonError(text: string): string {
  try {
    JSON.parse(text);
    return '';
  } catch (err) {
    return (err as Error).message;
  }
}

describe('--data arguments', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'eval-data-'));
    for (const name of ['alpha', 'beta']) {
      mkdirSync(path.join(dir, name, 'orig'), { recursive: true });
      writeFileSync(path.join(dir, name, `${name}.jsonl`), '');
      writeFileSync(path.join(dir, name, 'orig', 'raw.jsonl'), '');
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('expands a quoted glob segment by segment, sorted', () => {
    expect(resolveDataFiles([path.join(dir, '*', '*.jsonl')], '/')).toEqual([path.join(dir, 'alpha', 'alpha.jsonl'), path.join(dir, 'beta', 'beta.jsonl')]);
    expect(resolveDataFiles(['b*/*.jsonl'], dir)).toEqual([path.join(dir, 'beta', 'beta.jsonl')]);
  });

  it('reads a data folder as its datasets and a dataset folder as its file, never orig/', () => {
    expect(datasetFilesIn(dir)).toEqual([path.join(dir, 'alpha', 'alpha.jsonl'), path.join(dir, 'beta', 'beta.jsonl')]);
    expect(resolveDataFiles([path.join(dir, 'beta')], '/')).toEqual([path.join(dir, 'beta', 'beta.jsonl')]);
  });

  it('de-duplicates and reports what matched nothing', () => {
    const f = path.join(dir, 'alpha', 'alpha.jsonl');
    expect(resolveDataFiles([f, f], '/')).toEqual([f]);
    expect(() => resolveDataFiles(['nope/*.jsonl', f], dir)).toThrow('no data files at "nope/*.jsonl"');
  });

  it("takes the split rule's root from the first file", () => {
    expect(defaultDataRoot([path.join(dir, 'alpha', 'alpha.jsonl')])).toBe(dir);
  });

  it('treats only * and ? as wildcards', () => {
    expect(globSegmentRegExp('a.b*').test('a.bc')).toBe(true);
    expect(globSegmentRegExp('a.b*').test('axbc')).toBe(false);
    expect(globSegmentRegExp('?.jsonl').test('x.jsonl')).toBe(true);
  });
});
