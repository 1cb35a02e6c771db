/**
 * The same preparation as prepareTexts.ts, for guards that read a conversation (Llama Guard on
 * the ONNX decoder or a remote server): every turn's content and tool-call text is sanitized and
 * normalized, and the texts derived from it (hidden tag text, decoded payloads, the normalized
 * variant) are appended to that same turn after a blank line.
 *
 * Appended rather than checked separately: Llama Guard classifies the last turn of a role in
 * the context of the others, one model call per check; a decoded payload belongs to the message
 * that carried it (a base64 answer is the Agent's answer), and a second call per payload would
 * multiply the cost of the most expensive guard. The accent-folded variant is appended only when
 * the text also shows a finding (leetspeak, look-alikes, combining marks): a language model reads
 * accented text as written, and Vietnamese or Czech conversations would otherwise double in length.
 */
import type { ChatTurn } from '../types';
import type { TextFinding } from './findings';
import { NORMALIZED_SUFFIX, prepareText, type PreparedOne } from './prepareTexts';

const VARIANT_WORTHY: readonly TextFinding[] = ['leetspeak', 'homoglyphs', 'mixed_scripts', 'combining_marks'];

/** The prepared text and everything derived from it, as one message text. */
export function readingText(prepared: PreparedOne): string {
  const keepVariant = prepared.findings.some((f) => VARIANT_WORTHY.includes(f));
  const parts = [prepared.text, ...prepared.extras.filter((e) => keepVariant || e.suffix !== NORMALIZED_SUFFIX).map((e) => e.text)];
  return parts.filter((p) => p.trim() !== '').join('\n\n');
}

export async function prepareConversation(conversation: readonly ChatTurn[], signal?: AbortSignal): Promise<{ conversation: ChatTurn[]; findings: TextFinding[] }> {
  const findings = new Set<TextFinding>();
  const prepare = async (value: unknown): Promise<string> => {
    // Callers that bypass the types (JSON bodies): a non-string is read as its string form.
    const raw = typeof value === 'string' ? value : String(value ?? '');
    const prepared = await prepareText(raw, signal);
    prepared.findings.forEach((f) => findings.add(f));
    return readingText(prepared);
  };
  const out: ChatTurn[] = [];
  for (const turn of conversation) {
    // A turn's parts joined with nothing (ChatTurn.glued), as some engines read them: appended like a derived text.
    const words = await prepare(turn.content);
    const content = turn.glued ? [words, await prepare(turn.glued)].filter((p) => p.trim() !== '').join('\n\n') : words;
    let toolCalls: string[] | undefined;
    if (turn.toolCalls) {
      toolCalls = [];
      for (const call of turn.toolCalls) toolCalls.push(await prepare(call));
    }
    let apart: string[] | undefined;
    if (turn.apart) {
      apart = [];
      for (const id of turn.apart) apart.push(await prepare(id));
    }
    const { glued: _read, ...rest } = turn;
    out.push({ ...rest, content, ...(toolCalls ? { toolCalls } : {}), ...(apart ? { apart } : {}) });
  }
  return { conversation: out, findings: [...findings] };
}
