import { judgeCheckpoints, type CheckpointSummary } from '../../../gateway/audit/checkpointVerifier';

/** A log whose start checkpoint verifies and whose later checkpoints fail, checked an hour later. */
const signedAt = '2026-12-07T10:00:00.000Z';
const last = { file: 'a.jsonl', line: 1, seq: 1, covers: 0, signedAt, reason: 'start' as const, keyId: 'k', every: { records: 1000, seconds: 60 } };
const summary = (invalidSeqs: number[], status: 'mismatch' | 'unknown_key' = 'mismatch'): CheckpointSummary => ({
  records: 10,
  checkpoints: 1 + invalidSeqs.length,
  valid: 1,
  invalid: invalidSeqs.map((seq) => ({ kind: 'checkpoint_invalid', status, file: 'a.jsonl', line: seq, seq, message: `checkpoint seq ${seq}: ${status}` })),
  last,
  tail: { records: 9, fromSeq: 2, toSeq: 10 },
});
const later = new Date(Date.parse(signedAt) + 3600_000);

test('an old last valid checkpoint with failing checkpoints after it: records changed after it, not a truncated log', () => {
  const stale = judgeCheckpoints(summary([6, 11]), later).problems.find((p) => p.kind === 'stale_checkpoint');
  expect(stale?.message).toMatch(/the checkpoints after it fail \(above\): the records after seq 1 were changed since they were signed/);
  expect(stale?.message).not.toMatch(/truncated/);
});

test('an old last checkpoint with nothing after it: truncated, or a crash, as before', () => {
  const stale = judgeCheckpoints(summary([]), later).problems.find((p) => p.kind === 'stale_checkpoint');
  expect(stale?.message).toMatch(/the log was truncated after seq 1 .* or the gateway stopped without signing its end/);
});

test('later checkpoints signed with a key not given (a rotation): says to give that key, not that records changed', () => {
  const stale = judgeCheckpoints(summary([6, 11], 'unknown_key'), later).problems.find((p) => p.kind === 'stale_checkpoint');
  expect(stale?.message).toMatch(/signed with a key not given \(above\): give its public key too/);
  expect(stale?.message).not.toMatch(/changed/);
});
