import { toAuditEntry, type AuditEntry } from '../../../gateway/audit/auditEntry';
import { formatEntries, formatStats, toRow } from '../../../gateway/audit/auditFormat';
import { auditStats, ENTRY_KINDS, matches, type StoredAuditEntry } from '../../../gateway/audit/auditQuery';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { guardFault } from '../../../gateway/pipeline/guardFault';
import type { RejectionRecord } from '../../../gateway/record/requestRecord';
import { toIndexedLine } from '../../../gateway/review/recordRow';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from '../../support/requestRecords';

const chain = { ts: '2025-06-01T12:00:00.000Z', prev: '0', hash: 'h' };
const down = verdict('llama_guard', 0, { label: 'error', error: { type: 'unavailable', message: 'http://10.0.0.5:8000/v1: connect ECONNREFUSED' } });

function rejection(overrides: Partial<RejectionRecord> = {}): RejectionRecord {
  return {
    kind: 'rate_limited',
    requestId: 'req_9',
    clientRequestId: 'client-7',
    receivedAt: '2025-06-03T00:00:00.000Z',
    app: 'app-a',
    keyId: 'k_123',
    client: '127.0.0.1',
    method: 'POST',
    route: '/v1/chat/completions',
    status: 429,
    reason: 'tokens_per_minute',
    limit: { kind: 'tokens', limit: 100, requested: 80 },
    ...overrides,
  };
}

describe('guardFault (pure)', () => {
  test('a block that came only from guard errors is a fault', () => {
    const p = phase('input', [[rule('unsafe-prompt', 'llama_guard'), down]]);
    expect(guardFault(p.decision)).toEqual({ guards: ['llama_guard'], rules: ['unsafe-prompt'], errorTypes: ['unavailable'] });
  });
  test('a real verdict that blocks wins: not a fault, even if another guard failed', () => {
    const p = phase('input', [
      [rule('unsafe-prompt', 'llama_guard'), down],
      [rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.99, { label: 'JAILBREAK' })],
    ]);
    expect(guardFault(p.decision)).toBeUndefined();
  });
  test('on_error: allow, shadow rules, bad_input and allowed phases are not faults', () => {
    expect(guardFault(phase('input', [[rule('r', 'llama_guard', { on_error: 'allow' }), down]]).decision)).toBeUndefined();
    expect(guardFault(phase('input', [[rule('r', 'llama_guard', { mode: 'shadow' }), down]]).decision)).toBeUndefined();
    const badInput = verdict('llama_guard', 0, { label: 'error', error: { type: 'bad_input', message: 'empty conversation' } });
    expect(guardFault(phase('input', [[rule('r', 'llama_guard'), badInput]]).decision)).toBeUndefined();
    expect(guardFault(phase('input', [[rule('r', 'llama_guard'), verdict('llama_guard', 0.1)]]).decision)).toBeUndefined();
  });
});

describe('audit entries: guard faults, client ids, refusals', () => {
  test('a guard fault is recorded as action error, its phase as error; the client id as a separate label', () => {
    const input = phase('input', [[rule('unsafe-prompt', 'llama_guard'), down]]);
    const record = requestRecord({ input, outputs: [], status: 503, clientRequestId: 'client-7', guardFault: guardFault(input.decision), error: { type: 'guard_unavailable', message: 'llama_guard: unavailable' } });
    const entry = toAuditEntry(record, captureContent(record.content, 'none', 's'), 's');
    expect(entry).toMatchObject({ request_id: 'req_1', client_request_id: 'client-7', action: 'error', status: 503, error: { type: 'guard_unavailable' } });
    expect(entry.phases[0]).toMatchObject({ action: 'error', verdicts: [{ error_type: 'unavailable' }] });
    // The guard's own error text (its address) is not part of the record.
    expect(JSON.stringify(entry)).not.toContain('10.0.0.5');
  });

  test('audit stats count a guard fault as an error, never as a block or a category, as --outcome and the review page do', () => {
    const faulted = phase('input', [[rule('unsafe-prompt', 'llama_guard'), down]]);
    const blocked = phase('input', [[rule('unsafe-prompt', 'llama_guard'), verdict('llama_guard', 0.97, { label: 'unsafe', categories: ['S1'] })]]);
    const fault = requestRecord({ input: faulted, outputs: [], status: 503, guardFault: guardFault(faulted.decision), error: { type: 'guard_unavailable', message: 'llama_guard: unavailable' } });
    const block = requestRecord({ requestId: 'req_2', input: blocked, outputs: [] });
    const entries = [fault, block].map((r, i): StoredAuditEntry => ({ ...toAuditEntry(r, captureContent(r.content, 'none', 's'), 's'), seq: i + 1, ...chain }));
    expect((entries[0] as AuditEntry & { seq: number }).phases[0].verdicts[0]).toMatchObject({ rule_action: 'block', error_type: 'unavailable' });
    const stats = auditStats(entries);
    expect(stats.byGuard.llama_guard).toEqual({ runs: 2, flagged: 0, blocked: 1, errors: 1 });
    expect(stats.byCategory).toEqual({ S1: 1 });
  });

  test('a refusal is its own kind, with app, key id, reason and limit; never a key', () => {
    expect(toRejectionEntry(rejection())).toEqual({
      v: 1,
      kind: 'rate_limited',
      request_id: 'req_9',
      client_request_id: 'client-7',
      received_at: '2025-06-03T00:00:00.000Z',
      app: 'app-a',
      key_id: 'k_123',
      client: '127.0.0.1',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 429,
      reason: 'tokens_per_minute',
      limit: { kind: 'tokens', limit: 100, requested: 80 },
    });
    const unauthenticated = toRejectionEntry(rejection({ kind: 'unauthenticated', status: 401, reason: 'invalid_key', app: undefined, keyId: undefined, limit: undefined }));
    expect(unauthenticated).not.toHaveProperty('app');
    expect(unauthenticated).not.toHaveProperty('limit');
  });

  test('query, rows and stats take the new kinds', () => {
    const decision: StoredAuditEntry = { ...toAuditEntry(requestRecord(), captureContent(requestRecord().content, 'none', 's'), 's'), seq: 1, ...chain };
    const limited: StoredAuditEntry = { ...toRejectionEntry(rejection()), seq: 2, ...chain };
    const noKey: StoredAuditEntry = { ...toRejectionEntry(rejection({ kind: 'unauthenticated', status: 401, reason: 'missing_key', app: undefined, keyId: undefined, limit: undefined, requestId: 'req_10' })), seq: 3, ...chain };
    const all = [decision, limited, noKey];
    expect(all.filter((e) => matches(e, { kind: 'rate_limited' })).map((e) => e.request_id)).toEqual(['req_9']);
    expect(all.filter((e) => matches(e, { app: 'app-a' })).map((e) => e.request_id)).toEqual(['req_1', 'req_9']);
    // Verdict filters select decisions only.
    expect(all.filter((e) => matches(e, { action: 'block' })).map((e) => e.request_id)).toEqual(['req_1']);
    expect(toRow(limited)).toMatchObject({ action: 'rate_limited', status: '429', rules: 'tokens_per_minute (limit 100, requested 80)', app: 'app-a' });
    expect(formatEntries(all, 'csv')).toContain('unauthenticated');
    const stats = auditStats(all);
    expect(stats).toMatchObject({
      records: 3,
      byKind: { decision: 1, rate_limited: 1, unauthenticated: 1 },
      byAction: { block: 1 },
      byReason: { 'rate_limited:tokens_per_minute': 1, 'unauthenticated:missing_key': 1 },
      byApp: { 'app-a': { block: 1, rate_limited: 1 }, '(none)': { unauthenticated: 1 } },
    });
    expect(formatStats(stats, 'table')).toMatch(/rate_limited:tokens_per_minute\s+1/);
  });

  test('an invalid request (400 before the guarded call): its own kind, the error code as reason, the member named, no limit', () => {
    const invalid = toRejectionEntry(rejection({ kind: 'invalid_request', status: 400, reason: 'unsupported_parameter', param: 'chat_template', limit: undefined, requestId: 'req_11' }));
    expect(invalid).toEqual({
      v: 1,
      kind: 'invalid_request',
      request_id: 'req_11',
      client_request_id: 'client-7',
      received_at: '2025-06-03T00:00:00.000Z',
      app: 'app-a',
      key_id: 'k_123',
      client: '127.0.0.1',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 400,
      reason: 'unsupported_parameter',
      param: 'chat_template',
    });
    expect(toRejectionEntry(rejection({ kind: 'invalid_request', status: 400, reason: 'invalid_json', limit: undefined }))).not.toHaveProperty('param');
    expect(ENTRY_KINDS).toContain('invalid_request');

    const stored: StoredAuditEntry = { ...invalid, seq: 4, ...chain };
    const tooLarge: StoredAuditEntry = { ...toRejectionEntry(rejection({ kind: 'invalid_request', status: 413, reason: 'request_too_large', limit: undefined, requestId: 'req_12' })), seq: 5, ...chain };
    const limited: StoredAuditEntry = { ...toRejectionEntry(rejection()), seq: 6, ...chain };
    const all = [stored, tooLarge, limited];
    expect(all.filter((e) => matches(e, { kind: 'invalid_request' })).map((e) => e.request_id)).toEqual(['req_11', 'req_12']);
    expect(all.filter((e) => matches(e, { action: 'block' }))).toEqual([]);
    expect(toRow(stored)).toMatchObject({ action: 'invalid_request', status: '400', rules: 'unsupported_parameter (chat_template)', route: '/v1/chat/completions' });
    expect(toRow(tooLarge)).toMatchObject({ status: '413', rules: 'request_too_large' });
    const stats = auditStats(all);
    expect(stats).toMatchObject({
      byKind: { invalid_request: 2, rate_limited: 1 },
      byReason: { 'invalid_request:unsupported_parameter': 1, 'invalid_request:request_too_large': 1 },
      byApp: { 'app-a': { invalid_request: 2, rate_limited: 1 } },
    });
    const table = formatStats(stats, 'table');
    expect(table).toMatch(/invalid_request:unsupported_parameter\s+1/);
    expect(table).toMatch(/app\s+allow\s+flag\s+block\s+error\s+rate_limited\s+unauthenticated\s+invalid_request\s+policy_unavailable\n[- ]+\napp-a\s+0\s+0\s+0\s+0\s+1\s+0\s+2\s+0\n/);

    // The review index: its own kind, the reason and member as the summary.
    const { row } = toIndexedLine(stored as unknown as Record<string, unknown>);
    expect(row).toMatchObject({ kind: 'invalid_request', action: 'invalid_request', status: 400, summary: 'unsupported_parameter (chat_template)', request_id: 'req_11', route: '/v1/chat/completions' });
  });

  test('a policy_unavailable (503: the key assigns a policy not loaded): its own kind, the policy id kept, no limit or member', () => {
    const record = rejection({ kind: 'policy_unavailable', status: 503, reason: 'policy_unavailable', policyId: 'kids', limit: undefined, requestId: 'req_13' });
    const entry = toRejectionEntry(record);
    expect(entry).toEqual({
      v: 1,
      kind: 'policy_unavailable',
      request_id: 'req_13',
      client_request_id: 'client-7',
      received_at: '2025-06-03T00:00:00.000Z',
      app: 'app-a',
      key_id: 'k_123',
      client: '127.0.0.1',
      method: 'POST',
      route: '/v1/chat/completions',
      status: 503,
      reason: 'policy_unavailable',
      policy_id: 'kids',
    });
    expect(ENTRY_KINDS).toContain('policy_unavailable');

    const stored: StoredAuditEntry = { ...entry, seq: 7, ...chain };
    const limited: StoredAuditEntry = { ...toRejectionEntry(rejection()), seq: 8, ...chain };
    expect([stored, limited].filter((e) => matches(e, { kind: 'policy_unavailable' })).map((e) => e.request_id)).toEqual(['req_13']);
    expect(matches(stored, { action: 'error' })).toBe(false);
    expect(toRow(stored)).toMatchObject({ action: 'policy_unavailable', status: '503', rules: 'policy_unavailable (policy kids)', policy: 'kids', app: 'app-a' });
    const stats = auditStats([stored, limited]);
    expect(stats).toMatchObject({ byKind: { policy_unavailable: 1, rate_limited: 1 }, byReason: { 'policy_unavailable:policy_unavailable': 1 }, byApp: { 'app-a': { policy_unavailable: 1, rate_limited: 1 } } });
    expect(formatStats(stats, 'table')).toMatch(/invalid_request\s+policy_unavailable\n[- ]+\napp-a\s+0\s+0\s+0\s+0\s+1\s+0\s+0\s+1\n/);

    // The review index: its own kind, the policy named in the summary and as the policy id (filterable), no version.
    const { row, facets } = toIndexedLine(stored as unknown as Record<string, unknown>);
    expect(row).toMatchObject({ kind: 'policy_unavailable', action: 'policy_unavailable', status: 503, summary: 'policy_unavailable (policy kids)', policy_id: 'kids', policy_version: null });
    expect(facets).toContainEqual(['policy_id', 'kids']);
  });
});
