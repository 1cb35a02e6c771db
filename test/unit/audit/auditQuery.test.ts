import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { toAuditEntry } from '../../../gateway/audit/auditEntry';
import { csvCell, formatEntries, formatStats, toRow } from '../../../gateway/audit/auditFormat';
import { auditStats, matches, parseTime, unfinishedStreams, type StoredAuditEntry } from '../../../gateway/audit/auditQuery';
import { toStreamStartEntry } from '../../../gateway/audit/streamStartEntry';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from '../../support/requestRecords';

function stored(overrides: Parameters<typeof requestRecord>[0] = {}, seq = 1): StoredAuditEntry {
  const record = requestRecord(overrides);
  return { ...toAuditEntry(record, captureContent(record.content, 'none', 's'), 's'), seq, ts: record.receivedAt, prev: '0', hash: 'h' };
}

describe('audit query', () => {
  const blocked = stored();
  const allowed = stored({ requestId: 'req_2', app: 'app-b', receivedAt: '2025-06-02T12:00:00.000Z', action: 'allow', outputs: [], input: phase('input', [[rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.1)]]) }, 2);

  test('unfinishedStreams: the starts with no decision record, within the time and app selected', () => {
    const start = (id: string, app: string, at: string) => ({ ...toStreamStartEntry({ requestId: id, receivedAt: at, app, route: '/v1/chat/completions', policy: { id: 'p', version: 'v' }, inputAction: 'allow' }), seq: 1, ts: at, prev: '0', hash: 'h' });
    const starts = [start('req_1', 'app-a', '2025-06-01T12:00:00.000Z'), start('req_x', 'app-a', '2025-06-02T12:00:00.000Z'), start('req_y', 'app-b', '2025-06-03T12:00:00.000Z')];
    // req_1 has its decision (the stream ended); req_x and req_y do not (cut by a crash).
    expect(unfinishedStreams(starts, [blocked, allowed]).map((s) => s.request_id)).toEqual(['req_x', 'req_y']);
    expect(unfinishedStreams(starts, [blocked, allowed], { app: 'app-b' }).map((s) => s.request_id)).toEqual(['req_y']);
    expect(unfinishedStreams(starts, [blocked, allowed], { until: new Date('2025-06-03T00:00:00Z') }).map((s) => s.request_id)).toEqual(['req_x']);
    expect(toStreamStartEntry({ requestId: 'r', receivedAt: 't', app: 'a', route: '/v1/responses', policy: { id: 'p', version: 'v' }, inputAction: 'flag' })).toEqual({ v: 1, kind: 'stream_started', request_id: 'r', received_at: 't', app: 'a', route: '/v1/responses', policy: { id: 'p', version: 'v' }, input_action: 'flag' });
  });

  test('parseTime: ISO or an age before now', () => {
    const now = new Date('2025-06-10T00:00:00Z');
    expect(parseTime('2025-06-01T12:00:00Z').toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(parseTime('24h', now).toISOString()).toBe('2025-06-09T00:00:00.000Z');
    expect(parseTime('7d', now).toISOString()).toBe('2025-06-03T00:00:00.000Z');
    expect(() => parseTime('yesterday')).toThrow(/ISO 8601/);
    expect(parseTime('2025-06-01').toISOString()).toBe('2025-06-01T00:00:00.000Z');
    expect(parseTime('2025-06-01T12:00:00+02:00').toISOString()).toBe('2025-06-01T10:00:00.000Z');
    // Without an offset: UTC, as the log and the review page show times, whatever the machine's zone.
    expect(parseTime('2025-06-01T12:00').toISOString()).toBe('2025-06-01T12:00:00.000Z');
    expect(parseTime('2025-06-01 12:00:30.5').toISOString()).toBe('2025-06-01T12:00:30.500Z');

    // An age without its unit, or a loose date, is refused rather than read as another time (48 -> 2048).
    expect(() => parseTime('48', now)).toThrow(/ISO 8601/);
    expect(() => parseTime('June 1', now)).toThrow(/ISO 8601/);
    expect(() => parseTime('2025-02-30', now)).toThrow(/ISO 8601/);
    // An age past the Date range would be an Invalid Date, silently matching everything.
    expect(() => parseTime('99999999999999d', now)).toThrow(/ISO 8601/);
  });

  test('parseTime in a process whose zone is not UTC (the built CLI, as a reviewer runs it)', () => {
    const script = `const { parseTime } = require(${JSON.stringify(path.join(__dirname, '../../../dist/gateway/audit/auditQuery.js'))}); console.log(new Date('2025-06-01T12:00').toISOString(), parseTime('2025-06-01T12:00').toISOString())`;
    const out = execFileSync(process.execPath, ['-e', script], { env: { ...process.env, TZ: 'America/New_York' }, encoding: 'utf8' }).trim();
    // The machine's own reading differs; the query's does not.
    expect(out).toBe('2025-06-01T16:00:00.000Z 2025-06-01T12:00:00.000Z');
  });

  test.each([
    [{ app: 'app-a' }, ['req_1']],
    [{ action: 'allow' as const }, ['req_2']],
    [{ guard: 'llama_guard' }, ['req_1']],
    [{ category: 'S1' }, ['req_1']],
    [{ rule: 'unsafe-answer' }, ['req_1']],
    [{ rule: 'jailbreak' }, ['req_1', 'req_2']],
    // --rule alone is every request the rule read; with --outcome, the ones it acted on.
    [{ rule: 'unsafe-answer', outcome: 'block' as const }, ['req_1']],
    [{ rule: 'jailbreak', outcome: 'block' as const }, []],
    [{ rule: 'jailbreak', outcome: 'allow' as const }, ['req_1', 'req_2']],
    [{ guard: 'prompt_guard', outcome: 'block' as const }, []],
    [{ outcome: 'block' as const }, ['req_1']],
    [{ since: new Date('2025-06-02T00:00:00Z') }, ['req_2']],
    [{ until: new Date('2025-06-02T00:00:00Z') }, ['req_1']],
    [{}, ['req_1', 'req_2']],
  ])('filter %j', (filter, ids) => {
    expect([blocked, allowed].filter((e) => matches(e, filter)).map((e) => e.request_id)).toEqual(ids);
  });

  test('stats: counts by action, guard, category and app', () => {
    const stats = auditStats([blocked, allowed]);
    expect(stats).toMatchObject({
      records: 2,
      from: '2025-06-01T12:00:00.000Z',
      to: '2025-06-02T12:00:00.000Z',
      byAction: { block: 1, allow: 1 },
      byCategory: { S1: 1 },
      byApp: { 'app-a': { block: 1 }, 'app-b': { allow: 1 } },
    });
    expect(stats.byGuard.llama_guard).toEqual({ runs: 2, flagged: 0, blocked: 1, errors: 0 });
    expect(stats.byGuard.prompt_guard.runs).toBe(2);
    expect(formatStats(stats, 'table')).toMatch(/llama_guard\s+2\s+0\s+1\s+0/);
    expect(formatStats(stats, 'csv')).toContain('category,S1,1');
  });

  test('rows, table, JSON lines and CSV', () => {
    expect(toRow(blocked)).toMatchObject({ request_id: 'req_1', action: 'block', rules: 'unsafe-answer', policy: 'fixture@abc123' });
    expect(toRow(blocked).guards).toContain('out:llama_guard=unsafe 0.970 [S1]');
    const table = formatEntries([blocked, allowed], 'table');
    expect(table.split('\n')[0]).toMatch(/^received_at\s+request_id\s+app/);
    expect(table).toContain('req_2');
    const jsonl = formatEntries([blocked], 'jsonl');
    expect(JSON.parse(jsonl)).toEqual(blocked);
    const csv = formatEntries([blocked], 'csv').split('\n');
    expect(csv[0]).toBe('received_at,request_id,app,route,action,status,rules,guards,policy,seq');
    expect(csv[1]).toContain('req_1,app-a,/v1/chat/completions,block,200,unsafe-answer,');
  });

  test('CSV cells are quoted, and formulas defused', () => {
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvCell('plain')).toBe('plain');
    // Locales that split on `;`: the value stays one cell, and what follows `;` cannot start a formula cell.
    expect(csvCell("/v1/x;=cmd|' /C calc'!A0")).toBe(`"/v1/x;=cmd|' /C calc'!A0"`);
  });
});
