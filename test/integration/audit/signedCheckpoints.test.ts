import { mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { auditLines, listAuditFiles } from '../../../gateway/audit/auditFiles';
import { AuditLog, type AuditLogOptions } from '../../../gateway/audit/auditLog';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import type { PublicKeys } from '../../../gateway/audit/checkpoint';
import { verifyCheckpoints } from '../../../gateway/audit/checkpointVerifier';
import { recordHash } from '../../../gateway/audit/hashChain';
import { generateSigningKeyPair, loadPublicKey, loadSigningKey } from '../../../gateway/audit/signingKey';
import { runAudit } from '../../../gateway/cli/auditCommand';

/**
 * Signed checkpoints against a real audit directory: the writer signs, `audit verify --public-key`
 * checks; a whole-chain rewrite with recomputed hashes passes the unkeyed check and fails the signed one.
 */
const tmp = (p: string) => mkdtempSync(path.join(tmpdir(), p));

function keyDir(): { dir: string; privateFile: string; publicFile: string } {
  const dir = tmp('sg-keys-');
  const pair = generateSigningKeyPair();
  const privateFile = path.join(dir, 'k.pem');
  const publicFile = path.join(dir, 'k.pub.pem');
  writeFileSync(privateFile, pair.privatePem, { mode: 0o600 });
  writeFileSync(publicFile, pair.publicPem);
  return { dir, privateFile, publicFile };
}

function keysOf(publicFile: string): PublicKeys {
  const { publicKey, keyId } = loadPublicKey(publicFile);
  return new Map([[keyId, publicKey]]);
}

const entry = (i: number) => ({ kind: 'decision', request_id: `req_${i}`, app: 'app-a', action: i % 4 === 0 ? 'block' : 'allow', phases: [] });

async function writeSignedLog(dir: string, privateFile: string, count: number, extra: Partial<AuditLogOptions> = {}): Promise<void> {
  const log = new AuditLog({
    dir,
    fsync: 'always',
    fsyncIntervalMs: 100,
    maxFileBytes: 1 << 20,
    maxFileAgeMs: 3600_000,
    signer: { key: loadSigningKey(privateFile), everyRecords: 5, everySeconds: 3600 },
    ...extra,
  });
  for (let i = 0; i < count; i++) await log.append(entry(i));
  await log.close();
}

function records(dir: string): Record<string, unknown>[] {
  return [...auditLines(dir)].map((l) => JSON.parse(l.text) as Record<string, unknown>);
}

/** What an attacker with write access but no key does: edit, then re-seal every later record. */
function rewriteChain(dir: string, edit: (record: Record<string, unknown>) => void, sealed: (record: Record<string, unknown>) => void = () => undefined): void {
  let prev: string | undefined;
  for (const file of listAuditFiles(dir)) {
    const out = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((text) => {
        const record = JSON.parse(text) as Record<string, unknown>;
        edit(record);
        if (prev !== undefined) record.prev = prev;
        record.hash = recordHash(record);
        prev = record.hash as string;
        sealed(record);
        return JSON.stringify(record);
      });
    writeFileSync(file, out.map((l) => `${l}\n`).join(''));
  }
}

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runAudit(args, { out: (t) => (out += t), err: (t) => (err += t), env: {} });
  return { code, out, err };
}

describe('signed checkpoints', () => {
  test('the writer signs every N records and at shutdown; verify with the public key passes', async () => {
    const keys = keyDir();
    const dir = tmp('sg-signed-');
    await writeSignedLog(dir, keys.privateFile, 12);
    const kinds = records(dir).map((r) => r.kind);
    // 5 records, a checkpoint, 5 more, a checkpoint, 2 more, the shutdown checkpoint.
    expect(kinds.filter((k) => k === 'checkpoint')).toHaveLength(3);
    expect(kinds[5]).toBe('checkpoint');
    const last = records(dir).at(-1)!;
    expect(last).toMatchObject({ kind: 'checkpoint', reason: 'shutdown', covers: { seq: 14 } });
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true, checkpoints: 3, valid: 3, records: 12 });
    const run = await cli(['verify', '--dir', dir, '--public-key', keys.publicFile]);
    expect(run.code).toBe(0);
    expect(run.out).toMatch(/ok: 3 signed checkpoint\(s\) valid; last checkpoint seq 15 \(shutdown/);
  });

  test('a whole chain rewritten with recomputed hashes passes the unkeyed check and fails the signed one', async () => {
    const keys = keyDir();
    const dir = tmp('sg-rewrite-');
    await writeSignedLog(dir, keys.privateFile, 12);
    rewriteChain(dir, (r) => {
      if (r.request_id === 'req_0') r.action = 'allow';
    });
    expect(records(dir)[0]).toMatchObject({ request_id: 'req_0', action: 'allow' });
    expect(verifyChain(auditLines(dir))).toMatchObject({ ok: true, problems: [] });
    const signed = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(signed.ok).toBe(false);
    expect(signed.valid).toBe(0);
    expect(signed.problems[0]).toMatchObject({ kind: 'checkpoint_invalid', status: 'mismatch', seq: 6 });

    const unkeyed = await cli(['verify', '--dir', dir]);
    expect(unkeyed.code).toBe(0);
    expect(unkeyed.out).toMatch(/hash chain intact/);
    const keyed = await cli(['verify', '--dir', dir, '--public-key', keys.publicFile]);
    expect(keyed.code).toBe(1);
    expect(keyed.out).toMatch(/checkpoint_invalid: checkpoint seq 6: signs seq 5 .* the records up to there were rewritten/);
  });

  test('re-signing the rewritten heads without the key, or dropping every checkpoint, still fails', async () => {
    const keys = keyDir();
    const dir = tmp('sg-forge-');
    await writeSignedLog(dir, keys.privateFile, 12);
    // The attacker also points each checkpoint at the rewritten head: its signature no longer matches.
    const heads = new Map<number, string>();
    rewriteChain(
      dir,
      (r) => {
        if (r.request_id === 'req_1') r.action = 'block';
        if (r.kind === 'checkpoint') (r.covers as { hash: string }).hash = heads.get((r.covers as { seq: number }).seq) ?? '';
      },
      (r) => heads.set(r.seq as number, r.hash as string),
    );
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    const forged = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(forged.ok).toBe(false);
    expect(forged.problems.map((p) => p.status)).toEqual(['bad_signature', 'bad_signature', 'bad_signature']);

    const bare = tmp('sg-nocp-');
    await writeSignedLog(bare, keys.privateFile, 12);
    // Every checkpoint removed, seqs renumbered, chain re-sealed: consistent, and unsigned.
    const file = listAuditFiles(bare)[0];
    let seq = 0;
    let prev = '0'.repeat(64);
    const kept = readFileSync(file, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((t) => JSON.parse(t) as Record<string, unknown>)
      .filter((r) => r.kind !== 'checkpoint')
      .map((r) => {
        r.seq = ++seq;
        r.prev = prev;
        r.hash = recordHash(r);
        prev = r.hash as string;
        return `${JSON.stringify(r)}\n`;
      });
    writeFileSync(file, kept.join(''));
    expect(verifyChain(auditLines(bare)).ok).toBe(true);
    expect(verifyCheckpoints(auditLines(bare), keysOf(keys.publicFile)).problems).toEqual([expect.objectContaining({ kind: 'no_checkpoint' })]);
  });

  test('a log truncated after a checkpoint is reported as truncated (or a crash), not as intact', async () => {
    const keys = keyDir();
    const dir = tmp('sg-trunc-');
    // Written a day ago: a running gateway would have signed since (every hour here).
    await writeSignedLog(dir, keys.privateFile, 12, { now: () => new Date(Date.now() - 86_400_000) });
    const file = listAuditFiles(dir)[0];
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    // Cut after record seq 8 (3 records after the first checkpoint): the later checkpoints go with it.
    writeFileSync(file, lines.slice(0, 8).map((l) => `${l}\n`).join(''));
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    const report = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(report.ok).toBe(false);
    expect(report.tail).toMatchObject({ records: 2, fromSeq: 7, toSeq: 8 });
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'stale_checkpoint', seq: 6 })]);
    expect(report.problems[0].message).toMatch(/truncated after seq 6/);
    const run = await cli(['verify', '--dir', dir, '--public-key', keys.publicFile]);
    expect(run.code).toBe(1);
    expect(run.out).toMatch(/stale_checkpoint/);
  });

  test('a tail removed while the gateway was stopped, then a restart: the start checkpoint signs the shortened head, and verify and the gateway say so', async () => {
    const keys = keyDir();
    const dir = tmp('sg-trunc-restart-');
    await writeSignedLog(dir, keys.privateFile, 12);
    const reopen = async () => {
      const warnings: string[] = [];
      const log = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 5, everySeconds: 3600 }, warn: (w) => warnings.push(w) });
      expect(await log.check()).toBeUndefined();
      await log.append(entry(100));
      await log.close();
      // Its other line is the head it signed as it stopped.
      return warnings.filter((w) => /without a shutdown checkpoint/.test(w));
    };
    // A clean stop and start: nothing to note.
    expect(await reopen()).toEqual([]);
    // Nor a signing key added to a log written without one: there was no shutdown checkpoint to miss.
    const unsigned = tmp('sg-unsigned-then-signed-');
    const plain = new AuditLog({ dir: unsigned, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000 });
    for (let i = 0; i < 3; i++) await plain.append(entry(i));
    await plain.close();
    const firstSigned: string[] = [];
    const signedNow = new AuditLog({ dir: unsigned, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 5, everySeconds: 3600 }, warn: (w) => firstSigned.push(w) });
    expect(await signedNow.check()).toBeUndefined();
    await signedNow.close();
    expect(firstSigned.filter((w) => /without a shutdown checkpoint/.test(w))).toEqual([]);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile)).notes.join('\n')).not.toMatch(/restart/);
    // Cut the end off (the shutdown checkpoint and the records before it), then start again.
    const file = listAuditFiles(dir)[0];
    const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    writeFileSync(file, lines.slice(0, lines.length - 4).map((l) => `${l}\n`).join(''));
    const warnings = await reopen();
    expect(warnings).toEqual([expect.stringMatching(/without a shutdown checkpoint/)]);
    const report = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    expect(report.uncleanStarts).toMatchObject({ count: 1 });
    expect(report.notes.join('\n')).toMatch(/1 restart\(s\) followed a run that did not sign its end/);
    const run = await cli(['verify', '--dir', dir, '--public-key', keys.publicFile]);
    expect(run.out).toMatch(/did not sign its end/);
  });

  test('records after a shutdown checkpoint without a start checkpoint are not the gateway\'s; an empty log is reported', async () => {
    const keys = keyDir();
    const dir = tmp('sg-after-shutdown-');
    await writeSignedLog(dir, keys.privateFile, 3);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true, notes: [expect.stringMatching(/ends at a shutdown checkpoint/)] });
    // Append a made-up record after the shutdown checkpoint, chained and hashed as the writer would.
    const file = listAuditFiles(dir).at(-1)!;
    const last = records(dir).at(-1)!;
    const forged: Record<string, unknown> = { ...entry(99), seq: (last.seq as number) + 1, ts: new Date().toISOString(), prev: last.hash };
    forged.hash = recordHash(forged);
    writeFileSync(file, `${readFileSync(file, 'utf8')}${JSON.stringify(forged)}\n`);
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    const report = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([expect.objectContaining({ kind: 'unsigned_tail', message: expect.stringMatching(/follow the shutdown checkpoint .* without a start checkpoint/) })]);
    // A directory emptied of its logs.
    const empty = tmp('sg-empty-');
    expect(verifyCheckpoints(auditLines(empty), keysOf(keys.publicFile)).problems).toEqual([expect.objectContaining({ kind: 'no_checkpoint', message: expect.stringMatching(/the log is empty/) })]);
  });

  test('a log another gateway held at start, taken over later: its first line is the start checkpoint, after a warning about the unsigned end', async () => {
    const keys = keyDir();
    const dir = tmp('sg-takeover-');
    await writeSignedLog(dir, keys.privateFile, 3); // a run that signed its end
    // Two more records the last run never signed (as a crash leaves them: no shutdown checkpoint after them).
    const unsigned = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000 });
    await unsigned.append(entry(10));
    await unsigned.append(entry(11));
    await unsigned.close();
    const before = records(dir).length;
    const warnings: string[] = [];
    const next = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 1000, everySeconds: 3600 }, warn: (m) => warnings.push(m) });
    // At start another container holds the directory (pid 1 on another host) and touches its lock: nothing is written.
    const lock = path.join(dir, '.lock');
    writeFileSync(lock, `${JSON.stringify({ host: 'other-pod', pid: 1, token: 'theirs' })}\n`);
    expect(await next.check()).toMatch(/in use by/);
    expect(records(dir)).toHaveLength(before);
    // Its holder stopped touching it: the next record takes the directory over, and signs the start first.
    const old = new Date(Date.now() - 5 * 60_000);
    utimesSync(lock, old, old);
    await next.append(entry(12));
    expect(records(dir).slice(before)).toEqual([
      expect.objectContaining({ kind: 'checkpoint', reason: 'start', covers: expect.objectContaining({ seq: before }) }),
      expect.objectContaining({ kind: 'decision', request_id: 'req_12' }),
    ]);
    expect(warnings.join('\n')).toMatch(new RegExp(`the log ends at seq ${before} without a shutdown checkpoint`));
    await next.close();
    // The unsigned records are signed by the start checkpoint (verify counts the restart); the new run ends signed.
    expect(records(dir).map((r) => r.reason).filter(Boolean)).toEqual(['shutdown', 'start', 'shutdown']);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true });
  });

  test('two gateways in one process sharing the log: one start checkpoint, however their checks and records interleave', async () => {
    const keys = keyDir();
    const dir = tmp('sg-shared-');
    const options = { dir, fsync: 'always' as const, fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 1000, everySeconds: 3600 } };
    const a = AuditLog.shared(options);
    const b = AuditLog.shared(options);
    try {
      // A's check and first record queued, B's check while they are in flight, then a record each.
      await Promise.all([a.check(), a.append(entry(1)), b.check(), b.append(entry(2))]);
      expect(await b.check()).toBeUndefined();
      await a.append(entry(3));
    } finally {
      await a.release();
      await b.release();
    }
    expect(records(dir).map((r) => r.reason ?? r.request_id)).toEqual(['start', 'req_1', 'req_2', 'req_3', 'shutdown']);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true });
  });

  test('a new log is signed as it opens: its first records verify as a running gateway\'s tail, not as an unsigned log', async () => {
    const keys = keyDir();
    const dir = tmp('sg-new-');
    const log = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 1000, everySeconds: 60 } });
    expect(await log.check()).toBeUndefined();
    expect(records(dir)).toEqual([expect.objectContaining({ seq: 1, kind: 'checkpoint', reason: 'start', covers: { seq: 0, hash: '0'.repeat(64) } })]);
    // An empty log of a running gateway: one valid checkpoint, nothing unsigned.
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true, valid: 1, problems: [] });
    await log.append(entry(1));
    const running = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(running).toMatchObject({ ok: true, valid: 1, tail: { records: 1 } });
    expect(running.notes[0]).toMatch(/1 record\(s\) \(seq 2-2\) after the last checkpoint are not signed yet/);
    await log.close();
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile))).toMatchObject({ ok: true, valid: 2 });
    // The signature over the empty chain holds only as the log's first line: moved after another record, it is a mismatch.
    const [start, first] = readFileSync(listAuditFiles(dir)[0], 'utf8').split('\n');
    const other = tmp('sg-moved-');
    writeFileSync(path.join(other, path.basename(listAuditFiles(dir)[0])), `${first}\n${start}\n`);
    expect(verifyCheckpoints(auditLines(other), keysOf(keys.publicFile)).invalid).toEqual([expect.objectContaining({ status: 'mismatch' })]);
  });

  test('the unsigned tail of a running gateway is a note, not a failure; more than N unsigned records is', async () => {
    const keys = keyDir();
    const dir = tmp('sg-tail-');
    const log = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 5, everySeconds: 3600 } });
    for (let i = 0; i < 7; i++) await log.append(entry(i));
    const running = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(running).toMatchObject({ ok: true, tail: { records: 2 } });
    expect(running.notes[0]).toMatch(/2 record\(s\) \(seq 7-8\) after the last checkpoint are not signed yet/);
    await log.close();

    // Records appended by someone without the key, past the writer's N.
    const file = listAuditFiles(dir)[0];
    let last = records(dir).at(-1)!;
    let text = readFileSync(file, 'utf8');
    for (let i = 0; i < 6; i++) {
      const r: Record<string, unknown> = { seq: (last.seq as number) + 1, ts: new Date().toISOString(), ...entry(100 + i), prev: last.hash };
      r.hash = recordHash(r);
      text += `${JSON.stringify(r)}\n`;
      last = r;
    }
    writeFileSync(file, text);
    const appended = verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile));
    expect(appended.problems).toEqual([expect.objectContaining({ kind: 'unsigned_tail' })]);
  });

  test('a checkpoint signed by a key the verifier does not trust is reported', async () => {
    const keys = keyDir();
    const other = keyDir();
    const dir = tmp('sg-otherkey-');
    await writeSignedLog(dir, keys.privateFile, 6);
    const report = verifyCheckpoints(auditLines(dir), keysOf(other.publicFile));
    expect(report.ok).toBe(false);
    expect(report.problems[0]).toMatchObject({ kind: 'checkpoint_invalid', status: 'unknown_key' });
  });

  test('rotation ends each file on a checkpoint; a restart signs what it found first', async () => {
    const keys = keyDir();
    const dir = tmp('sg-rotate-');
    await writeSignedLog(dir, keys.privateFile, 40, { maxFileBytes: 4096 });
    const files = listAuditFiles(dir);
    expect(files.length).toBeGreaterThan(1);
    for (const f of files) {
      const lines = readFileSync(f, 'utf8').split('\n').filter(Boolean);
      expect(JSON.parse(lines.at(-1)!).kind).toBe('checkpoint');
    }
    const again = new AuditLog({ dir, fsync: 'always', fsyncIntervalMs: 100, maxFileBytes: 1 << 20, maxFileAgeMs: 3600_000, signer: { key: loadSigningKey(keys.privateFile), everyRecords: 5, everySeconds: 3600 } });
    expect(await again.check()).toBeUndefined();
    await again.close();
    const tail = records(dir).slice(-2);
    expect(tail.map((r) => r.reason)).toEqual(['start', 'shutdown']);
    expect(verifyCheckpoints(auditLines(dir), keysOf(keys.publicFile)).ok).toBe(true);
    expect(verifyChain(auditLines(dir)).ok).toBe(true);
  });

  test('keygen writes a key pair once (private key mode 600) and never overwrites it', async () => {
    const out = path.join(tmp('sg-keygen-'), 'keys');
    const first = await cli(['keygen', '--out', out]);
    expect(first.code).toBe(0);
    expect(first.out).toMatch(/^key ed25519:[0-9a-f]{16}\n/);
    const privateFile = path.join(out, 'audit-signing-key.pem');
    expect(statSync(privateFile).mode & 0o777).toBe(0o600);
    expect(loadSigningKey(privateFile).keyId).toBe(loadPublicKey(path.join(out, 'audit-signing-key.pub.pem')).keyId);
    const second = await cli(['keygen', '--out', out]);
    expect(second.code).toBe(1);
    expect(second.err).toMatch(/exists; a key is never overwritten/);
    expect((await cli(['keygen'])).code).toBe(2);
  });

  test('a bad public key file is a clear error (exit 2), not a stack trace', async () => {
    const dir = tmp('sg-badkey-');
    writeFileSync(path.join(dir, 'not-a-key.pem'), 'hello');
    await writeSignedLog(dir, keyDir().privateFile, 2);
    const run = await cli(['verify', '--dir', dir, '--public-key', path.join(dir, 'not-a-key.pem')]);
    expect(run.code).toBe(2);
    expect(run.err).toMatch(/not-a-key.pem is not a PEM public key/);
    expect(run.err).not.toMatch(/\n\s+at /);
  });

  test('verify --after --public-key: the signed checkpoints of a log whose older part was archived still verify, one first in the live part included', async () => {
    const keys = keyDir();
    const dir = tmp('sg-signed-archived-');
    await writeSignedLog(dir, keys.privateFile, 12, { maxFileBytes: 600 });
    // Archive the records of the first file up to its closing checkpoint, so the live part starts
    // with a checkpoint that covers a record no longer here (as a start checkpoint does after a crash).
    const [first] = listAuditFiles(dir);
    const lines = readFileSync(first!, 'utf8').split('\n').filter(Boolean);
    const checkpointAt = lines.findIndex((l) => (JSON.parse(l) as { kind: string }).kind === 'checkpoint');
    expect(checkpointAt).toBeGreaterThan(0);
    const archive = tmp('sg-signed-archive-');
    writeFileSync(path.join(archive, path.basename(first!)), lines.slice(0, checkpointAt).map((l) => `${l}\n`).join(''));
    writeFileSync(first!, lines.slice(checkpointAt).map((l) => `${l}\n`).join(''));
    const archived = await cli(['verify', '--dir', archive]);
    const anchor = /\(--after (\d+:\S+)\)/.exec(archived.out)![1]!;
    const run = await cli(['verify', '--dir', dir, '--after', anchor, '--public-key', keys.publicFile]);
    expect(run.out).not.toMatch(/FAILED/);
    expect(run.code).toBe(0);
  });
});
