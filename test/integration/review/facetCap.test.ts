import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { AuditIndex, MAX_FACET_VALUES } from '../../../gateway/review/auditIndex';

/**
 * A refused request to a made-up path records that path as its route: clients without a key can
 * send as many as they like, so the review index keeps a bounded number of values per dropdown.
 */
test('filter values per dimension are capped; every record is still indexed and findable', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-facets-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 64 << 20, maxFileAgeMs: 3600_000 });
  const n = MAX_FACET_VALUES + 50;
  for (let i = 0; i < n; i++) {
    await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: `req_${i}`, receivedAt: new Date(Date.UTC(2026, 11, 3, 9)).toISOString(), method: 'POST', route: `/v1/made-up-${String(i).padStart(5, '0')}`, status: 401, reason: 'missing_key', client: '203.0.113.9' }));
  }
  await log.close();
  const index = new AuditIndex({ auditDir: dir, publicKeys: new Map() });
  try {
    expect(await index.catchUp(60_000)).toBe(true);
    expect(index.facetValues('route', n)).toHaveLength(MAX_FACET_VALUES);
    const { count } = index.db.prepare('SELECT COUNT(*) AS count FROM records').get() as { count: number };
    expect(count).toBe(n);
  } finally {
    index.close();
  }
}, 60_000);
