import type { Verdict } from '../../guards/types';
import type { Decision } from '../../policies/evaluate';

/** One rule's guard verdict. */
export interface RuleVerdict {
  ruleId: string;
  verdict: Verdict;
}

/** One guard phase (the input, or one check of an answer): every rule's verdict and the decision they led to. */
export interface GuardPhase {
  decision: Decision;
  verdicts: RuleVerdict[];
  /**
   * The same rules' verdicts on a text read apart from the answer (its bookkeeping) where the
   * answer's own verdict decided, or the other way round: kept, so no verdict is lost.
   */
  otherReadings?: RuleVerdict[];
  /** Wall-clock time of the phase (guards run in parallel). */
  durationMs: number;
}
