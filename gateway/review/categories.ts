import { defaultCategories } from '../../guards/llamaGuard/categories';

/** Llama Guard 3's hazard categories S1-S14 with their names, for filters and labels. */
export const HAZARD_CATEGORIES: ReadonlyArray<{ code: string; name: string }> = defaultCategories('8b').map(([code, text]) => ({ code, name: text.replace(/\.$/, '') }));

const NAMES = new Map(HAZARD_CATEGORIES.map((c) => [c.code, c.name]));

/** `S2 Non-Violent Crimes`, or the code alone for a policy's own categories and findings. */
export function categoryLabel(code: string): string {
  const name = NAMES.get(code);
  return name ? `${code} ${name}` : code;
}
