import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { listAuditFiles } from '../../../gateway/audit/auditFiles';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { AuditIndex } from '../../../gateway/review/auditIndex';

/**
 * Two review processes on one audit directory (the gateway's /review and a standalone
 * `safety-gateway review`): the first claims the shared index, the second indexes into a private
 * copy, so each checks every line itself. Sharing the file, a process listed the lines the other
 * had indexed without checking them: a forged record showed under an intact chain.
 */
const DIST_INDEX = path.join(__dirname, '..', '..', '..', 'dist', 'gateway', 'review', 'auditIndex.js');

/** Another process holding an index of `dir`: it catches up when told to and prints its chain status. */
function otherReviewProcess(dir: string) {
  const script = `
    const { AuditIndex } = require(${JSON.stringify(DIST_INDEX)});
    const index = new AuditIndex({ auditDir: ${JSON.stringify(dir)}, publicKeys: new Map() });
    const report = async () => { await index.catchUp(60000); process.stdout.write(JSON.stringify({ file: index.file, ...index.chainStatus() }) + '\\n'); };
    require('node:readline').createInterface({ input: process.stdin }).on('line', (l) => (l === 'quit' ? (index.close(), process.exit(0)) : report()));
    report();`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['pipe', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const status = async () => JSON.parse(((await lines.next()).value as string) ?? 'null') as { file: string; problems: number; lines: number };
  return {
    status,
    refresh: async () => {
      child.stdin!.write('refresh\n');
      return status();
    },
    quit: () => new Promise((resolve) => child.once('exit', resolve).stdin!.write('quit\n')),
  };
}

test('a second review process on one directory indexes a private copy, and sees a forged record the first one indexed', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-claim-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000 });
  for (let i = 0; i < 10; i++) {
    await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: `req_${i}`, receivedAt: new Date(Date.UTC(2026, 11, 3, 9, 0, i)).toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'missing_key', client: '203.0.113.9' }));
  }
  await log.close();
  const shared = path.join(dir, '.review-index.sqlite');
  const other = otherReviewProcess(dir);
  const first = await other.status();
  expect(first).toMatchObject({ file: shared, problems: 0 });

  const logged: string[] = [];
  const index = new AuditIndex({ auditDir: dir, publicKeys: new Map(), log: (line) => logged.push(line) });
  let copy = '';
  try {
    copy = index.file;
    expect(copy).not.toBe(shared);
    expect(logged.join('\n')).toMatch(/in use by another review process/);
    expect(await index.catchUp(60_000)).toBe(true);
    expect(index.chainStatus().problems).toBe(0);

    // A record forged onto the log's end (its hash is its neighbour's), indexed by the other process first.
    const file = listAuditFiles(dir).at(-1)!;
    const last = JSON.parse(readFileSync(file, 'utf8').trim().split('\n').at(-1)!) as { seq: number };
    appendFileSync(file, `${JSON.stringify({ ...last, seq: last.seq + 1, reason: 'forged' })}\n`);
    expect((await other.refresh()).problems).toBeGreaterThan(0);
    expect(await index.catchUp(60_000)).toBe(true);
    expect(index.chainStatus().problems).toBeGreaterThan(0);
  } finally {
    index.close();
    await other.quit();
  }
  // The private copy is removed; the shared index's claim ended with its process, so the next one takes it.
  expect(existsSync(copy)).toBe(false);
  const next = new AuditIndex({ auditDir: dir, publicKeys: new Map() });
  try {
    expect(next.file).toBe(shared);
  } finally {
    next.close();
  }
}, 60_000);
