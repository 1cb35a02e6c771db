import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { TextTokenizer } from '../../../guards/tokenizer/textTokenizer';

/**
 * Tokenizer parity: for each bundled SentencePiece model and the DeBERTa-v3-style fixture
 * (test/fixtures/tokenizer-parity/build_deberta_style.py: nmt_nfkc charsmap, extra-whitespace
 * removal, converted as transformers converts DeBERTa), the ids the gateway's tokenizer
 * produces equal the reference SentencePiece library's on a committed corpus of 1,200+ strings
 * (many scripts, emoji, whitespace runs, control characters, very long words). The reference
 * ids come from test/fixtures/tokenizer-parity/build_parity_corpus.py (python3-sentencepiece).
 */
const CORPUS_DIR = path.join(__dirname, '..', '..', 'fixtures', 'tokenizer-parity');
const ROOT = path.join(__dirname, '..', '..', '..');
const MODEL_PARENTS = [path.join(ROOT, 'guards', 'models'), path.join(ROOT, 'test', 'fixtures', 'models')];
const corpora = readdirSync(CORPUS_DIR).filter((f) => f.endsWith('.json'));

interface Corpus {
  model: string;
  /** The model directory, relative to the repository root. */
  dir: string;
  reference: string;
  cases: { text: string; ids: number[] }[];
}

test('a reference corpus exists for every bundled model and fixture that ships spm.model', () => {
  const withSpm = MODEL_PARENTS.flatMap((parent) => readdirSync(parent).filter((d) => existsSync(path.join(parent, d, 'spm.model'))));
  expect(withSpm).toContain('deberta-style-tokenizer');
  expect(withSpm.length).toBeGreaterThan(0);
  expect(corpora.map((f) => f.replace(/\.json$/, '')).sort()).toEqual(withSpm.sort());
});

describe.each(corpora)('%s', (file) => {
  const corpus = JSON.parse(readFileSync(path.join(CORPUS_DIR, file), 'utf8')) as Corpus;
  const dir = path.join(ROOT, corpus.dir);
  const tokenizer = new TextTokenizer(
    JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>,
    JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>,
  );

  test('covers at least 1,000 varied strings', () => {
    expect(corpus.cases.length).toBeGreaterThanOrEqual(1000);
    const scripts = [/\p{Script=Han}/u, /\p{Script=Arabic}/u, /\p{Script=Cyrillic}/u, /\p{Script=Devanagari}/u, /\p{Extended_Pictographic}/u, / {5,}/, /[\u0000-\u0008]/];
    for (const script of scripts) expect(corpus.cases.some((c) => script.test(c.text))).toBe(true);
    expect(corpus.cases.some((c) => c.text.length > 500)).toBe(true);
  });

  test('every string gets exactly the reference ids', () => {
    const mismatches = corpus.cases.filter((c) => JSON.stringify(tokenizer.encodeIds(c.text)) !== JSON.stringify(c.ids));
    expect(mismatches.slice(0, 3).map((m) => ({ text: m.text, expected: m.ids, got: tokenizer.encodeIds(m.text) }))).toEqual([]);
  });
});
