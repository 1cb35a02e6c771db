import { mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { listAuditFiles } from '../../../gateway/audit/auditFiles';
import { generateSigningKeyPair, loadSigningKey } from '../../../gateway/audit/signingKey';
import { runAudit } from '../../../gateway/cli/auditCommand';
import { runReview } from '../../../gateway/cli/reviewCommand';
import { GatewayConfig } from '../../../gateway/config';
import { parseAnchor } from '../../../gateway/audit/chainVerifier';
import { startReviewMount } from '../../../gateway/review/reviewMount';
import { startReviewServer } from '../../../gateway/review/reviewServer';
import { writeFixtureLog } from '../../support/auditFixture';

/**
 * A log whose older files were archived and removed, as the deploy runbook tells operators to do
 * when the audit volume fills: the review page checks it from the archived part's last record that
 * `audit verify --dir ARCHIVE` printed (`--after SEQ:HASH`, `review.after`), as `audit verify
 * --after` does, instead of flagging its start as truncated forever. A wrong anchor still fails.
 */
interface Archived {
  dir: string;
  /** What `audit verify --dir ARCHIVE` printed as `--after SEQ:HASH`. */
  anchor: string;
  publicKeyFile: string;
}

async function archivedLog(): Promise<Archived> {
  const keyDir = mkdtempSync(path.join(tmpdir(), 'sg-review-archived-keys-'));
  const pair = generateSigningKeyPair();
  writeFileSync(path.join(keyDir, 'k.pem'), pair.privatePem);
  writeFileSync(path.join(keyDir, 'k.pub.pem'), pair.publicPem);
  const dir = await writeFixtureLog({ signer: { key: loadSigningKey(path.join(keyDir, 'k.pem')), everyRecords: 5, everySeconds: 3600 }, maxFileBytes: 4096 });
  const files = listAuditFiles(dir);
  expect(files.length).toBeGreaterThan(2);
  const archive = mkdtempSync(path.join(tmpdir(), 'sg-review-archive-'));
  renameSync(files[0], path.join(archive, path.basename(files[0])));
  const out: string[] = [];
  expect(await runAudit(['verify', '--dir', archive], { out: (t) => out.push(t), err: (t) => out.push(t), env: {} })).toBe(0);
  const anchor = /\(--after (\d+:\S+)\)/.exec(out.join(''))?.[1];
  if (!anchor) throw new Error(`audit verify printed no --after: ${out.join('')}`);
  return { dir, anchor, publicKeyFile: path.join(keyDir, 'k.pub.pem') };
}

const ADMIN = 'review-admin-key-archived-0123456789';

/** The page's banners, read through the real server over `dir` (its index kept between calls, as a restart would). */
async function reviewPage(log: Archived, after: string | undefined, target = ''): Promise<string> {
  const review = await startReviewServer({ auditDir: log.dir, host: '127.0.0.1', port: 0, adminKey: ADMIN, publicKeyFiles: [log.publicKeyFile], after: after === undefined ? undefined : parseAnchor(after), log: () => undefined });
  try {
    const res = await fetch(new URL(target, review.url), { headers: { authorization: `Bearer ${ADMIN}` } });
    expect(res.status).toBe(200);
    return await res.text();
  } finally {
    await review.close();
  }
}

const chainBanner = (page: string) => /<div class="banner (?:ok|bad)"[^>]* data-chain="[a-z]+">.*?<\/div>/s.exec(page)?.[0] ?? '';

describe('review page over a log whose older files were archived', () => {
  let log: Archived;
  beforeAll(async () => {
    log = await archivedLog();
  });

  test('without the anchor its start is reported truncated; with the anchor verify printed it is intact, signatures too', async () => {
    const without = await reviewPage(log, undefined);
    expect(without).toMatch(/data-chain="broken"/);
    expect(chainBanner(without)).toMatch(/1 problem\(s\).*truncated_start: the log starts at seq \d+, not at seq 1/s);

    // The same index, the process started again with the anchor: checked again from the start.
    const withAnchor = await reviewPage(log, log.anchor);
    expect(withAnchor).toMatch(/data-chain="intact"/);
    expect(chainBanner(withAnchor)).toContain(`continuing from the archived part&#39;s last record (seq ${log.anchor.split(':')[0]}, --after)`);
    expect(withAnchor).toMatch(/data-signed="valid"/);
    expect(await reviewPage(log, log.anchor, 'chain')).toContain('No problem');
  });

  test('an anchor the log does not continue from is still a broken chain', async () => {
    const [seq, hash] = log.anchor.split(':');
    const wrongHash = await reviewPage(log, `${seq}:${hash.slice(0, -4)}0000`);
    expect(wrongHash).toMatch(/data-chain="broken"/);
    expect(chainBanner(wrongHash)).toMatch(/edited: seq \d+ does not link to the archived part&#39;s last hash/);
    // A record of the live part removed right after the archive: the log starts one later than the anchor says.
    const earlier = await reviewPage(log, `${Number(seq) - 1}:${hash}`);
    expect(earlier).toMatch(/data-chain="broken"/);
    expect(chainBanner(earlier)).toMatch(/truncated_start: .*records after the archived part were removed/);
  });

  test('safety-gateway review --after SEQ:HASH (or review.after) serves it intact; anything else is a usage error', async () => {
    const page = async (args: string[]): Promise<{ code: number; text: string; err: string }> => {
      let text = '';
      const err: string[] = [];
      const code = await runReview(['--audit-dir', log.dir, '--port', '0', ...args], {
        err: (t) => err.push(t),
        env: { SAFETY_REVIEW_ADMIN_KEY: ADMIN },
        until: async (running) => {
          text = await (await fetch(running.url, { headers: { authorization: `Bearer ${ADMIN}` } })).text();
        },
      });
      return { code, text, err: err.join('') };
    };
    const flag = await page(['--after', log.anchor]);
    expect(flag.code).toBe(0);
    expect(flag.text).toMatch(/data-chain="intact"/);
    expect(flag.err).toMatch(/must continue from their last record, seq \d+ \(--after\)/);

    const config = path.join(mkdtempSync(path.join(tmpdir(), 'sg-review-archived-config-')), 'gateway.yaml');
    writeFileSync(config, `review:\n  after: "${log.anchor}"\n`);
    const fromConfig = await page(['--config', config]);
    expect(fromConfig.code).toBe(0);
    expect(fromConfig.text).toMatch(/data-chain="intact"/);

    // The gateway's config with its signing key: the standalone page checks checkpoints with its public half, as /review does.
    writeFileSync(config, `audit:\n  signing_key_file: ${path.join(path.dirname(log.publicKeyFile), 'k.pem')}\nreview:\n  after: "${log.anchor}"\n`);
    const signed = await page(['--config', config]);
    expect(signed.code).toBe(0);
    expect(signed.err).toContain('checking checkpoints with the public half of audit.signing_key_file');
    expect(signed.err).not.toContain('no public key given');
    // A reviewer on another host or user, who cannot read the gateway's private key: the page still serves.
    writeFileSync(config, `audit:\n  signing_key_file: ${path.join(path.dirname(log.publicKeyFile), 'missing.pem')}\nreview:\n  after: "${log.anchor}"\n`);
    const unreadable = await page(['--config', config]);
    expect(unreadable.code).toBe(0);
    expect(unreadable.text).toMatch(/data-chain="intact"/);
    expect(unreadable.err).toMatch(/audit\.signing_key_file is not readable here/);

    const bad = await page(['--after', 'nonsense']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--after must be SEQ:HASH/);
    writeFileSync(config, 'review:\n  after: nonsense\n');
    const badConfig = await page(['--config', config]);
    expect(badConfig.code).toBe(2);
    expect(badConfig.err).toMatch(/review\.after: must be SEQ:HASH/);
  });

  test('/review on the gateway takes review.after too', async () => {
    const at = (after: string | undefined) => GatewayConfig.parse({ port: 0, host: '127.0.0.1', audit: { dir: log.dir }, review: { enabled: true, ...(after ? { after } : {}) } });
    for (const [after, problems] of [[undefined, 1], [log.anchor, 0]] as const) {
      const service = startReviewMount(at(after), () => undefined);
      try {
        expect(await service.index.catchUp(30_000)).toBe(true);
        expect(service.index.chainStatus().problems).toBe(problems);
      } finally {
        service.close();
      }
    }
  });
});
