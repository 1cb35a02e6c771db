import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toAuditEntry } from '../../gateway/audit/auditEntry';
import { AuditLog } from '../../gateway/audit/auditLog';
import type { CheckpointSigner } from '../../gateway/audit/checkpoint';
import { toRejectionEntry } from '../../gateway/audit/rejectionEntry';
import type { RequestRecord } from '../../gateway/record/requestRecord';
import { captureContent } from '../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from './requestRecords';

/**
 * A small audit log written by the real writer (hash chain, rotation, optional signed checkpoints):
 * decisions of two apps over two days, blocks in S1 and S2, a shadow verdict, a guard fault,
 * refusals, and the three content capture modes, hostile text included.
 */
export const SECRET_PROMPT = 'my private prompt: the vault code is 4417';
export const HOSTILE_TEXT = '<script>window.__xss = 1</script><img src=x onerror="window.__xss = 2">';

export interface FixtureRecord {
  record: RequestRecord;
  capture: 'none' | 'redacted' | 'full';
}

export function fixtureRecords(): FixtureRecord[] {
  const out: FixtureRecord[] = [];
  const day = (d: number, h: number, m = 0) => new Date(Date.UTC(2026, 11, d, h, m)).toISOString();
  for (let i = 0; i < 24; i++) {
    const app = i % 2 ? 'shop' : 'tools';
    const category = i % 3 === 0 ? 'S2' : 'S1';
    const blocked = i % 4 === 0;
    out.push({
      capture: 'none',
      record: requestRecord({
        requestId: `req_fixture_${String(i).padStart(2, '0')}`,
        clientRequestId: i === 5 ? 'client-abc-5' : undefined,
        keyId: `key_${app}`,
        traceId: i === 7 ? '4bf92f3577b34da6a3ce929d0e0e4736' : undefined,
        durationMs: 40 + i,
        receivedAt: day(i < 12 ? 1 : 2, i % 12, i),
        app,
        action: blocked ? 'block' : 'allow',
        input: phase('input', [
          [rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.01, { label: 'BENIGN' })],
          [rule('unsafe-prompt', 'llama_guard', { mode: i === 3 ? 'shadow' : 'enforce' }), verdict('llama_guard', blocked || i === 3 ? 0.93 : 0.02, blocked || i === 3 ? { categories: [category], windowsScanned: 4, worstPath: 'messages[0].content', worstSpan: { start: 12, end: 96 } } : {})],
        ]),
        outputs: [],
        content: { input: [SECRET_PROMPT], output: [] },
      }),
    });
  }
  out.push({
    capture: 'full',
    record: requestRecord({ requestId: 'req_fixture_full', receivedAt: day(2, 13), app: 'tools', action: 'allow', outputs: [], content: { input: [HOSTILE_TEXT], output: ['a captured answer'] } }),
  });
  out.push({
    capture: 'redacted',
    record: requestRecord({ requestId: 'req_fixture_redacted', receivedAt: day(2, 14), app: 'shop', action: 'allow', outputs: [], content: { input: ['mail me at jane@example.com'], output: [] } }),
  });
  out.push({
    capture: 'none',
    record: requestRecord({
      requestId: 'req_fixture_fault',
      receivedAt: day(2, 15),
      app: 'shop',
      action: 'block',
      guardFault: { guards: ['llama_guard'], rules: ['unsafe-prompt'], errorTypes: ['timeout'] },
      status: 503,
      error: { type: 'guard_unavailable', message: 'A guard failed.' },
      input: phase('input', [[rule('unsafe-prompt', 'llama_guard'), verdict('llama_guard', 0, { error: { type: 'timeout', message: 'timed out' } })]]),
      outputs: [],
    }),
  });
  return out;
}

export async function writeFixtureLog(options: { dir?: string; signer?: CheckpointSigner; maxFileBytes?: number } = {}): Promise<string> {
  const dir = options.dir ?? mkdtempSync(path.join(tmpdir(), 'sg-review-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: options.maxFileBytes ?? 16 * 1024, maxFileAgeMs: 3600_000, signer: options.signer });
  for (const { record, capture } of fixtureRecords()) await log.append(toAuditEntry(record, captureContent(record.content, capture, 'fixture-salt'), 'fixture-salt'));
  await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: 'req_fixture_401', receivedAt: new Date(Date.UTC(2026, 11, 2, 16)).toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'invalid_key', client: '127.0.0.1' }));
  await log.append(
    toRejectionEntry({ kind: 'rate_limited', requestId: 'req_fixture_429', receivedAt: new Date(Date.UTC(2026, 11, 2, 17)).toISOString(), app: 'shop', keyId: 'key_shop', method: 'POST', route: '/v1/chat/completions', status: 429, reason: 'requests_per_minute', limit: { kind: 'requests', limit: 1, requested: 1 } }),
  );
  await log.close();
  return dir;
}
