import type { ScanText } from '../../../guards/types';
import { ApiError } from '../../errors';
import { joinedRange } from '../../record/recordedPath';
import { isJoinedText, JOINED_PREFIX } from './joinedTexts';

/**
 * Llama 3 control tokens written as text (`<|eot_id|>`, `<|start_header_id|>`, ...). The
 * engine's tokenizer turns them into the real special tokens, so a tool result, document or user
 * turn holding `<|eot_id|><|start_header_id|>system<|end_header_id|>` would end its own turn and
 * open one the engine obeys as the operator's, while the guards read it as plain text (they
 * score what a turn says, not which turn the engine thinks it is). Refused by default; a policy
 * for apps that must pass them sets `request_fields.control_tokens: allow`.
 */
const LLAMA_CONTROL_TOKEN = /<\|(?:begin_of_text|end_of_text|start_header_id|end_header_id|eot_id|eom_id|python_tag|finetune_right_pad_id|step_id|image|reserved_special_token_\d{1,3})\|>/;

/** Pure: the 400 for the first text that holds a control token, or undefined. */
export function controlTokenError(texts: readonly ScanText[]): ApiError | undefined {
  for (const t of texts) {
    const found = LLAMA_CONTROL_TOKEN.exec(t.text);
    if (!found) continue;
    // A second reading (gluedParts.ts): a list's parts joined with nothing, as some engines join them.
    const param = isJoinedText(t) ? joinedRange(t.path.slice(JOINED_PREFIX.length))[0]! : t.path;
    const what = isJoinedText(t) ? `${param}'s parts, joined with nothing between them as some engines join them, make` : `${param} contains`;
    return new ApiError(400, `${what} the Llama 3 control token ${found[0]}, which the engine would read as a turn boundary rather than text; remove it.`, 'invalid_request_error', 'control_token', param);
  }
  return undefined;
}
