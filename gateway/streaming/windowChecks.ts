import type { AssistantAnswer } from '../pipeline/extractTexts';
import type { GuardPhase } from '../record/guardPhase';

/** What window mode reads an answer through: any range of its text-bearing events, or all of it. */
export interface WindowSource {
  readonly textEvents: number;
  /** The events (checked - overlap, to], and each lane's own lead before them (eventPieces.ts). */
  window(checked: number, to: number, overlap: number): AssistantAnswer;
  whole(): AssistantAnswer;
}

export interface WindowSettings {
  windowTokens: number;
  overlapTokens: number;
  /** Also check the whole answer once the stream ends. */
  wholeAnswer: boolean;
}

export interface WindowCheckDeps {
  /** Checks answers side by side; records every phase (then throws on a guard fault: GuardedCall.checkAnswers). */
  check(answers: readonly AssistantAnswer[]): Promise<(GuardPhase & { choice: number })[]>;
}

/**
 * The checks of window mode, shared by the chat and Responses relays. While the answer streams,
 * every `windowTokens` new text events are checked with the last `overlapTokens` already-checked
 * events before them and, for each lane they continue (content, reasoning, a tool call's
 * arguments...), that lane's own last `overlapTokens` events (eventPieces.ts). When it ends, the rest is checked, and (with `wholeAnswer`) the whole answer too,
 * side by side: a guard judges an answer in context, and a harm no single window shows (steps
 * spread over the answer, an abusive reply whose target is named windows earlier) must not pass
 * streamed when the same answer would be blocked unstreamed (buffer mode, non-streaming calls).
 * Only what passed is released, so a failing end check withholds the last window.
 */
export class WindowChecks {
  /** Text events checked so far: everything up to here may be released. */
  checked = 0;
  /** Where the last check started: 0 means it read the whole answer so far. */
  private lastFrom = 0;
  /** Checked text events known not to end the answer (releasable). */
  private released = 0;

  constructor(
    private readonly source: WindowSource,
    private readonly deps: WindowCheckDeps,
    private readonly settings: WindowSettings,
  ) {}

  /**
   * Text events that may go to the client now: everything checked, once text after it has arrived.
   * Until then the last window checked may be the answer's last, which waits for the end checks
   * (the whole answer) and is withheld when they block. After the end checks pass, all of it may.
   */
  releasable(): number {
    if (this.source.textEvents > this.checked) this.released = this.checked;
    return this.released;
  }

  /** True when enough unchecked text has arrived for a window. */
  due(): boolean {
    return this.source.textEvents - this.checked >= this.settings.windowTokens;
  }

  /** Checks the text events since the last check (with the overlap); true when they passed. */
  async checkWindow(): Promise<boolean> {
    const upTo = this.source.textEvents;
    const from = Math.max(0, this.checked - this.settings.overlapTokens);
    const [phase] = await this.deps.check([this.source.window(this.checked, upTo, this.settings.overlapTokens)]);
    this.checked = upTo;
    this.lastFrom = from;
    return passed(phase);
  }

  /** At the end of the stream: the unchecked rest and, unless a window already read it all, the whole answer; true when all passed. */
  async checkEnd(): Promise<boolean> {
    const total = this.source.textEvents;
    const restPending = total > this.checked || this.checked === 0;
    const from = Math.max(0, this.checked - this.settings.overlapTokens);
    const restIsWhole = restPending ? from === 0 : this.lastFrom === 0;
    const answers: AssistantAnswer[] = [];
    if (restPending) answers.push(this.source.window(this.checked, total, this.settings.overlapTokens));
    if (this.settings.wholeAnswer && !restIsWhole) answers.push(this.source.whole());
    if (answers.length === 0) return true;
    const phases = await this.deps.check(answers);
    this.checked = total;
    this.lastFrom = restPending ? from : this.lastFrom;
    return phases.every(passed);
  }
}

/**
 * The text-event ranges [from, to) window mode checks for an answer of `total` text events that
 * nothing blocks, all in one lane (the eval's answers: the overlap is then the last events before
 * the window): what WindowChecks runs, as a list (the eval's streamed mode scores answers
 * through it; test/unit/gateway/windowChecks.test.ts holds the two together). `released` is how
 * many text events had gone to the client when the check ran: had it blocked, that much of the
 * answer was already out (the end checks, `end`, run side by side after every full window passed;
 * a window goes out once text after it arrived, so an answer ending on a boundary keeps its last).
 */
export function plannedWindows(total: number, settings: WindowSettings): PlannedCheck[] {
  const out: PlannedCheck[] = [];
  let checked = 0;
  let before = 0;
  let lastFrom = 0;
  while (total - checked >= settings.windowTokens) {
    const upTo = checked + settings.windowTokens;
    lastFrom = Math.max(0, checked - settings.overlapTokens);
    out.push({ from: lastFrom, to: upTo, released: checked, end: false });
    before = checked;
    checked = upTo;
  }
  const restPending = total > checked || checked === 0;
  const from = Math.max(0, checked - settings.overlapTokens);
  // A window goes out once text after it arrived: with no rest, the last full window is still held.
  const released = restPending ? checked : before;
  if (restPending) out.push({ from, to: total, released, end: true });
  const restIsWhole = restPending ? from === 0 : lastFrom === 0;
  if (settings.wholeAnswer && !restIsWhole) out.push({ from: 0, to: total, released, end: true });
  return out;
}

export interface PlannedCheck {
  from: number;
  to: number;
  released: number;
  /** Run once the stream ended (the rest, the whole answer), not as a window became due. */
  end: boolean;
}

/**
 * A relay's release step as each engine event arrives: what `releasable` allows goes out, once.
 * `release(upTo)` writes the held events whose text ends at or before `upTo`.
 */
export function checkedReleaser(checks: WindowChecks, release: (upTo: number) => Promise<void>): () => Promise<void> {
  let releasedUpTo = 0;
  return async () => {
    const upTo = checks.releasable();
    if (upTo > releasedUpTo) {
      releasedUpTo = upTo;
      await release(upTo);
    }
  };
}

/** The policy's streaming settings as window mode reads them. */
export function windowSettings(streaming: { window_tokens: number; overlap_tokens: number; whole_answer: boolean }): WindowSettings {
  return { windowTokens: streaming.window_tokens, overlapTokens: streaming.overlap_tokens, wholeAnswer: streaming.whole_answer };
}

function passed(phase: GuardPhase): boolean {
  return phase.decision.action !== 'block';
}
