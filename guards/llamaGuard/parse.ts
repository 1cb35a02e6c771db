/**
 * Reads Llama Guard 3's answer: `safe`, or `unsafe` then a newline and comma-separated category
 * codes (`unsafe\nS1,S3`). Anything else is a parse error, never a silent `safe`: a guard that
 * cannot be read must let the policy's on_error decide.
 */
import { pythonStrip } from './strip';

export type Assessment =
  | { ok: true; label: 'safe' | 'unsafe'; categories: string[]; excludedOnly: boolean }
  | { ok: false; error: string };

/** A category code: one run of non-space characters (S1..S14, or a policy's custom keys). */
const CODE = /^\S+$/;

/**
 * @param excluded codes the policy excludes: dropped from the list; `unsafe` whose codes are all
 *   excluded counts as safe (`excludedOnly` says so), as Llama Stack does.
 * @param known every code the prompt lists (categories.ts knownCategoryCodes): another is a parse error.
 */
export function parseAssessment(output: string, excluded: readonly string[] = [], known?: ReadonlySet<string>, keyOf?: ReadonlyMap<string, string>): Assessment {
  const text = pythonStrip(output);
  if (text === 'safe') return { ok: true, label: 'safe', categories: [], excludedOnly: false };
  const lines = text.split(/\r?\n/);
  if (lines.length !== 2 || pythonStrip(lines[0]!) !== 'unsafe') {
    return { ok: false, error: `expected 'safe' or 'unsafe' + newline + categories, got ${describe(text)}` };
  }
  const written = lines[1]!.split(',').map(pythonStrip);
  if (written.some((c) => !CODE.test(c))) {
    return { ok: false, error: `malformed category list ${describe(lines[1]!)}` };
  }
  // Codes the prompt numbered (custom categories as S1..Sn) name the policy's keys.
  const codes = written.map((c) => keyOf?.get(c) ?? c);
  // Only codes the prompt listed: anything else is model-written text, which records must not carry.
  const unknown = known ? codes.filter((c) => !known.has(c)).length : 0;
  if (unknown > 0) return { ok: false, error: `${unknown} category code${unknown === 1 ? '' : 's'} the prompt does not list` };
  const skip = new Set(excluded);
  const kept = [...new Set(codes)].filter((c) => !skip.has(c));
  if (kept.length === 0) return { ok: true, label: 'safe', categories: [], excludedOnly: true };
  return { ok: true, label: 'unsafe', categories: kept, excludedOnly: false };
}

/**
 * The shape of unreadable output, not its text: a verdict holds no content, and a broken server or
 * model may echo the conversation back.
 */
function describe(text: string): string {
  const lines = text.split(/\r?\n/).length;
  return `${text.length} characters in ${lines} line${lines === 1 ? '' : 's'}`;
}
