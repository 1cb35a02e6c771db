import * as fsp from 'node:fs/promises';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../../gateway/audit/auditLog';

/**
 * `fsync: interval`: a failed fdatasync leaves acknowledged records possibly not on disk. It is
 * sticky: appends are refused (the gateway answers 503 audit_unavailable) and readiness fails
 * until a sync succeeds; a successful write in between must not hide it.
 */
describe('a failed fdatasync under fsync: interval', () => {
  test('refuses appends and fails readiness until a sync succeeds again, and says so once', async () => {
    let failSync = false;
    const fs = {
      ...fsp,
      open: async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        const datasync = handle.datasync.bind(handle);
        handle.datasync = async () => {
          if (failSync) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          return datasync();
        };
        return handle;
      },
    };
    const warnings: string[] = [];
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-sync-'));
    const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 30, maxFileBytes: 1e9, maxFileAgeMs: 1e9, fs: fs as never, warn: (l) => warnings.push(l) });
    try {
      expect(await log.check()).toBeUndefined();
      failSync = true;
      expect((await log.append({ kind: 'decision', n: 1 })).seq).toBe(1);
      await new Promise((r) => setTimeout(r, 150));
      await expect(log.append({ kind: 'decision', n: 2 })).rejects.toThrow(/fdatasync/);
      expect(await log.problem()).toMatch(/cannot be written \(fdatasync of the audit log failed: EIO/);
      expect(warnings.filter((w) => /may not be on disk/.test(w))).toHaveLength(1);

      failSync = false;
      expect(await log.problem()).toBeUndefined();
      expect((await log.append({ kind: 'decision', n: 3 })).seq).toBe(2);
      expect(warnings.some((w) => /succeeded again/.test(w))).toBe(true);
    } finally {
      await log.close();
    }
  });

  test('a failed sync of a file closed by rotation keeps refusing until that file syncs, not until the new one does', async () => {
    // Only the first file's handle fails to sync, while `oldFileBroken`.
    let oldFileBroken = false;
    let opened = 0;
    const fs = {
      ...fsp,
      open: async (...args: Parameters<typeof fsp.open>) => {
        const handle = await fsp.open(...args);
        const isFirstLogFile = /audit-.*\.jsonl$/.test(String(args[0])) && ++opened === 1;
        const datasync = handle.datasync.bind(handle);
        handle.datasync = async () => {
          if (isFirstLogFile && oldFileBroken) throw Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
          return datasync();
        };
        return handle;
      },
    };
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-sync-rot-'));
    // Tiny files: the second append rotates.
    const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 60_000, maxFileBytes: 200, maxFileAgeMs: 1e9, fs: fs as never, warn: () => undefined });
    try {
      expect(await log.check()).toBeUndefined();
      await log.append({ kind: 'decision', pad: 'x'.repeat(300) });
      oldFileBroken = true;
      // Rotation: the old file's last sync fails, so the batch that rotated is refused.
      await expect(log.append({ kind: 'decision', n: 2 })).rejects.toThrow(/at rotation failed/);
      // The new file syncs fine, but the old one's records may be lost: still refused.
      expect(await log.problem()).toMatch(/cannot be written \(fdatasync/);
      await expect(log.append({ kind: 'decision', n: 3 })).rejects.toThrow(/fdatasync/);
      oldFileBroken = false;
      expect(await log.problem()).toBeUndefined();
      expect((await log.append({ kind: 'decision', n: 4 })).seq).toBe(2);
    } finally {
      await log.close();
    }
  });
});
