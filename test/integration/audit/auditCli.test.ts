import { mkdtempSync, readFileSync, renameSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { toAuditEntry } from '../../../gateway/audit/auditEntry';
import { listAuditFiles } from '../../../gateway/audit/auditFiles';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { recordHash } from '../../../gateway/audit/hashChain';
import { runAudit } from '../../../gateway/cli/auditCommand';
import { main } from '../../../gateway/cli/main';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { phase, requestRecord, rule, verdict } from '../../support/requestRecords';

/** `safety-gateway audit query | verify | stats` over a real, rotated audit directory. */
async function writeLog(dir: string, count: number, maxFileBytes = 1 << 20): Promise<void> {
  const log = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes, maxFileAgeMs: 3600_000 });
  for (let i = 0; i < count; i++) {
    const blocked = i % 3 === 0;
    const record = requestRecord({
      requestId: `req_${i}`,
      app: i % 2 ? 'app-b' : 'app-a',
      receivedAt: new Date(Date.UTC(2025, 5, 1, 0, i)).toISOString(),
      action: blocked ? 'block' : 'allow',
      outputs: blocked ? requestRecord().outputs : [],
      input: phase('input', [[rule('jailbreak', 'prompt_guard'), verdict('prompt_guard', 0.01, { label: 'BENIGN' })]]),
    });
    await log.append(toAuditEntry(record, captureContent(record.content, 'none', 's'), 's'));
  }
  await log.close();
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAudit(args, { out: (t) => (out += t), err: (t) => (err += t), env });
  return { code, out, err };
}

/** Rewrites the lines of a file through `edit`. */
function editLines(file: string, edit: (lines: string[]) => string[]): void {
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  writeFileSync(file, edit(lines).map((l) => `${l}\n`).join(''));
}

describe('safety-gateway audit', () => {
  let dir: string;
  beforeEach(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'sg-audit-cli-'));
    await writeLog(dir, 12, 3000);
  });

  test('is registered in the CLI', async () => {
    const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    try {
      expect(await main(['audit', '--help'])).toBe(0);
      expect(String(write.mock.calls[0][0])).toContain('audit <command>');
    } finally {
      write.mockRestore();
    }
  });

  test('query: filters by time, app, action, guard, category and rule; table, JSON lines, CSV', async () => {
    const table = await cli(['query', '--dir', dir, '--action', 'block']);
    expect(table.code).toBe(0);
    expect(table.out.split('\n')[0]).toMatch(/^received_at\s+request_id/);
    expect(table.out.match(/req_\d+/g)).toEqual(['req_0', 'req_3', 'req_6', 'req_9']);
    expect(table.err).toContain('4 of 12 records');

    const jsonl = await cli(['query', '--dir', dir, '--format', 'jsonl', '--app', 'app-b', '--category', 'S1']);
    expect(jsonl.out.trim().split('\n').map((l) => JSON.parse(l).request_id)).toEqual(['req_3', 'req_9']);

    const csv = await cli(['query', '--dir', dir, '--format', 'csv', '--since', '2025-06-01T00:05:00Z', '--until', '2025-06-01T00:08:00Z', '--rule', 'jailbreak', '--guard', 'prompt_guard']);
    expect(csv.out.trim().split('\n')).toHaveLength(4);
    expect(csv.out).toContain(',req_5,app-b,');

    expect((await cli(['query', '--dir', dir, '--limit', '2', '--format', 'jsonl'])).out.trim().split('\n').map((l) => JSON.parse(l).seq)).toEqual([11, 12]);
    // The footer says when --limit cut the list.
    expect((await cli(['query', '--dir', dir, '--action', 'block', '--limit', '2'])).err).toMatch(/4 of 12 records in \d+ file\(s\); the last 2 shown \(--limit\)/);
    // --rule alone is every request the rule read; --outcome narrows to those it acted on.
    // Here jailbreak allows every request and unsafe-answer blocks every third.
    expect((await cli(['query', '--dir', dir, '--rule', 'jailbreak'])).err).toContain('12 of 12 records');
    expect((await cli(['query', '--dir', dir, '--rule', 'jailbreak', '--outcome', 'block'])).err).toContain('0 of 12 records');
    const blockedBy = await cli(['query', '--dir', dir, '--format', 'jsonl', '--rule', 'unsafe-answer', '--outcome', 'block']);
    expect(blockedBy.out.trim().split('\n').map((l) => JSON.parse(l).request_id)).toEqual(['req_0', 'req_3', 'req_6', 'req_9']);
    expect((await cli(['query', '--dir', dir, '--outcome', 'maybe'])).code).toBe(2);
    expect((await cli(['query', '--dir', dir, '--action', 'maybe'])).code).toBe(2);
    expect((await cli(['query', '--dir', path.join(dir, 'nope')])).err).toContain('no audit directory');
  });

  test('the directory comes from SAFETY_AUDIT_DIR when --dir is absent', async () => {
    const res = await cli(['stats'], { SAFETY_AUDIT_DIR: dir });
    expect(res.code).toBe(0);
    expect(res.out).toContain('12 records');
  });

  test('stats: counts by action, guard, category and app', async () => {
    const res = await cli(['stats', '--dir', dir, '--format', 'jsonl']);
    const stats = JSON.parse(res.out);
    expect(stats).toMatchObject({ records: 12, byAction: { block: 4, allow: 8 }, byCategory: { S1: 4 }, byApp: { 'app-a': { block: 2, allow: 4 }, 'app-b': { block: 2, allow: 4 } } });
    expect(stats.byGuard.llama_guard).toEqual({ runs: 4, flagged: 0, blocked: 4, errors: 0 });
    const table = await cli(['stats', '--dir', dir, '--since', '2025-06-01T00:06:00Z']);
    expect(table.out).toContain('6 records');
  });

  test('verify: an intact, rotated log passes', async () => {
    expect(listAuditFiles(dir).length).toBeGreaterThan(2);
    const res = await cli(['verify', '--dir', dir]);
    expect(res.code).toBe(0);
    expect(res.out).toMatch(/^ok: 12 records in \d+ file\(s\), hash chain intact; last record seq 12, hash [0-9a-f]{64}/);
  });

  test('verify: a last line still being written on a live log is not checked (a note, exit 0); one left unchanged is a cut-off record (exit 1)', async () => {
    const files = listAuditFiles(dir);
    const newest = files[files.length - 1];
    const lines = readFileSync(newest, 'utf8');
    // A reader that catches a record half written: the file ends part way through a line.
    writeFileSync(newest, `${lines}{"seq":13,"prev":"`);
    // File times are finer than the clock's milliseconds: a read in the write's millisecond sees a slightly negative age.
    const justNow = new Date(Date.now() + 500);
    utimesSync(newest, justNow, justNow);
    const live = await cli(['verify', '--dir', dir]);
    expect(live.out).toMatch(/^note: audit-\d{12}-\d{8}T\d{6}Z\.jsonl:\d+ is a record being written \(no newline yet; the file changed \d+ ms ago\): not checked/m);
    expect(live.out).toMatch(/^ok: 12 records in \d+ file\(s\), hash chain intact; last record seq 12/m);
    expect(live.code).toBe(0);
    const query = await cli(['query', '--dir', dir]);
    expect(query.err).not.toContain('unreadable');
    // The same tail unchanged for a minute: no write takes that long, so it was cut off (a crash, a full disk, an edit).
    const minuteAgo = new Date(Date.now() - 60_000);
    utimesSync(newest, minuteAgo, minuteAgo);
    const stale = await cli(['verify', '--dir', dir]);
    expect(stale.code).toBe(1);
    expect(stale.out).toMatch(/:\d+: corrupt: an unfinished last line \(no newline\), unchanged for 60 s: a record cut off/);
    expect((await cli(['query', '--dir', dir])).err).toContain('1 unreadable line(s) skipped');
  });

  test('verify: the grace hides nothing a hand could make: a complete record without its newline, or a torn line in a file dated ahead, is checked', async () => {
    const files = listAuditFiles(dir);
    const newest = files[files.length - 1];
    // The last record edited, its newline dropped so it looks like a write under way: still an edit.
    editLines(newest, (l) => [...l.slice(0, -1), l[l.length - 1].replace('"app":"app-', '"app":"xpp-')]);
    writeFileSync(newest, readFileSync(newest, 'utf8').replace(/\n$/, ''));
    const edited = await cli(['verify', '--dir', dir]);
    expect(edited.code).toBe(1);
    expect(edited.out).toMatch(/edited: record seq 12 does not match its hash/);
    // A torn line whose file is dated in the future (its age never grows): corrupt, not "being written".
    writeFileSync(newest, `${readFileSync(newest, 'utf8')}\n{"seq":13,"prev":"`);
    const future = new Date(Date.now() + 3600_000);
    utimesSync(newest, future, future);
    const dated = await cli(['verify', '--dir', dir]);
    expect(dated.code).toBe(1);
    expect(dated.out).toMatch(/corrupt: an unfinished last line \(no newline\), its file dated in the future/);
  });

  test('verify: a directory without audit files fails (a wrong --dir, or a log removed whole)', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'audit-empty-'));
    const res = await cli(['verify', '--dir', empty]);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(/^FAILED: no audit log files in /);
    // A log file that is there but empty is said so, not as a missing log.
    writeFileSync(path.join(empty, 'audit-000000000001-20261207T100000Z.jsonl'), '');
    const emptyFile = await cli(['verify', '--dir', empty]);
    expect(emptyFile.code).toBe(1);
    expect(emptyFile.out).toMatch(/^FAILED: the audit log files in .* \(1\) are empty: no records/);
  });

  const tamperings: [string, (files: string[]) => void, RegExp][] = [
    ['an edited record', (files) => editLines(files[1], (l) => [l[0].replace('"action":"allow"', '"action":"block"').replace('"action":"block","status"', '"action":"allow","status"'), ...l.slice(1)]), /:1 \(seq \d+\): edited: record seq \d+ does not match its hash/],
    [
      'an edited and re-hashed record',
      (files) =>
        editLines(files[0], (l) => {
          const r = JSON.parse(l[1]);
          r.app = 'someone-else';
          r.hash = recordHash(r);
          return [l[0], JSON.stringify(r), ...l.slice(2)];
        }),
      /:3 \(seq 3\): edited: seq 3 does not link to seq 2/,
    ],
    ['a removed record', (files) => editLines(files[1], (l) => [l[0], ...l.slice(2)]), /:2 \(seq \d+\): removed: seq \d+ missing before seq \d+/],
    ['an inserted record', (files) => editLines(files[0], (l) => [l[0], l[1], l[1], ...l.slice(2)]), /:3 \(seq 2\): inserted: seq 2 appears twice \(also at audit-000000000001-\d{8}T\d{6}Z\.jsonl:2\)/],
    ['reordered records', (files) => editLines(files[0], (l) => [l[1], l[0], ...l.slice(2)]), /:2 \(seq 1\): reordered: seq 1 comes after seq 2/],
    ['a removed file', (files) => writeFileSync(files[1], ''), /removed: seq \d+(-\d+)? missing before seq/],
  ];

  test.each(tamperings)('verify catches %s and says where', async (_name, tamper, where) => {
    tamper(listAuditFiles(dir));
    const res = await cli(['verify', '--dir', dir]);
    expect(res.code).toBe(1);
    expect(res.out).toMatch(where);
    expect(res.out).toMatch(/FAILED: \d+ problem/);
  });

  test('verify --after: a log whose older files were archived continues from their last record', async () => {
    // The runbook: move old rotated files out, verify them there (it prints their last record as
    // --after SEQ:HASH), then verify what is left from that record on.
    const files = listAuditFiles(dir);
    expect(files.length).toBeGreaterThanOrEqual(3);
    const archive = mkdtempSync(path.join(tmpdir(), 'sg-audit-archive-'));
    for (const file of files.slice(0, 2)) renameSync(file, path.join(archive, path.basename(file)));
    const archived = await cli(['verify', '--dir', archive]);
    expect(archived.code).toBe(0);
    const anchor = /\(--after (\d+:\S+)\)/.exec(archived.out)![1];

    const alone = await cli(['verify', '--dir', dir]);
    expect(alone.code).toBe(1);
    expect(alone.out).toMatch(/truncated_start: the log starts at seq \d+, not at seq 1: .*--after SEQ:HASH/);

    const continued = await cli(['verify', '--dir', dir, '--after', anchor]);
    expect(continued.code).toBe(0);
    expect(continued.out).toMatch(/^continues from the archived part's last record, seq \d+\nok: \d+ records/);

    const [seq, hash] = [Number(anchor.split(':')[0]), anchor.slice(anchor.indexOf(':') + 1)];
    const wrongHash = await cli(['verify', '--dir', dir, '--after', `${seq}:${hash.slice(0, -4)}0000`]);
    expect(wrongHash.code).toBe(1);
    expect(wrongHash.out).toMatch(/edited: seq \d+ does not link to the archived part's last hash/);
    // A record of the live part removed right after the archive boundary.
    const earlier = await cli(['verify', '--dir', dir, '--after', `${seq - 1}:${hash}`]);
    expect(earlier.code).toBe(1);
    expect(earlier.out).toMatch(/truncated_start: .*records after the archived part were removed/);
    expect((await cli(['verify', '--dir', dir, '--after', 'nonsense'])).code).toBe(2);
  });
});
