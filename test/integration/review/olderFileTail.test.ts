import { appendFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { listAuditFiles } from '../../../gateway/audit/auditFiles';
import { toRejectionEntry } from '../../../gateway/audit/rejectionEntry';
import { AuditIndex } from '../../../gateway/review/auditIndex';

/**
 * Bytes after the last newline of a file that is not the last one are never completed (the log
 * writes to the newest file only): the index reads them as that file's final line, so the chain
 * check reports them, as `audit verify` does, and the file is not indexed again at every refresh.
 */
test('a tail without a newline in an older file is a broken record, indexed once', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-tail-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 2_000, maxFileAgeMs: 3600_000 });
  for (let i = 0; i < 30; i++) {
    await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: `req_${i}`, receivedAt: new Date(Date.UTC(2026, 11, 3, 9, 0, i)).toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'missing_key', client: '203.0.113.9' }));
  }
  await log.close();
  const files = listAuditFiles(dir);
  expect(files.length).toBeGreaterThan(1);
  appendFileSync(files[0], 'x');

  const logged: string[] = [];
  const index = new AuditIndex({ auditDir: dir, publicKeys: new Map(), log: (line) => logged.push(line) });
  try {
    expect(await index.catchUp(60_000)).toBe(true);
    expect(index.chainStatus().problems).toBeGreaterThan(0);
    expect(index.chainStatus().first).toMatchObject({ file: path.basename(files[0]) });
    for (let i = 0; i < 3; i++) expect(await index.catchUp(60_000)).toBe(true);
    expect(logged.filter((l) => /changed since it was indexed/.test(l))).toHaveLength(0);
  } finally {
    index.close();
  }
}, 60_000);

test('a new process over an untouched log checks it again and re-indexes nothing', async () => {
  const { writeFixtureLog } = await import('../../support/auditFixture');
  const { generateSigningKeyPair, loadSigningKey } = await import('../../../gateway/audit/signingKey');
  const { writeFileSync } = await import('node:fs');
  const keyDir = mkdtempSync(path.join(tmpdir(), 'sg-keys-'));
  const pair = generateSigningKeyPair();
  writeFileSync(path.join(keyDir, 'k.pem'), pair.privatePem);
  const dir = await writeFixtureLog({ signer: { key: loadSigningKey(path.join(keyDir, 'k.pem')), everyRecords: 5, everySeconds: 3600 }, maxFileBytes: 4096 });
  const signing = loadSigningKey(path.join(keyDir, 'k.pem'));
  const keys = new Map([[signing.keyId, signing.publicKey]]);
  const first = new AuditIndex({ auditDir: dir, publicKeys: keys });
  expect(await first.catchUp(60_000)).toBe(true);
  const before = first.chainStatus();
  first.close();
  const logged: string[] = [];
  const again = new AuditIndex({ auditDir: dir, publicKeys: keys, log: (l) => logged.push(l) });
  try {
    expect(await again.catchUp(60_000)).toBe(true);
    expect(logged.filter((l) => /indexing again/.test(l))).toEqual([]);
    expect(again.chainStatus()).toEqual(before);
  } finally {
    again.close();
  }
}, 60_000);

/**
 * The newest file's bytes after its last newline wait for their newline (a record being written);
 * left unchanged past TORN_AFTER_MS they are a cut-off record: the page says so, as `audit verify`
 * reports it corrupt, instead of showing an intact chain over it.
 */
test("a tail without a newline in the newest file, left unchanged, is shown as a cut-off record; a fresh one is not", async () => {
  const { utimesSync } = await import('node:fs');
  const { statusBanners, TORN_AFTER_MS } = await import('../../../gateway/review/layout');
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-torn-'));
  const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000 });
  for (let i = 0; i < 5; i++) {
    await log.append(toRejectionEntry({ kind: 'unauthenticated', requestId: `req_${i}`, receivedAt: new Date(Date.UTC(2026, 11, 3, 9, 0, i)).toISOString(), method: 'POST', route: '/v1/chat/completions', status: 401, reason: 'missing_key', client: '203.0.113.9' }));
  }
  await log.close();
  const newest = listAuditFiles(dir).at(-1)!;
  appendFileSync(newest, '{"seq":6,"kind":"decis');
  const banners = (index: AuditIndex) => statusBanners({ base: '/review', access: 'key', chain: index.chainStatus(), index: index.status() }).toString();
  const fresh = new AuditIndex({ auditDir: dir, publicKeys: new Map() });
  try {
    expect(await fresh.catchUp(60_000)).toBe(true);
    expect(fresh.chainStatus().unfinished).toMatchObject({ file: path.basename(newest), bytes: 22 });
    expect(banners(fresh)).not.toContain('torn-tail');
  } finally {
    fresh.close();
  }
  // Dated ahead of the clock (by hand): its age never grows, and it is no write under way either.
  const ahead = (Date.now() + 3600_000) / 1000;
  utimesSync(newest, ahead, ahead);
  const future = new AuditIndex({ auditDir: dir, publicKeys: new Map() });
  try {
    expect(await future.catchUp(60_000)).toBe(true);
    expect(banners(future)).toMatch(/data-chain="torn-tail".*its file dated in the future/s);
  } finally {
    future.close();
  }
  const old = (Date.now() - TORN_AFTER_MS - 5_000) / 1000;
  utimesSync(newest, old, old);
  const later = new AuditIndex({ auditDir: dir, publicKeys: new Map() });
  try {
    expect(await later.catchUp(60_000)).toBe(true);
    expect(banners(later)).toMatch(/data-chain="torn-tail".*ends with 22 byte\(s\) after its last complete line/s);
    // A newline completes it: then it is a line, judged by the chain check, and the banner goes.
    appendFileSync(newest, 'x"}\n');
    expect(await later.catchUp(60_000)).toBe(true);
    expect(later.chainStatus().unfinished).toBeUndefined();
    expect(later.chainStatus().problems).toBeGreaterThan(0);
  } finally {
    later.close();
  }
});
