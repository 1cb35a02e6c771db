import * as fsp from 'node:fs/promises';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, appendFileSync, utimesSync, renameSync, unlinkSync, rmSync, truncateSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hostname } from 'node:os';
import path from 'node:path';
import { auditLines, listAuditFiles } from '../../../gateway/audit/auditFiles';
import { lockContent } from '../../../gateway/lockHolder';
import { AuditLog, type AuditFs, type AuditLogOptions } from '../../../gateway/audit/auditLog';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { generateSigningKeyPair, loadSigningKey } from '../../../gateway/audit/signingKey';

/** The audit log writer against a real directory: chain, rotation, restarts, crashes, failures. */
function options(dir: string, extra: Partial<AuditLogOptions> = {}): AuditLogOptions {
  return { dir, fsync: 'always', fsyncIntervalMs: 50, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, ...extra };
}

const tmp = () => mkdtempSync(path.join(tmpdir(), 'sg-auditlog-'));

/**
 * The real file system, but while `full()` only `land(bytes)` of a write's bytes land (half by
 * default; -1: all, no failure), then ENOSPC: what a full disk does.
 */
function diskFillsWhen(full: () => boolean, land: (bytes: Buffer) => number = (b) => Math.floor(b.length / 2)): AuditFs {
  return {
    ...fsp,
    open: (async (...args: Parameters<typeof fsp.open>) => {
      const handle = await fsp.open(...args);
      const write = handle.write.bind(handle) as (...a: unknown[]) => Promise<{ bytesWritten: number }>;
      (handle as unknown as { write: unknown }).write = async (buffer: Buffer, offset = 0, length = buffer.length) => {
        if (!full()) return write(buffer, offset, length);
        const n = land(buffer.subarray(offset, offset + length));
        if (n < 0) return write(buffer, offset, length);
        if (n > 0) await write(buffer, offset, n);
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      };
      return handle;
    }) as AuditFs['open'],
  };
}
const entry = (i: number) => ({ kind: 'decision', request_id: `req_${i}`, action: 'allow', phases: [] });

describe('AuditLog', () => {
  test('appends hash-chained JSON lines; concurrent appends are group-committed in order', async () => {
    const dir = tmp();
    const log = new AuditLog(options(dir));
    const positions = await Promise.all(Array.from({ length: 50 }, (_, i) => log.append(entry(i))));
    await log.close();
    expect(positions.map((p) => p.seq)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    const lines = [...auditLines(dir)];
    expect(lines).toHaveLength(50);
    expect(JSON.parse(lines[0].text)).toMatchObject({ seq: 1, request_id: 'req_0', prev: '0'.repeat(64) });
    expect(JSON.parse(lines[49].text).hash).toBe(positions[49].hash);
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 50 });
  });

  test('rotation by size keeps the chain verifiable across files', async () => {
    const dir = tmp();
    const log = new AuditLog(options(dir, { maxFileBytes: 4096 }));
    for (let i = 0; i < 60; i++) await log.append(entry(i));
    await log.close();
    const files = listAuditFiles(dir);
    expect(files.length).toBeGreaterThan(3);
    for (const f of files) expect(readFileSync(f).length).toBeLessThan(4096 + 200);
    expect(path.basename(files[1])).toMatch(/^audit-0000000000\d\d-\d{8}T\d{6}Z\.jsonl$/);
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 60, files: files.length });
  });

  test('rotation by age, also across a restart', async () => {
    const dir = tmp();
    let now = new Date('2025-06-01T00:00:00Z');
    const clock = () => now;
    const first = new AuditLog(options(dir, { now: clock, maxFileAgeMs: 60_000 }));
    await first.append(entry(1));
    now = new Date('2025-06-01T00:00:30Z');
    await first.append(entry(2));
    now = new Date('2025-06-01T00:01:01Z');
    await first.append(entry(3));
    await first.close();
    expect(listAuditFiles(dir).map((f) => path.basename(f))).toEqual(['audit-000000000001-20250601T000000Z.jsonl', 'audit-000000000003-20250601T000101Z.jsonl']);
    now = new Date('2025-06-01T00:02:30Z');
    const second = new AuditLog(options(dir, { now: clock, maxFileAgeMs: 60_000 }));
    await second.append(entry(4));
    await second.close();
    expect(listAuditFiles(dir)).toHaveLength(3);
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 4 });
  });

  test('a restart continues the chain where it stopped', async () => {
    const dir = tmp();
    const a = new AuditLog(options(dir));
    await a.append(entry(1));
    await a.append(entry(2));
    await a.close();
    const b = new AuditLog(options(dir));
    expect((await b.append(entry(3))).seq).toBe(3);
    await b.close();
    expect(listAuditFiles(dir)).toHaveLength(1);
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 3 });
  });

  test('a torn last line from a crash is cut off at start (it was never acknowledged)', async () => {
    const dir = tmp();
    const a = new AuditLog(options(dir));
    await a.append(entry(1));
    await a.close();
    appendFileSync(listAuditFiles(dir)[0], '{"seq":2,"ts":"2025-06');
    const warnings: string[] = [];
    const b = new AuditLog(options(dir, { warn: (l) => warnings.push(l) }));
    expect((await b.append(entry(2))).seq).toBe(2);
    await b.close();
    expect(warnings.join()).toContain('incomplete last line');
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 2 });
  });

  test('interval fsync: records are written before append resolves', async () => {
    const dir = tmp();
    const log = new AuditLog(options(dir, { fsync: 'interval', fsyncIntervalMs: 20 }));
    await log.append(entry(1));
    expect([...auditLines(dir)]).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 60));
    await log.close();
  });

  test('a failed write (disk full) rejects, leaves no partial record, and the chain goes on once space is back', async () => {
    const dir = tmp();
    let full = false;
    const fs = diskFillsWhen(() => full);
    const log = new AuditLog(options(dir, { fs }));
    await log.append(entry(1));
    full = true;
    await expect(log.append(entry(2))).rejects.toThrow(/ENOSPC/);
    full = false;
    expect(await log.problem()).toBeUndefined(); // the probe succeeds again
    expect((await log.append(entry(3))).seq).toBe(2);
    await log.close();
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, records: 2 });
    expect([...auditLines(dir)].map((l) => JSON.parse(l.text).request_id)).toEqual(['req_1', 'req_3']);
  });

  test("a failed write after the file was truncated under the writer (logrotate's copytruncate) takes back only its own bytes: no zero bytes padded in, the next record readable", async () => {
    const dir = tmp();
    let full = false;
    const fs = diskFillsWhen(() => full);
    const log = new AuditLog(options(dir, { fs }));
    await log.append(entry(1));
    await log.append(entry(2));
    const [file] = listAuditFiles(dir);
    truncateSync(file, 0); // copytruncate: copied elsewhere, then emptied in place
    full = true;
    await expect(log.append(entry(3))).rejects.toThrow(/ENOSPC/);
    full = false;
    await log.append(entry(4));
    await log.close();
    const bytes = readFileSync(file);
    expect(bytes.includes(0)).toBe(false);
    expect([...auditLines(dir)].map((l) => (JSON.parse(l.text) as { request_id: string }).request_id)).toEqual(['req_4']);
    expect(verifyChain(auditLines(dir)).problems.map((p) => p.kind)).not.toContain('corrupt');
  });

  test('an unwritable directory is reported, not thrown, by check()', async () => {
    const file = path.join(tmp(), 'not-a-dir');
    writeFileSync(file, 'x');
    const log = new AuditLog(options(path.join(file, 'audit')));
    expect(await log.check()).toMatch(/^audit: the audit log in .* cannot be written \((ENOTDIR|EEXIST)/);
    await expect(log.append(entry(1))).rejects.toThrow();
    expect(await log.problem()).toMatch(/^audit:/);
    await log.close();
  });

  test('one writer per directory: shared in a process, refused across processes', async () => {
    const dir = tmp();
    const a = AuditLog.shared(options(dir));
    const b = AuditLog.shared(options(dir));
    expect(a).toBe(b);
    await a.append(entry(1));
    await a.release();
    await b.append(entry(2)); // still open for the second user
    await b.release();
    expect(readdirSync(dir)).not.toContain('.lock');

    writeFileSync(path.join(dir, '.lock'), `${process.ppid}\n`); // a live process that is not this one
    const other = new AuditLog(options(dir));
    expect(await other.check()).toMatch(/in use by another gateway process \(pid/);
    await other.close();
    writeFileSync(path.join(dir, '.lock'), '999999999\n'); // a process that is gone
    const next = new AuditLog(options(dir));
    expect(await next.check()).toBeUndefined();
    await next.close();
  });

  test('a lock from another host (another container: its pid means nothing here) holds while its holder touches it', async () => {
    const dir = tmp();
    const lock = path.join(dir, '.lock');
    // pid 1 on another host: what a second container on a shared volume writes.
    writeFileSync(lock, `${JSON.stringify({ host: 'other-pod', pid: 1, token: 'theirs' })}\n`);
    const blocked = new AuditLog(options(dir));
    expect(await blocked.check()).toMatch(/in use by another gateway process \(pid 1 on other-pod\)/);
    await blocked.close();
    expect(readFileSync(lock, 'utf8')).toContain('other-pod'); // closing did not remove someone else's lock

    // Our host name but another pid namespace (host networking): its pid 1 says nothing here either.
    writeFileSync(lock, `${JSON.stringify({ host: hostname(), ns: 'pid:[1]', pid: process.pid, token: 'theirs' })}\n`);
    const sameName = new AuditLog(options(dir));
    expect(await sameName.check()).toMatch(/in use by another gateway process/);
    await sameName.close();

    // Its holder stopped touching it a while ago (crashed, or the pod is gone): taken over.
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(lock, old, old);
    const next = new AuditLog(options(dir));
    expect(await next.check()).toBeUndefined();
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid });
    await next.close();
    expect(readdirSync(dir)).not.toContain('.lock');
  });

  test('a lock of a live process of this host holds however long its heartbeat was silent (a paused gateway writes on when it resumes: two writers would fork the chain)', async () => {
    const dir = tmp();
    const lock = path.join(dir, '.lock');
    // The parent process: alive, of this host and pid namespace, not this one.
    writeFileSync(lock, lockContent('theirs').replace(`"pid":${process.pid}`, `"pid":${process.ppid}`));
    const old = new Date(Date.now() - 10 * 60_000);
    utimesSync(lock, old, old);
    const second = new AuditLog(options(dir));
    expect(await second.check()).toMatch(/in use by another gateway process/);
    await second.close();
    expect(readFileSync(lock, 'utf8')).toContain('theirs');
  });

  test('a writer whose lock was taken over (another host, after its heartbeat went silent) writes no more: 503 and readiness say why', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask', 'performance', 'Date'] });
    try {
      const dir = tmp();
      const log = new AuditLog(options(dir));
      expect(await log.check()).toBeUndefined();
      await log.append(entry(1));
      // Another replica on a shared volume took it over while this one was paused.
      writeFileSync(path.join(dir, '.lock'), `${JSON.stringify({ host: 'other-pod', pid: 1, token: 'theirs' })}\n`);
      const old = new Date(Date.now() - 5 * 60_000);
      utimesSync(path.join(dir, '.lock'), old, old);
      jest.advanceTimersByTime(10_000);
      // The heartbeat's file reads run on real time: wait for them (up to 5 s on a busy machine).
      const until = Date.now() + 5000;
      while (!(await log.problem()) && Date.now() < until) await new Promise((r) => setImmediate(r));
      expect(await log.problem()).toMatch(/lock was taken over by another gateway \(pid 1 on other-pod\)/);
      await expect(log.append(entry(2))).rejects.toThrow(/taken over/);
      await log.close();
      expect(readFileSync(path.join(dir, '.lock'), 'utf8')).toContain('other-pod'); // never removed someone else's lock
      // ...nor kept it fresh: its heartbeat touches only its own.
      expect(Math.abs(statSync(path.join(dir, '.lock')).mtimeMs - old.getTime())).toBeLessThan(2000);
    } finally {
      jest.useRealTimers();
    }
  });

  test("the open file moved away under the writer (logrotate's mv): the batch written into it is kept there, said, and the next records start a new file that continues the chain, also across a restart", async () => {
    const dir = tmp();
    const warnings: string[] = [];
    const log = new AuditLog(options(dir, { warn: (l) => warnings.push(l) }));
    await log.append(entry(1));
    const [file] = listAuditFiles(dir);
    renameSync(file, `${file}.1`);
    expect((await log.append(entry(2))).seq).toBe(2);
    expect(warnings.join('\n')).toMatch(/was moved or replaced while the gateway wrote it/);
    expect((await log.append(entry(3))).seq).toBe(3);
    await log.close();
    const restarted = new AuditLog(options(dir));
    expect((await restarted.append(entry(4))).seq).toBe(4);
    await restarted.close();
    // What the tools read: the chain goes on (records 1-2 are in the moved file, under its own name), never a new chain at seq 1.
    expect([...auditLines(dir)].map((l) => (JSON.parse(l.text) as { seq: number }).seq)).toEqual([3, 4]);
  });

  test('the open file deleted under the writer: the batch written into it is refused (it went with the file), and the next records start a new file', async () => {
    const dir = tmp();
    const log = new AuditLog(options(dir, { warn: () => undefined }));
    await log.append(entry(1));
    unlinkSync(listAuditFiles(dir)[0]);
    await expect(log.append(entry(2))).rejects.toThrow(/was deleted while the gateway wrote it/);
    const next = await log.append(entry(3));
    expect(next.seq).toBe(2);
    expect([...auditLines(dir)].map((l) => (JSON.parse(l.text) as { request_id: string }).request_id)).toEqual(['req_3']);
    await log.close();
  });

  test('the whole audit directory deleted under the writer: refused, then made again with its lock, and the records go on there', async () => {
    const dir = tmp();
    const log = new AuditLog(options(dir, { warn: () => undefined }));
    await log.append(entry(1));
    rmSync(dir, { recursive: true, force: true });
    await expect(log.append(entry(2))).rejects.toThrow(/deleted/);
    await log.append(entry(3));
    expect(readdirSync(dir)).toContain('.lock');
    expect([...auditLines(dir)].map((l) => (JSON.parse(l.text) as { request_id: string }).request_id)).toEqual(['req_3']);
    await log.close();
  });

  describe('from a review of the storage-fault fixes', () => {
    const seqs = (dir: string) => [...auditLines(dir)].map((l) => (JSON.parse(l.text) as { seq: number }).seq);

    test('a file moved away just as rotation is due (a signing key: the rotation checkpoint goes in first) leaves the log writable', async () => {
      const dir = tmp();
      const keyDir = tmp();
      const pair = generateSigningKeyPair();
      writeFileSync(path.join(keyDir, 'k.pem'), pair.privatePem, { mode: 0o600 });
      const log = new AuditLog(options(dir, { maxFileBytes: 4096, signer: { key: loadSigningKey(path.join(keyDir, 'k.pem')), everyRecords: 1000, everySeconds: 3600 }, warn: () => undefined }));
      while (listAuditFiles(dir).length === 0 || readFileSync(listAuditFiles(dir)[0]).length < 4096) await log.append(entry(1));
      const [file] = listAuditFiles(dir);
      renameSync(file, `${file}.1`);
      await log.append(entry(2));
      await log.append(entry(3));
      expect(await log.problem()).toBeUndefined();
      await log.close();
    });

    test('copytruncate, then a failed batch larger than the file was: the batch is cut where it began, no seq written twice', async () => {
      const dir = tmp();
      const lines = (b: Buffer) => b.toString().split('\n').length - 1;
      const log = new AuditLog(options(dir, { fs: diskFillsWhen(() => true, (b) => (lines(b) > 1 ? Math.floor(b.length / 2) : -1)) }));
      await log.append(entry(1));
      const [file] = listAuditFiles(dir);
      truncateSync(file, 0);
      await Promise.all(Array.from({ length: 10 }, (_, i) => log.append(entry(2 + i)).catch(() => undefined)));
      await log.append(entry(99));
      await log.close();
      expect(readFileSync(file).includes(0)).toBe(false);
      expect(new Set(seqs(dir)).size).toBe(seqs(dir).length);
    });

    test('copytruncate, then a failed batch whose landed bytes end a few bytes into its second line: the whole batch is cut, not only the bytes that look like a line start', async () => {
      const dir = tmp();
      let full = false;
      const log = new AuditLog(options(dir, { fs: diskFillsWhen(() => full, (b) => b.indexOf(0x0a) + 1 + 7) }));
      for (let i = 1; i <= 5; i++) await log.append(entry(i));
      const [file] = listAuditFiles(dir);
      truncateSync(file, 0);
      const a = log.append(entry(6));
      const b = log.append(entry(7));
      const c = log.append(entry(8));
      await a;
      full = true;
      await b.catch(() => undefined);
      await c.catch(() => undefined);
      full = false;
      await log.append(entry(9));
      await log.close();
      expect(seqs(dir)).toEqual([6, 7]);
    });

    test.each([
      ['moved (mv)', (file: string) => renameSync(file, `${file}.1`)],
      ['moved, a new file made at its name (logrotate create)', (file: string) => (renameSync(file, `${file}.1`), writeFileSync(file, ''))],
    ])('%s, then a half-landed batch: the moved file keeps no torn record (its end is read through the open file, not by name)', async (_name, move) => {
      const dir = tmp();
      let full = false;
      const log = new AuditLog(options(dir, { fs: diskFillsWhen(() => full), warn: () => undefined }));
      for (let i = 1; i <= 3; i++) await log.append(entry(i));
      const [file] = listAuditFiles(dir);
      move(file);
      full = true;
      await expect(log.append(entry(4))).rejects.toThrow(/ENOSPC/);
      full = false;
      await log.append(entry(5));
      await log.close();
      for (const l of readFileSync(`${file}.1`, 'utf8').split('\n').filter(Boolean)) expect(() => JSON.parse(l)).not.toThrow();
    });

    test('a write waits for a lock read-back under way (a resumed process: its overdue heartbeat fires first)', async () => {
      const dir = tmp();
      let slow = false;
      const fs: AuditFs = {
        ...fsp,
        readFile: (async (...args: Parameters<typeof fsp.readFile>) => {
          if (slow && String(args[0]).endsWith('.lock')) await new Promise((r) => setTimeout(r, 300));
          return fsp.readFile(...args);
        }) as AuditFs['readFile'],
      };
      const log = new AuditLog(options(dir, { fs, warn: () => undefined }));
      await log.append(entry(1));
      writeFileSync(path.join(dir, '.lock'), `${JSON.stringify({ host: 'other-pod', pid: 1, token: 'theirs' })}\n`);
      const inside = log as unknown as { lockCheckedAt: number; lockMine: string; heartbeat(file: string, mine: string): Promise<void> };
      inside.lockCheckedAt = performance.now() - 60_000;
      slow = true;
      const beat = inside.heartbeat(path.join(dir, '.lock'), inside.lockMine);
      await expect(log.append(entry(2))).rejects.toThrow(/taken over/);
      await beat;
      await log.close();
    });

    test('a lock left by an earlier boot of this host is taken over, whatever process has its pid now', async () => {
      const dir = tmp();
      const lock = path.join(dir, '.lock');
      // The parent process is alive, but the lock names another boot: it cannot be its holder.
      writeFileSync(lock, `${JSON.stringify({ host: hostname(), ns: JSON.parse(lockContent('x')).ns, boot: 'an-earlier-boot', pid: process.ppid, token: 'old' })}\n`);
      const log = new AuditLog(options(dir));
      expect(await log.check()).toBeUndefined();
      await log.close();
    });

    test('a writer whose heartbeat is overdue (paused, then resumed) reads the lock back before it writes', async () => {
      const dir = tmp();
      const log = new AuditLog(options(dir, { warn: () => undefined }));
      await log.append(entry(1));
      writeFileSync(path.join(dir, '.lock'), `${JSON.stringify({ host: 'other-pod', pid: 1, token: 'theirs' })}\n`);
      // What a pause past the heartbeat looks like from inside: the last read-back long ago.
      (log as unknown as { lockCheckedAt: number }).lockCheckedAt = performance.now() - 60_000;
      await expect(log.append(entry(2))).rejects.toThrow(/taken over/);
      await log.close();
      expect(seqs(dir)).toEqual([1]);
    });
  });
});
