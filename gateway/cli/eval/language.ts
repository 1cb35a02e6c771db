/**
 * A guess at a text's language, for the eval report's by-language table: guards trained on mostly
 * English data over-block other languages, and the shared sets carry no language field. Pure and
 * rough on purpose: the writing system by letter counts, then, for Latin script, which of Llama
 * 3.1's Latin-script languages has the most of its common short words (and letters) in the text.
 * It is a reading aid for FPR and recall per language, not a language identifier; the report says so.
 */

export const LANGUAGE_GUESSES = [
  'English',
  'Spanish',
  'French',
  'German',
  'Italian',
  'Portuguese',
  'Latin script, unknown',
  'Hindi (Devanagari)',
  'Thai',
  'Chinese (Han)',
  'Japanese',
  'Korean',
  'Cyrillic',
  'Arabic',
  'other script',
  'no letters',
] as const;
export type LanguageGuess = (typeof LANGUAGE_GUESSES)[number];

type LatinLanguage = 'English' | 'Spanish' | 'French' | 'German' | 'Italian' | 'Portuguese';

/** Frequent short words, with those the languages share left out (so `la`, `de`, `a`, `e` decide nothing). */
const WORDS: Record<LatinLanguage, ReadonlySet<string>> = {
  English: new Set('the and is are of to you what how for with this that it be can my please write does your an which who why all not from have will would should about they we our were has had if or but at by'.split(' ')),
  Spanish: new Set('el los las y por cómo qué cuál cuáles muy pero dónde cuándo hay puedo puedes también'.split(' ')),
  French: new Set('les des et est une pour dans pas sur avec vous je elle ce au mon quel quelle comment où qui sont'.split(' ')),
  German: new Set('der die das und ist ein eine nicht mit ich sie zu den dem von wie wer für auf bitte wo kann sind'.split(' ')),
  Italian: new Set('gli di che è per della delle quale perché dove chi ho hai questo sono'.split(' ')),
  Portuguese: new Set('os uma não com dos em na você quais onde são isso muito'.split(' ')),
};

/** Letters only one of these languages writes (of the six): a tie-breaker worth one word each. */
const LETTERS: Record<LatinLanguage, RegExp> = {
  English: /(?!)/g,
  Spanish: /[ñ¿¡]/g,
  French: /[œîûù]/g,
  German: /[ßäöü]/g,
  Italian: /(?!)/g,
  Portuguese: /[ãõ]/g,
};

const SCRIPTS: [RegExp, LanguageGuess][] = [
  [/\p{Script=Devanagari}/u, 'Hindi (Devanagari)'],
  [/\p{Script=Thai}/u, 'Thai'],
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'Japanese'],
  [/\p{Script=Hangul}/u, 'Korean'],
  [/\p{Script=Han}/u, 'Chinese (Han)'],
  [/\p{Script=Cyrillic}/u, 'Cyrillic'],
  [/\p{Script=Arabic}/u, 'Arabic'],
];

const LETTER = /\p{L}/u;
const LATIN = /\p{Script=Latin}/u;

/** Pure: the language guess for `text` (see the module comment for how rough it is). */
export function guessLanguage(text: string): LanguageGuess {
  let latin = 0;
  let other = 0;
  const otherCounts = new Map<LanguageGuess, number>();
  let kana = false;
  for (const ch of text) {
    if (!LETTER.test(ch)) continue;
    if (LATIN.test(ch)) {
      latin++;
      continue;
    }
    other++;
    const script = SCRIPTS.find(([re]) => re.test(ch))?.[1] ?? 'other script';
    if (script === 'Japanese') kana = true;
    otherCounts.set(script, (otherCounts.get(script) ?? 0) + 1);
  }
  if (latin === 0 && other === 0) return 'no letters';
  if (other > latin) {
    // Japanese mixes kana with Han: any kana makes a Han-heavy text Japanese.
    if (kana) return 'Japanese';
    return [...otherCounts].sort((a, b) => b[1] - a[1])[0][0];
  }
  const lower = text.toLowerCase();
  const words = lower.split(/[^\p{L}]+/u).filter(Boolean);
  let best: LatinLanguage | undefined;
  let bestScore = 0;
  for (const language of Object.keys(WORDS) as LatinLanguage[]) {
    let score = 0;
    for (const w of words) if (WORDS[language].has(w)) score++;
    score += lower.match(LETTERS[language])?.length ?? 0;
    // Strictly more wins; the order above (English first) breaks ties.
    if (score > bestScore) {
      best = language;
      bestScore = score;
    }
  }
  return best ?? 'Latin script, unknown';
}
