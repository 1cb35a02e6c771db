import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_SLICE_CHARS, removeTokenSplittingSpaces } from '../../../guards/tokenizer/longText';
import { TextTokenizer } from '../../../guards/tokenizer/textTokenizer';
import { sliceStrippedText } from '../../../guards/text/slices';
import { stripWhitespace } from '../../../guards/text/whitespaceAttack';

/**
 * The gateway's whitespace-attack mitigation (guards/text/whitespaceAttack.ts, run by
 * guards/tokenizer/longText.ts) against the training scripts' (guards/training/whitespace_attack.py,
 * what the prompt-guard model is trained and evaluated on), on the corpus that
 * test/fixtures/whitespace-attack/build_whitespace_fixture.py recorded from the Python: each step
 * that does not depend on a tokenizer, and the whole mitigation with the committed fixture
 * tokenizer. As splits.ts is pinned to splits.py's output.
 */
interface Case {
  text: string;
  stripped: string;
  /** One '0'/'1' per code point of `stripped`: it followed whitespace. */
  follows: string;
  /** [start, end) in code points. */
  slices: [number, number][];
  mitigated: string;
}
const FIXTURE = path.join(__dirname, '..', '..', 'fixtures', 'whitespace-attack', 'whitespace-attack.json');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { tokenizer: string; slice_chars: number; cases: Case[] };
const ROOT = path.join(__dirname, '..', '..', '..');

/** Python indexes code points; JavaScript strings, UTF-16 units. */
const codePoints = (s: string) => [...s].length;

/**
 * The one known difference: both cut the stripped text into slices of 2,048 characters, but
 * Python counts code points and the gateway UTF-16 units, so in a long text with characters
 * outside the BMP (emoji, some CJK) the cuts fall elsewhere, and a word at a cut can come out
 * differently. Only those texts may differ; any other difference fails.
 */
const mayDiffer = (c: Case) => c.stripped.length > fixture.slice_chars && /[\u{10000}-\u{10FFFF}]/u.test(c.stripped);

describe('whitespace-attack mitigation: TypeScript and the training scripts agree', () => {
  test('the corpus is there and varied (long texts that take several slices, every kind of whitespace, astral characters)', () => {
    expect(fixture.cases.length).toBeGreaterThan(400);
    expect(fixture.slice_chars).toBe(DEFAULT_SLICE_CHARS);
    expect(fixture.cases.filter((c) => c.slices.length >= 2 && !mayDiffer(c)).length).toBeGreaterThanOrEqual(5);
    expect(fixture.cases.some((c) => /[\u2028\u3000\ufeff]/.test(c.text))).toBe(true);
    expect(fixture.cases.some((c) => /\p{Extended_Pictographic}/u.test(c.text))).toBe(true);
  });

  test('whitespace removed, and which characters followed it, as Python computes them', () => {
    const wrong = fixture.cases.filter((c) => {
      const ours = stripWhitespace(c.text);
      if (ours.stripped !== c.stripped) return true;
      // Per code point: the flag of its first UTF-16 unit.
      let follows = '';
      for (let i = 0; i < ours.stripped.length; i += ours.stripped.codePointAt(i)! > 0xffff ? 2 : 1) follows += String(ours.followsWhitespace[i]);
      return follows !== c.follows;
    });
    expect(wrong.slice(0, 3).map((c) => c.text.slice(0, 80))).toEqual([]);
  });

  test('the stripped text is cut into the same slices for tokenization', () => {
    const wrong = fixture.cases.filter((c) => {
      const ours = stripWhitespace(c.text);
      let at = 0;
      const bounds = sliceStrippedText(ours.stripped, ours.followsWhitespace, fixture.slice_chars).map((slice) => [at, (at += codePoints(slice))]);
      return JSON.stringify(bounds) !== JSON.stringify(c.slices);
    });
    expect(wrong.filter((c) => !mayDiffer(c)).map((c) => ({ text: c.text.slice(0, 80), python: c.slices }))).toEqual([]);
    // The known difference is real (so this test notices when the two are made to agree).
    expect(wrong.length).toBeGreaterThan(0);
  });

  test('the whole mitigation gives the same text with the fixture tokenizer', async () => {
    const dir = path.join(ROOT, fixture.tokenizer);
    const tokenizer = new TextTokenizer(
      JSON.parse(readFileSync(path.join(dir, 'tokenizer.json'), 'utf8')) as Record<string, unknown>,
      JSON.parse(readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>,
    );
    const wrong: { text: string; python: string; ours: string }[] = [];
    let compared = 0;
    for (const c of fixture.cases) {
      if (mayDiffer(c)) continue;
      compared++;
      const ours = await removeTokenSplittingSpaces(tokenizer, c.text);
      if (ours !== c.mitigated) wrong.push({ text: c.text.slice(0, 120), python: c.mitigated.slice(0, 120), ours: ours.slice(0, 120) });
    }
    expect(wrong.slice(0, 3)).toEqual([]);
    expect(compared).toBeGreaterThan(400);
  });
});
