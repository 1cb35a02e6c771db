/**
 * Llama Guard 3 hazard categories as the prompt lists them (short forms, with the trailing period
 * the templates carry), and the resolution of a policy's custom / excluded categories.
 */

/** Which published template the prompt reproduces. The 8B model was trained with S14, the 1B without it. */
export type LlamaGuardVariant = '1b' | '8b';

/** key -> text, in prompt order. Text is rendered verbatim after `key: `, so it carries its own period. */
export type CategoryMap = Readonly<Record<string, string>>;

const S1_TO_S13: ReadonlyArray<readonly [string, string]> = [
  ['S1', 'Violent Crimes.'],
  ['S2', 'Non-Violent Crimes.'],
  ['S3', 'Sex Crimes.'],
  ['S4', 'Child Exploitation.'],
  ['S5', 'Defamation.'],
  ['S6', 'Specialized Advice.'],
  ['S7', 'Privacy.'],
  ['S8', 'Intellectual Property.'],
  ['S9', 'Indiscriminate Weapons.'],
  ['S10', 'Hate.'],
  ['S11', 'Self-Harm.'],
  ['S12', 'Sexual Content.'],
  ['S13', 'Elections.'],
];

const S14: readonly [string, string] = ['S14', 'Code Interpreter Abuse.'];

/** The default list of the variant's published template. */
export function defaultCategories(variant: LlamaGuardVariant): Array<[string, string]> {
  const list = S1_TO_S13.map(([k, v]) => [k, v] as [string, string]);
  if (variant === '8b') list.push([S14[0], S14[1]]);
  return list;
}

/**
 * The category lines the prompt lists: custom categories replace the defaults entirely (as the 1B
 * template's `categories` argument does), then excluded keys are left out (`excluded_category_keys`).
 * Insertion order of `custom` is prompt order, like a Jinja dict.
 */
export function resolveCategories(
  variant: LlamaGuardVariant,
  custom?: CategoryMap,
  excluded?: readonly string[],
): Array<[string, string]> {
  const base = custom ? Object.entries(custom) : defaultCategories(variant);
  const skip = new Set(excluded ?? []);
  return base.filter(([key]) => !skip.has(key));
}

/**
 * The category lines as the prompt writes them, code and text, and the policy key behind each code.
 * Custom categories keyed other than S1, S2, ... are numbered S1..Sn in prompt order, as Meta's
 * `build_custom_prompt` does: Llama Guard 3 was trained to answer with S-codes, and an answer
 * naming `S2` must still read as the policy's second category.
 */
export function promptCategories(
  variant: LlamaGuardVariant,
  custom?: CategoryMap,
  excluded?: readonly string[],
): { lines: Array<[string, string]>; keyOf: ReadonlyMap<string, string> } {
  const kept = resolveCategories(variant, custom, excluded);
  const renumber = custom !== undefined && kept.some(([key]) => !/^S\d+$/.test(key));
  const lines = kept.map(([key, text], i): [string, string] => [renumber ? `S${i + 1}` : key, text]);
  return { lines, keyOf: new Map(kept.map(([key], i) => [lines[i]![0], key])) };
}

/** True when the prompt differs from the one the server's own chat template would render. */
export function hasCustomCategories(custom?: CategoryMap, excluded?: readonly string[]): boolean {
  return custom !== undefined || (excluded !== undefined && excluded.length > 0);
}

/**
 * Every code the prompt can list (custom keys, or the variant's defaults), excluded ones included:
 * an answer naming anything else did not come from reading this prompt, and the code would be
 * model-written text in records whatever content capture says.
 */
export function knownCategoryCodes(variant: LlamaGuardVariant, custom?: CategoryMap): ReadonlySet<string> {
  return new Set(custom ? Object.keys(custom) : defaultCategories(variant).map(([key]) => key));
}
