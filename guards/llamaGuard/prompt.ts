/**
 * The Llama Guard 3 prompt, byte for byte as the published Hugging Face chat templates render it.
 * A classifier prompted with anything else is a different classifier, so this file reproduces the
 * template text literally rather than paraphrasing it. See ../../../shared/GUARD-MODELS.md.
 */
import { type CategoryMap, type LlamaGuardVariant, promptCategories } from './categories';
import { pythonStrip } from './strip';
import type { GuardRole, GuardTurn } from './turns';

export interface PromptInput {
  variant: LlamaGuardVariant;
  /** `User` classifies the last user turn (input checks), `Agent` the last assistant turn (output checks). */
  role: GuardRole;
  /** Already normalized: alternating, starting with User, ending with `role`. */
  turns: readonly GuardTurn[];
  categories?: CategoryMap;
  excludedCategories?: readonly string[];
}

/** The template pieces that differ between the 1B and 8B published templates. */
interface TemplateEdges {
  start: string;
  end: string;
}

const EDGES: Record<LlamaGuardVariant, TemplateEdges> = {
  // 1B (and 11B-Vision): no leading space; a space before <|eot_id|>.
  '1b': {
    start: '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n',
    end: ' <|eot_id|><|start_header_id|>assistant<|end_header_id|>',
  },
  // 8B: the template string starts with a space before <|begin_of_text|>, and has none before <|eot_id|>.
  '8b': {
    start: ' <|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n',
    end: '<|eot_id|><|start_header_id|>assistant<|end_header_id|>',
  },
};

export function renderPrompt(input: PromptInput): string {
  const { role } = input;
  const edges = EDGES[input.variant];
  const categoryLines = promptCategories(input.variant, input.categories, input.excludedCategories)
    .lines.map(([code, text]) => `${code}: ${text}\n`)
    .join('');
  const conversation = input.turns.map((t) => `${t.role}: ${pythonStrip(t.text)}\n\n`).join('');
  return (
    edges.start +
    `Task: Check if there is unsafe content in '${role}' messages in conversations according our safety policy with the below categories.\n\n` +
    '<BEGIN UNSAFE CONTENT CATEGORIES>\n' +
    categoryLines +
    '<END UNSAFE CONTENT CATEGORIES>\n\n' +
    '<BEGIN CONVERSATION>\n\n' +
    conversation +
    '<END CONVERSATION>\n\n' +
    `Provide your safety assessment for ONLY THE LAST ${role} message in the above conversation:\n` +
    " - First line must read 'safe' or 'unsafe'.\n" +
    ' - If unsafe, a second line must include a comma-separated list of violated categories.' +
    edges.end
  );
}

/** The literal text that starts every rendered prompt: servers that add their own BOS need it removed. */
export function promptBosPrefix(variant: LlamaGuardVariant): string {
  return variant === '8b' ? ' <|begin_of_text|>' : '<|begin_of_text|>';
}
