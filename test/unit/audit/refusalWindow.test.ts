import { formatStats, toRow } from '../../../gateway/audit/auditFormat';
import { auditStats, type StoredAuditEntry } from '../../../gateway/audit/auditQuery';
import { RefusalWindow, refusalSource } from '../../../gateway/audit/refusalWindow';
import { refusalsIn, toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import type { RejectionRecord } from '../../../gateway/record/requestRecord';
import { toIndexedLine } from '../../../gateway/review/recordRow';

let n = 0;
function refusal(overrides: Partial<RejectionRecord> = {}): RejectionRecord {
  n += 1;
  return {
    kind: 'unauthenticated',
    requestId: `req_${n}`,
    receivedAt: `2026-12-07T08:00:${String(n % 60).padStart(2, '0')}.000Z`,
    client: '203.0.113.7',
    method: 'POST',
    route: '/v1/chat/completions',
    status: 401,
    reason: 'invalid_key',
    ...overrides,
  };
}

const stored = (r: RejectionRecord, seq: number): StoredAuditEntry => ({ ...toRejectionEntry(r), seq, ts: r.receivedAt, prev: '0', hash: `h${seq}` });

describe('RefusalWindow (pure): a flood of refusals is bounded, never uncounted', () => {
  test('a source past its bound: one summary per kind, status and reason, keeping the first summarized refusal and counting the rest', () => {
    const window = new RefusalWindow({ perSource: 2, total: 100, maxSources: 10 });
    const sent = Array.from({ length: 7 }, () => refusal());
    const missing = refusal({ reason: 'missing_key' });
    const verdicts = [...sent, missing].map((r) => window.admit(r));
    expect(verdicts).toEqual(['record', 'record', 'summarized', 'summarized', 'summarized', 'summarized', 'summarized', 'summarized']);
    expect(window.quiet).toBe(false);
    const summaries = window.close();
    expect(summaries).toEqual([
      { ...sent[2], repeats: { count: 5, lastAt: sent[6].receivedAt, lastRequestId: sent[6].requestId } },
      { ...missing, repeats: { count: 1, lastAt: missing.receivedAt, lastRequestId: missing.requestId } },
    ]);
    // The next window starts afresh.
    expect(window.quiet).toBe(true);
    expect(window.admit(refusal())).toBe('record');
    expect(window.close()).toEqual([]);
  });

  test('sources are told apart: the API key when one named the app, else the client address', () => {
    expect(refusalSource(refusal({ keyId: 'key_1', client: '10.0.0.1' }))).toBe('key:key_1');
    expect(refusalSource(refusal({ client: '10.0.0.1' }))).toBe('client:10.0.0.1');
    const window = new RefusalWindow({ perSource: 1, total: 100, maxSources: 10 });
    expect(['10.0.0.1', '10.0.0.2', '10.0.0.1'].map((client) => window.admit(refusal({ client })))).toEqual(['record', 'record', 'summarized']);
  });

  test('the total bound summarizes every source once it is reached, each in its own summary', () => {
    const window = new RefusalWindow({ perSource: 5, total: 2, maxSources: 10 });
    const a = refusal({ client: '10.0.0.1' });
    const b = refusal({ kind: 'rate_limited', status: 429, reason: 'requests_per_minute', app: 'shop', keyId: 'key_9', limit: { kind: 'requests', limit: 1, requested: 1 } });
    expect([refusal({ client: '10.0.0.3' }), refusal({ client: '10.0.0.4' }), a, b, refusal({ client: '10.0.0.1' })].map((r) => window.admit(r))).toEqual(['record', 'record', 'summarized', 'summarized', 'summarized']);
    expect(window.close().map((s) => [s.client, s.keyId, s.app, s.kind, s.repeats?.count])).toEqual([
      ['10.0.0.1', undefined, undefined, 'unauthenticated', 2],
      [b.client, 'key_9', 'shop', 'rate_limited', 1],
    ]);
  });

  test('sources past max_sources are summarized together, naming none of them', () => {
    const window = new RefusalWindow({ perSource: 1, total: 100, maxSources: 2 });
    const verdicts = ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4'].map((client) => window.admit(refusal({ client, keyId: undefined })));
    expect(verdicts).toEqual(['record', 'record', 'summarized', 'summarized']);
    const [other] = window.close();
    expect(other.repeats).toEqual(expect.objectContaining({ count: 2, otherSources: true }));
    expect(other).not.toHaveProperty('client');
    expect(other).not.toHaveProperty('app');
  });

  test('0 means no bound: every refusal is recorded, from any number of sources', () => {
    const window = new RefusalWindow({ perSource: 0, total: 0, maxSources: 1 });
    expect(Array.from({ length: 50 }, () => window.admit(refusal())).every((v) => v === 'record')).toBe(true);
    expect(Array.from({ length: 5 }, (_, i) => window.admit(refusal({ client: `10.0.0.${i}` }))).every((v) => v === 'record')).toBe(true);
    expect(window.close()).toEqual([]);
  });
});

describe('a summary record in the log and its readers', () => {
  const single = refusal();
  const summary: RejectionRecord = { ...refusal(), repeats: { count: 40, lastAt: '2026-12-07T08:00:59.000Z', lastRequestId: 'req_last' } };

  test('the audit entry says how many refusals it stands for, and until when', () => {
    expect(toRejectionEntry(summary).repeats).toEqual({ count: 40, last_at: '2026-12-07T08:00:59.000Z', last_request_id: 'req_last' });
    expect(toRejectionEntry(single)).not.toHaveProperty('repeats');
    expect(refusalsIn(toRejectionEntry(summary))).toBe(40);
    expect(refusalsIn({ repeats: { count: -3 } })).toBe(1);
    expect(toRow(stored(summary, 2)).rules).toBe('invalid_key x40 (summary until 2026-12-07T08:00:59.000Z)');
  });

  test('audit stats count a summary as the refusals it stands for, and say so', () => {
    const stats = auditStats([stored(single, 1), stored(summary, 2)]);
    expect(stats.records).toBe(2);
    expect(stats.byKind.unauthenticated).toBe(41);
    expect(stats.byReason['unauthenticated:invalid_key']).toBe(41);
    expect(stats.byApp['(none)'].unauthenticated).toBe(41);
    expect(stats.summaries).toEqual({ records: 1, refusals: 40 });
    expect(stats.to).toBe('2026-12-07T08:00:59.000Z');
    expect(formatStats(stats, 'table')).toContain('1 of them summarize a flood of 40 refusals');
  });

  test('the review index weighs a summary line by its count', () => {
    const line = toIndexedLine({ ...toRejectionEntry(summary), seq: 2, hash: 'h' } as unknown as Record<string, unknown>);
    expect(line.row.requests).toBe(40);
    expect(line.row.summary).toContain('x40');
    expect(toIndexedLine({ ...toRejectionEntry(single), seq: 1, hash: 'h' } as unknown as Record<string, unknown>).row.requests).toBe(1);
  });
});
