import { blockPoint, streamRelease } from '../../../gateway/cli/eval/streamRelease';
import type { GuardOutcome, StreamedChecks } from '../../../gateway/cli/eval/runGuard';
import type { EvalExample } from '../../../gateway/cli/eval/selection';

/** A 200-token answer in 80-token windows with 16 re-read: windows released 0, 80; the end checks (rest, whole) after 160. */
const checks = (scores: [number, number, number, number]): StreamedChecks => ({
  tokens: 200,
  checks: [
    { released: 0, score: scores[0], end: false },
    { released: 80, score: scores[1], end: false },
    { released: 160, score: scores[2], end: true },
    { released: 160, score: scores[3], end: true },
  ],
});

const example = (positive: boolean): EvalExample => ({ id: 'x', text: '', role: 'assistant', label: positive ? 'unsafe' : 'safe', positive, dataset: 'd', categories: [], group: undefined }) as unknown as EvalExample;
const outcome = (stream: StreamedChecks): GuardOutcome => ({ score: Math.max(...stream.checks.map((c) => c.score)), label: 'unsafe', categories: [], stream });

test('blockPoint: the first check over the threshold says how much had gone out', () => {
  expect(blockPoint(checks([0.9, 0.1, 0.1, 0.1]), 0.5)).toEqual({ releasedShare: 0, atEnd: false });
  expect(blockPoint(checks([0.1, 0.9, 0.9, 0.1]), 0.5)).toEqual({ releasedShare: 0.4, atEnd: false });
  expect(blockPoint(checks([0.1, 0.1, 0.1, 0.9]), 0.5)).toEqual({ releasedShare: 0.8, atEnd: true });
  expect(blockPoint(checks([0.1, 0.1, 0.1, 0.1]), 0.5)).toBeUndefined();
});

test('blockPoint: an answer shorter than one window has one check, before any text', () => {
  expect(blockPoint({ tokens: 30, checks: [{ released: 0, score: 0.99, end: true }] }, 0.5)).toEqual({ releasedShare: 0, atEnd: false });
});

test('blockPoint: with no end checks (whole_answer off, an exact multiple of the window), a block at the last window is mid-stream', () => {
  const windowsOnly: StreamedChecks = { tokens: 160, checks: [{ released: 0, score: 0.1, end: false }, { released: 80, score: 0.9, end: false }] };
  expect(blockPoint(windowsOnly, 0.5)).toEqual({ releasedShare: 0.5, atEnd: false });
});

test('streamRelease counts unsafe answers only, by where their block lands', () => {
  const examples = [example(true), example(true), example(true), example(true), example(false)];
  const outcomes = [outcome(checks([0.9, 0, 0, 0])), outcome(checks([0, 0.9, 0, 0])), outcome(checks([0, 0, 0, 0.9])), outcome(checks([0, 0, 0, 0])), outcome(checks([0.9, 0, 0, 0]))];
  expect(streamRelease(examples, outcomes, () => 0.5)).toEqual({
    unsafe_answers: 4,
    caught: 3,
    caught_before_any_text: 1,
    caught_by_half: 2,
    caught_at_end: 1,
    median_released_share: 0.4,
  });
});

test('streamRelease: nothing streamed, nothing to say; errors are left out', () => {
  expect(streamRelease([example(true)], [{ score: 0.9, label: 'unsafe', categories: [] }], () => 0.5)).toBeUndefined();
  expect(streamRelease([example(true)], [{ error: { type: 'timeout', message: 't' } }], () => 0.5)).toBeUndefined();
});
