import { tokenPieces } from '../../access/tokens/llama3Tokens';
import { checkAnswer } from '../../pipeline/guardChecks';
import type { ParsedCompletion } from '../../pipeline/parsedCompletion';
import type { PolicyRuntime } from '../../pipeline/runtime/policyRuntime';
import type { GuardPhase } from '../../record/guardPhase';
import { plannedWindows, windowSettings } from '../../streaming/windowChecks';

/** How a streamed answer fares under `streaming.mode: window`: the most severe check, and where it ran. */
export interface StreamedOutcome {
  /** The check that decided (the first that blocked, else the most severe). */
  phase: GuardPhase;
  /** Its range of the answer's Llama 3 tokens [from, to), and how many had reached the client when it ran. */
  window: { from: number; to: number; released: number; end: boolean };
  /** The answer's length in tokens (one engine chunk each, as window mode counts them). */
  tokens: number;
  /** Whether the policy's window mode also checks the whole answer at the end (`streaming.whole_answer`). */
  wholeAnswer: boolean;
}

const SEVERITY = { allow: 0, flag: 1, block: 2 } as const;

/**
 * The answer checked as window mode checks a stream of it (streaming/windowChecks.ts plannedWindows,
 * one Llama 3 token per chunk, as the eval's `--streamed` reads answers): a window can block what
 * the whole answer, diluted, passes, and a block in the end checks comes after most of the answer
 * went out. Stops at the first block, as the stream does. One guard check per window, one after
 * another: a long answer takes a while (`policy explain --whole-only` skips this).
 */
export async function checkStreamedAnswer(runtime: PolicyRuntime, parsed: ParsedCompletion, answer: string): Promise<StreamedOutcome | undefined> {
  const pieces = tokenPieces(answer);
  const streaming = runtime.loaded.policy.streaming;
  let worst: StreamedOutcome | undefined;
  for (const window of plannedWindows(pieces.length, windowSettings(streaming))) {
    const phase = await checkAnswer(runtime, parsed, { content: pieces.slice(window.from, window.to).join(''), toolCalls: [] }, 0);
    if (!worst || SEVERITY[phase.decision.action] > SEVERITY[worst.phase.decision.action]) worst = { phase, window, tokens: pieces.length, wholeAnswer: streaming.whole_answer };
    if (phase.decision.action === 'block') break;
  }
  return worst;
}
