import type { ChatTurn, ScanText } from '../../../guards/types';
import { BYTES_MARK, INDEXLESS_CALL, type LanePiece } from './answerLanes';
import { BOOKKEEPING_LANE, ID_LANE, idPieces } from './bookkeeping';
import { readableArguments } from './toolArguments';

/** An answer as the output guard reads it: every text the client receives with one choice. */
export interface AssistantAnswer {
  /** The visible text: message content (a string or text parts) or completion text. */
  content: string;
  /** Tool calls and the legacy function call, as the client receives them. */
  toolCalls: { name: string; arguments: string }[];
  /** Every other text of the choice: reasoning, refusal, logprob tokens, members the gateway does not know; by lane. */
  extras?: { lane: string; text: string }[];
  /**
   * Another reading of the same pieces a client may make, checked by the guards but neither
   * delivered twice in the record nor charged twice: streamed tool-call pieces without an index,
   * joined as the openai SDKs join them (answerLanes.ts INDEXLESS_CALL), where that differs from
   * every call read by position.
   */
  views?: { name: string; arguments: string }[];
}

const CALL_LANE = /^(tool_calls\[(\d+|-)\]|function_call)\.(function\.)?(name|arguments)$/;

/**
 * Pure: lane pieces (in the order received) -> the answer. A lane's pieces are concatenated; a
 * lane that only repeats the content (logprob tokens usually do) is left out, as is an empty one.
 */
export function answerFromPieces(pieces: readonly LanePiece[]): AssistantAnswer {
  const lanes = new Map<string, string>();
  const restated = new Map<string, string>();
  /**
   * Per id lane, its distinct pieces: clients keep different ones of a streamed id (Python's SDK
   * joins them, Node's keeps the last, the Vercel AI SDK the first), so each is read as well as the join.
   */
  const idPieceSets = new Map<string, Set<string>>();
  for (const p of pieces) {
    // A member name (`#key` lanes) comes with every chunk that has the member: once is enough.
    if (p.lane.endsWith('#key')) lanes.set(p.lane, p.text);
    // A tool call's id: its pieces joined as clients join them; a chunk that restates the whole id adds nothing.
    else if (p.lane.endsWith(ID_LANE)) {
      lanes.set(p.lane, lanes.get(p.lane) === p.text ? p.text : (lanes.get(p.lane) ?? '') + p.text);
      if (p.text !== '') idPieceSets.set(p.lane, (idPieceSets.get(p.lane) ?? new Set()).add(p.text));
    }
    else if (p.lane.startsWith(BOOKKEEPING_LANE)) {
      // Every chunk restates its bookkeeping: each new value is read once, apart from the last.
      if (restated.get(p.lane) === p.text) continue;
      restated.set(p.lane, p.text);
      lanes.set(p.lane, lanes.has(p.lane) ? `${lanes.get(p.lane)} ${p.text}` : p.text);
    } else lanes.set(p.lane, (lanes.get(p.lane) ?? '') + p.text);
  }
  const content = lanes.get('content') ?? '';
  lanes.delete('content');
  for (const [lane, text] of [...lanes]) {
    if (!lane.endsWith(BYTES_MARK)) continue;
    // Joined bytes, decoded once; read only where they say something else than the tokens they belong to.
    lanes.delete(lane);
    const named = lane.slice(0, -BYTES_MARK.length);
    const decoded = Buffer.from(text, 'latin1').toString('utf8');
    if (decoded !== lanes.get(named.replace(/\.bytes$/, '.token')) && decoded !== content) lanes.set(named, (lanes.get(named) ?? '') + decoded);
  }
  const calls = new Map<string, { name: string; arguments: string }>();
  const extras: { lane: string; text: string }[] = [];
  for (const [lane, text] of lanes) {
    if (lane.endsWith(ID_LANE)) {
      // Random characters are not read; any other id is bookkeeping, read apart (bookkeeping.ts idPieces).
      // Joined, and each piece: a random-looking join must not hide a piece that reads as words.
      const slot = lane.slice(0, -ID_LANE.length);
      extras.push(...idPieces(text, slot).map(({ slot: at, text: t }) => ({ lane: at, text: t })));
      for (const piece of idPieceSets.get(lane) ?? []) {
        if (piece !== text) extras.push(...idPieces(piece, `${slot}.piece`).map(({ slot: at, text: t }) => ({ lane: at, text: t })));
      }
      continue;
    }
    const call = CALL_LANE.exec(lane);
    if (call) {
      const key = call[1];
      const current = calls.get(key) ?? { name: '', arguments: '' };
      current[call[4] as 'name' | 'arguments'] += text;
      calls.set(key, current);
    } else if (text.trim() !== '' && text !== content) extras.push({ lane, text });
  }
  const joined = calls.get(INDEXLESS_CALL);
  calls.delete(INDEXLESS_CALL);
  const toolCalls = [...calls.values()];
  const views = joined && !toolCalls.some((c) => c.name === joined.name && c.arguments === joined.arguments) ? [joined] : [];
  return { content, toolCalls, extras, ...(views.length ? { views } : {}) };
}

/**
 * Bookkeeping read as text (bookkeeping.ts) is checked on its own (bookkeepingText), never joined
 * to the answer: an id appended to a short harmful answer diluted its score under the threshold.
 * Item and tool-call ids are not read at all when opaque (bookkeeping.ts idPieces), and apart when
 * they hold words; unknown members' names are still read with the answer (moving every id apart
 * made every Responses and vLLM answer run its output rules twice).
 */
export const isBookkeeping = (lane: string): boolean => lane.startsWith(BOOKKEEPING_LANE);

/** The answer's bookkeeping read as text, as one text of its own, or undefined when there is none. */
export function bookkeepingText(answer: AssistantAnswer): string | undefined {
  const texts = (answer.extras ?? []).filter((e) => isBookkeeping(e.lane)).map((e) => e.text);
  return texts.length ? texts.join('\n') : undefined;
}

/** Reasoning first (the client shows it before the answer), then the content, then the rest. */
function answerText(answer: AssistantAnswer): string {
  const extras = (answer.extras ?? []).filter((e) => !isBookkeeping(e.lane));
  const reasoning = extras.filter((e) => /^reasoning/.test(e.lane)).map((e) => e.text);
  const rest = extras.filter((e) => !/^reasoning/.test(e.lane)).map((e) => e.text);
  return [...reasoning, answer.content, ...rest].filter((s) => s !== '').join('\n');
}

/**
 * Everything the client received with one choice, as one text (reasoning, content, the rest, then
 * each tool call as `name(arguments)`): what content capture keeps and what a stream without a
 * usage block is charged for (tool-call arguments cost tokens too).
 */
export function deliveredText(answer: AssistantAnswer): string {
  return [answerText(answer), ...answer.toolCalls.map((c) => `${c.name}(${c.arguments})`), bookkeepingText(answer) ?? ''].filter((s) => s !== '').join('\n');
}

export function answerScanTexts(answer: AssistantAnswer, choicePath: string): ScanText[] {
  const texts: ScanText[] = [{ source: 'assistant', path: `${choicePath}.content`, text: answer.content }];
  for (const extra of (answer.extras ?? []).filter((e) => !isBookkeeping(e.lane))) texts.push({ source: 'assistant', path: `${choicePath}.${extra.lane}`, text: extra.text });
  answer.toolCalls.forEach((call, j) => {
    texts.push({ source: 'tool_call', path: `${choicePath}.tool_calls[${j}].function.name`, text: call.name });
    // As the client reads them: JSON escapes decoded (toolArguments.ts).
    texts.push({ source: 'tool_call', path: `${choicePath}.tool_calls[${j}].function.arguments`, text: readableArguments(call.arguments) });
  });
  for (const view of answer.views ?? []) {
    texts.push({ source: 'tool_call', path: `${choicePath}.${INDEXLESS_CALL}.function.name`, text: view.name });
    texts.push({ source: 'tool_call', path: `${choicePath}.${INDEXLESS_CALL}.function.arguments`, text: readableArguments(view.arguments) });
  }
  return texts.filter((t) => t.text !== '' || t.path.endsWith('.content'));
}

export function answerTurn(answer: AssistantAnswer): ChatTurn {
  const turn: ChatTurn = { role: 'assistant', content: answerText(answer) };
  const calls = [...answer.toolCalls, ...(answer.views ?? [])];
  if (calls.length) turn.toolCalls = calls.map((c) => `${c.name}(${readableArguments(c.arguments)})`);
  return turn;
}
