import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { AuditIndex } from '../../../gateway/review/auditIndex';
import { statusBanners } from '../../../gateway/review/layout';

/**
 * The review page over a directory with no audit records (a wrong --audit-dir) or one that is not
 * a directory said "Hash chain intact over 0 indexed lines", while `audit verify` fails both.
 */
async function bannersFor(auditDir: string): Promise<string> {
  const index = new AuditIndex({ auditDir, publicKeys: new Map() });
  try {
    await index.catchUp(60_000);
    return statusBanners({ base: '/review', access: 'key', chain: index.chainStatus(), index: index.status() }).toString();
  } finally {
    index.close();
  }
}

test('an empty directory is shown as holding no records, not as an intact chain', async () => {
  const banners = await bannersFor(mkdtempSync(path.join(tmpdir(), 'sg-empty-audit-')));
  expect(banners).toContain('data-chain="empty"');
  expect(banners).not.toContain('Hash chain intact');
});

test('a path that is not a directory: indexing failed, and no chain claimed intact', async () => {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-file-audit-')), 'audit.jsonl');
  writeFileSync(file, '');
  const banners = await bannersFor(file);
  expect(banners).toContain('Indexing failed');
  expect(banners).not.toContain('Hash chain intact');
});

test('a directory with records is intact as before', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000 });
  await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: 'req_1', receivedAt: new Date().toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'missing_key', client: '203.0.113.9' }));
  await log.close();
  const banners = await bannersFor(dir);
  expect(banners).toContain('data-chain="intact"');
  expect(banners).not.toContain('data-chain="empty"');
});
