import { createHash } from 'node:crypto';
import http from 'node:http';
import Database from 'better-sqlite3';
import { appendFileSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { toAuditEntry } from '../../../gateway/audit/auditEntry';
import { listAuditFiles } from '../../../gateway/audit/auditFiles';
import { AuditLog } from '../../../gateway/audit/auditLog';
import { recordHash } from '../../../gateway/audit/hashChain';
import { generateSigningKeyPair, loadSigningKey } from '../../../gateway/audit/signingKey';
import { startReviewServer, type RunningReview } from '../../../gateway/review/reviewServer';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { captureContent } from '../../../gateway/telemetry/contentCapture';
import { SECRET_PROMPT, writeFixtureLog } from '../../support/auditFixture';
import { requestRecord } from '../../support/requestRecords';

/**
 * `safety-gateway review` as a real server on a loopback port over a real audit log and a real
 * SQLite index: filters, detail, exports, access, a log that grows, is edited, and is signed.
 */
const ADMIN = 'review-admin-key-0123456789abcdef';
const auth = { authorization: `Bearer ${ADMIN}` };

async function get(url: string, headers: Record<string, string> = auth): Promise<{ status: number; text: string; headers: Headers }> {
  const res = await fetch(url, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
}

const count = (page: string) => Number(/id="result-count">(\d+) matching/.exec(page)?.[1] ?? 'NaN');

describe('review server over a real audit log', () => {
  let dir: string;
  let review: RunningReview;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = await writeFixtureLog();
    review = await startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, adminKey: ADMIN, publicKeyFiles: [], log: (l) => logs.push(l) });
  });
  afterAll(async () => review?.close());

  test('the admin key is required (Basic password or Bearer); an app key or none gets 401, never data', async () => {
    const none = await get(review.url, {});
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Basic realm="safety-gateway audit review"/);
    expect(none.text).not.toContain('req_fixture');
    expect((await get(`${review.url}export.jsonl`, { authorization: 'Bearer sk-sg-some-app-key-000000000000' })).status).toBe(401);
    const basic = await get(review.url, { authorization: `Basic ${Buffer.from(`alice:${ADMIN}`).toString('base64')}` });
    expect(basic.status).toBe(200);
    expect(basic.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(count(basic.text)).toBe(29);
  });

  test('filters narrow the list: app + category + action + time (a reviewer’s question)', async () => {
    // Which requests from app tools were blocked for S2 on 2026-12-01?
    const page = await get(`${review.url}?app=tools&category=S2&action=block&since=2026-12-01&until=2026-12-02`);
    expect(page.status).toBe(200);
    expect(count(page.text)).toBe(1);
    expect(page.text).toContain('req_fixture_00');
    expect(count((await get(`${review.url}?kind=rate_limited`)).text)).toBe(1);
    expect(count((await get(`${review.url}?mode=shadow`)).text)).toBe(1);
    expect(count((await get(`${review.url}?verdict=error`)).text)).toBe(1);
    expect(count((await get(`${review.url}?request_id=client-abc-5`)).text)).toBe(1);
    expect(count((await get(`${review.url}?trace_id=4bf92f3577b34da6a3ce929d0e0e4736`)).text)).toBe(1);
    expect(count((await get(`${review.url}?key_id=key_shop&kind=decision`)).text)).toBe(12);
    expect(count((await get(`${review.url}?policy_id=fixture&policy_version=abc123`)).text)).toBe(27);
  });

  test('hostile filter values: no SQL injection, no markup, a clear 400 for bad ones', async () => {
    const injection = await get(`${review.url}?app=${encodeURIComponent("x' OR '1'='1")}`);
    expect(injection.status).toBe(200);
    expect(count(injection.text)).toBe(0);
    const markup = await get(`${review.url}?request_id=${encodeURIComponent('"><script>alert(1)</script>')}`);
    expect(markup.text).not.toContain('<script>alert(1)');
    const bad = await get(`${review.url}?since=last+tuesday&action=nuke`);
    expect(bad.status).toBe(400);
    expect(bad.text).toMatch(/These filters cannot be applied/);
    expect(bad.text).not.toMatch(/\n\s+at /);
  });

  test('a decision in detail: verdicts, window offsets, timings; content only as captured', async () => {
    const list = await get(`${review.url}?request_id=req_fixture_00`);
    const href = /href="(\/review\/record\?[^"]+)"/.exec(list.text)![1].replace(/&amp;/g, '&');
    const detail = await get(new URL(href, review.url).toString());
    expect(detail.status).toBe(200);
    expect(detail.text).toContain('S2 Non-Violent Crimes');
    expect(detail.text).toContain('messages[0].content 12-96');
    expect(detail.text).toContain('Whole request until recorded');
    expect(detail.text).toMatch(/hmac-sha256:[0-9a-f]{64}/);
    expect(detail.text).not.toContain(SECRET_PROMPT);
    expect((await get(`${review.url}record?file=..%2F..%2Fetc%2Fpasswd&line=1`)).status).toBe(400);
    expect((await get(`${review.url}record?file=audit-000000000001-20260101T000000Z.jsonl&line=1`)).status).toBe(404);
  });

  test('exports: JSONL is the log lines themselves (hashes verify), CSV the flat columns; both filtered', async () => {
    const jsonl = await get(`${review.url}export.jsonl?app=shop&action=error`);
    expect(jsonl.headers.get('content-disposition')).toMatch(/attachment; filename="audit-export-.*\.jsonl"/);
    const records = jsonl.text.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(records.map((r) => r.request_id)).toEqual(['req_fixture_fault']);
    expect(recordHash(records[0])).toBe(records[0].hash);
    const csv = await get(`${review.url}export.csv?category=S1`);
    const lines = csv.text.trim().split('\r\n');
    expect(lines[0]).toMatch(/^seq,received_at,kind,request_id/);
    expect(lines.length - 1).toBe(count((await get(`${review.url}?category=S1`)).text));
    expect(csv.text).not.toContain(SECRET_PROMPT);
  });

  test('read-only: POST is 405; charts and chain pages render', async () => {
    const post = await fetch(review.url, { method: 'POST', headers: auth });
    expect(post.status).toBe(405);
    const charts = await get(`${review.url}charts?app=shop`);
    expect(charts.text).toContain('Blocks over time, by category');
    expect(charts.text).toMatch(/<svg viewBox/);
    expect((await get(`${review.url}chain`)).text).toContain('No problem');
  });

  test('the index follows the log: appended records appear; an edited record is flagged, linked, and shown as changed', async () => {
    const files = listAuditFiles(dir);
    const last = files[files.length - 1];
    const lines = readFileSync(last, 'utf8').trim().split('\n');
    const head = JSON.parse(lines[lines.length - 1]) as Record<string, unknown>;
    const next: Record<string, unknown> = { seq: (head.seq as number) + 1, ts: new Date().toISOString(), v: 1, kind: 'unauthenticated', request_id: 'req_appended', received_at: '2026-12-03T00:00:00.000Z', method: 'POST', route: '/v1/completions', status: 401, reason: 'missing_key', prev: head.hash };
    next.hash = recordHash(next);
    appendFileSync(last, `${JSON.stringify(next)}\n`);
    expect(count((await get(`${review.url}?request_id=req_appended`)).text)).toBe(1);

    // An edit in place of an older file: the action of req_fixture_00 turned to allow.
    const first = files[0];
    writeFileSync(first, readFileSync(first, 'utf8').replace('"request_id":"req_fixture_00","received_at":"2026-12-01T00:00:00.000Z","app":"tools","key_id":"key_tools","route":"/v1/chat/completions","model":"llama-3.1-405b","stream":false,"policy":{"id":"fixture","version":"abc123"},"action":"block"', '"request_id":"req_fixture_00","received_at":"2026-12-01T00:00:00.000Z","app":"tools","key_id":"key_tools","route":"/v1/chat/completions","model":"llama-3.1-405b","stream":false,"policy":{"id":"fixture","version":"abc123"},"action":"allow"'));
    const page = await get(review.url);
    expect(page.text).toMatch(/data-chain="broken"/);
    expect(page.text).toContain(`${path.basename(first)}:1`);
    const chain = await get(`${review.url}chain`);
    expect(chain.text).toMatch(/edited/);
  });
});

describe('review server: a record longer than the index read buffer', () => {
  test('a 5 MiB captured prompt is indexed, and so is every record after it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-review-long-'));
    const log = new AuditLog({ dir, fsync: 'interval', fsyncIntervalMs: 1000, maxFileBytes: 64 << 20, maxFileAgeMs: 3600_000 });
    const at = new Date(Date.UTC(2026, 11, 3, 9)).toISOString();
    const big = requestRecord({ requestId: 'req_long_prompt', receivedAt: at, app: 'tools', action: 'allow', outputs: [], content: { input: ['x'.repeat(5 << 20)], output: [] } });
    const after = requestRecord({ requestId: 'req_after_long', receivedAt: at, app: 'tools', action: 'allow', outputs: [] });
    await log.append(toAuditEntry(big, captureContent(big.content, 'full', 'salt'), 'salt'));
    await log.append(toAuditEntry(after, captureContent(after.content, 'none', 'salt'), 'salt'));
    await log.close();
    const review = await startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, publicKeyFiles: [], log: () => undefined });
    try {
      for (const id of ['req_long_prompt', 'req_after_long']) {
        const page = await get(`${review.url}?request_id=${id}`, {});
        expect([page.status, count(page.text)]).toEqual([200, 1]);
      }
      // the export writes the long record in its own chunk and the lines stay exactly as logged
      const exported = await get(`${review.url}export.jsonl`, {});
      const logged = readFileSync(listAuditFiles(dir)[0], 'utf8');
      expect(exported.text).toBe(logged);
    } finally {
      await review.close();
    }
  });
});

describe('review server: access rules and signatures', () => {
  test('without an admin key it refuses a non-loopback address, and says it is loopback only', async () => {
    const dir = await writeFixtureLog();
    await expect(startReviewServer({ auditDir: dir, host: '0.0.0.0', port: 0, publicKeyFiles: [], log: () => undefined })).rejects.toThrow(/loopback only/);
    const logs: string[] = [];
    const open = await startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, publicKeyFiles: [], log: (l) => logs.push(l) });
    try {
      const page = await get(open.url, {});
      expect(page.status).toBe(200);
      expect(page.text).toContain('served to this machine (loopback) only');
      expect(logs.join('\n')).toMatch(/no admin key: loopback only/);
      // a page on another site whose name was re-pointed at 127.0.0.1 (DNS rebinding), or a proxy on this machine: refused
      const status = (headers: Record<string, string>) =>
        new Promise<number>((resolve, reject) => {
          const req = http.get(`${open.url}export.jsonl`, { headers }, (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on('error', reject);
        });
      const port = new URL(open.url).port;
      expect(await status({ host: `localhost:${port}` })).toBe(200);
      expect(await status({ host: `rebound.evil.example:${port}` })).toBe(403);
      expect(await status({ host: `127.0.0.1:${port}`, 'x-forwarded-for': '203.0.113.9' })).toBe(403);
      expect(await status({ host: `127.0.0.1:${port}`, 'sec-fetch-site': 'cross-site' })).toBe(403);
    } finally {
      await open.close();
    }
  });

  test('signed checkpoints: valid with the public key; a whole-chain rewrite fails them on the page', async () => {
    const { dir, keyDir } = await signedFixtureLog();
    const start = () => startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, publicKeyFiles: [path.join(keyDir, 'k.pub.pem')], log: () => undefined, rebuild: true });
    let review = await start();
    try {
      const page = await get(review.url, {});
      expect(page.text).toMatch(/data-signed="valid"/);
      expect(/data-signed="valid">.*?<\/p>/.exec(page.text)?.[0]).toMatch(/Signed checkpoints valid:<\/strong> ([3-9]) of \1\. Last: seq \d+ \(shutdown/);
    } finally {
      await review.close();
    }
    // Rewrite every file consistently (action changed, every hash recomputed): the chain check passes, signatures fail.
    rewriteChain(dir);
    review = await start();
    try {
      const page = await get(review.url, {});
      expect(page.text).toMatch(/data-chain="intact"/);
      expect(page.text).toMatch(/data-signed="failed"/);
      expect(page.text).toMatch(/the records up to there were rewritten/);
    } finally {
      await review.close();
    }
  });

  test('a rewrite that also fixes up the index beside the log (its prefix hashes and times) is caught at the next start', async () => {
    const { dir, keyDir } = await signedFixtureLog();
    const start = () => startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, publicKeyFiles: [path.join(keyDir, 'k.pub.pem')], log: () => undefined });
    let review = await start();
    try {
      expect((await get(review.url, {})).text).toMatch(/data-signed="valid"/);
    } finally {
      await review.close();
    }
    // Whoever can write the audit directory rewrites the chain, then the index's own record of it.
    const hashes = rewriteChain(dir);
    const db = new Database(path.join(dir, '.review-index.sqlite'));
    for (const row of db.prepare('SELECT name, indexed_bytes FROM files').all() as { name: string; indexed_bytes: number }[]) {
      const bytes = readFileSync(path.join(dir, row.name)).subarray(0, row.indexed_bytes);
      db.prepare('UPDATE files SET prefix_sha256 = ?, mtime_ms = ? WHERE name = ?').run(createHash('sha256').update(bytes).digest('hex'), statSync(path.join(dir, row.name)).mtimeMs, row.name);
    }
    for (const [seq, hash] of hashes) db.prepare('UPDATE records SET hash = ? WHERE seq = ?').run(hash, seq);
    db.close();
    review = await start();
    try {
      const page = await get(review.url, {});
      expect(page.text).toMatch(/data-signed="failed"/);
    } finally {
      await review.close();
    }
  });
});

/** A fixture log signed every 10 records, and the folder holding its key pair (k.pem, k.pub.pem). */
async function signedFixtureLog(): Promise<{ dir: string; keyDir: string }> {
  const keyDir = mkdtempSync(path.join(tmpdir(), 'sg-review-keys-'));
  const pair = generateSigningKeyPair();
  writeFileSync(path.join(keyDir, 'k.pem'), pair.privatePem);
  writeFileSync(path.join(keyDir, 'k.pub.pem'), pair.publicPem);
  const dir = await writeFixtureLog({ signer: { key: loadSigningKey(path.join(keyDir, 'k.pem')), everyRecords: 10, everySeconds: 3600 } });
  return { dir, keyDir };
}

/** Rewrites the whole chain as a writer of the directory could: one block made an allow, every hash recomputed; returns the new hashes by seq. */
function rewriteChain(dir: string): Map<number, string> {
  let prev: string | undefined;
  const hashes = new Map<number, string>();
  for (const file of listAuditFiles(dir)) {
    const out = readFileSync(file, 'utf8').trim().split('\n').map((t) => {
      const r = JSON.parse(t) as Record<string, unknown>;
      if (r.request_id === 'req_fixture_00') r.action = 'allow';
      if (prev) r.prev = prev;
      r.hash = recordHash(r);
      prev = r.hash as string;
      hashes.set(r.seq as number, r.hash as string);
      return `${JSON.stringify(r)}\n`;
    });
    writeFileSync(file, out.join(''));
  }
  return hashes;
}
