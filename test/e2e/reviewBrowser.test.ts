import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { listAuditFiles } from '../../gateway/audit/auditFiles';
import { generateSigningKeyPair, loadSigningKey } from '../../gateway/audit/signingKey';
import { startReviewServer, type RunningReview } from '../../gateway/review/reviewServer';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { HOSTILE_TEXT, SECRET_PROMPT, writeFixtureLog } from '../support/auditFixture';

/**
 * The review page in a real browser: Debian's chromium driven by playwright-core (never a
 * downloaded browser). A reviewer filters, opens a decision, exports, and sees a broken chain.
 * REVIEW_SCREENSHOTS=1 also saves the README's screenshots to gateway/review/screenshots/.
 */
const CHROMIUM = '/usr/bin/chromium';
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];
const ADMIN = 'browser-review-admin-key-0123456789';
const SHOTS = process.env.REVIEW_SCREENSHOTS === '1' ? path.join(__dirname, '..', '..', 'gateway', 'review', 'screenshots') : undefined;

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium) {
  // eslint-disable-next-line no-console
  console.warn(`SKIPPED: the review page's browser test needs Debian's chromium at ${CHROMIUM} (apt-get install -y chromium; .ci/run installs it)`);
}
const maybe = haveChromium ? describe : describe.skip;

maybe('review page in chromium', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let review: RunningReview;
  let broken: RunningReview;
  let keyFile: string;

  beforeAll(async () => {
    const keyDir = mkdtempSync(path.join(tmpdir(), 'sg-browser-keys-'));
    const pair = generateSigningKeyPair();
    writeFileSync(path.join(keyDir, 'k.pem'), pair.privatePem);
    keyFile = path.join(keyDir, 'k.pub.pem');
    writeFileSync(keyFile, pair.publicPem);
    const signer = { key: loadSigningKey(path.join(keyDir, 'k.pem')), everyRecords: 10, everySeconds: 3600 };
    const dir = await writeFixtureLog({ signer });
    review = await startReviewServer({ auditDir: dir, host: '127.0.0.1', port: 0, adminKey: ADMIN, publicKeyFiles: [keyFile], log: () => undefined });
    // A second log with one record edited in place.
    const brokenDir = await writeFixtureLog({ signer });
    const file = listAuditFiles(brokenDir)[0];
    writeFileSync(file, readFileSync(file, 'utf8').replace('"request_id":"req_fixture_02"', '"request_id":"req_fixture_2x"'));
    broken = await startReviewServer({ auditDir: brokenDir, host: '127.0.0.1', port: 0, adminKey: ADMIN, publicKeyFiles: [keyFile], log: () => undefined });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
    context = await browser.newContext({ httpCredentials: { username: 'reviewer', password: ADMIN }, acceptDownloads: true, viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await review?.close();
    await broken?.close();
  });

  test('without the admin key the browser gets 401 and no record', async () => {
    const anonymous = await browser.newContext();
    const res = await anonymous.request.get(review.url);
    expect(res.status()).toBe(401);
    expect(res.headers()['www-authenticate']).toMatch(/^Basic /);
    expect(await res.text()).not.toContain('req_fixture');
    await anonymous.close();
    // A wrong password: the page the browser shows is the refusal.
    const wrong = await browser.newContext({ httpCredentials: { username: 'reviewer', password: 'not-the-admin-key-000000' } });
    const p = await wrong.newPage();
    expect((await p.goto(review.url))?.status()).toBe(401);
    expect(await p.textContent('body')).toMatch(/needs the admin key/);
    await wrong.close();
  });

  test('filters by keyboard-reachable labelled fields, then opens the decision', async () => {
    await page.goto(review.url);
    // The skip link is the first stop of the focus order and moves focus to the content.
    await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement && document.activeElement.textContent')).toBe('Skip to content');
    await page.keyboard.press('Enter');
    expect(await page.evaluate('document.activeElement && document.activeElement.id')).toBe('main');

    await page.getByLabel('App', { exact: true }).selectOption('tools');
    await page.getByLabel('Category').selectOption({ label: 'S2 Non-Violent Crimes' });
    await page.getByLabel('Action (decision)').selectOption('block');
    await page.getByLabel('From').fill('2026-12-01');
    await page.getByLabel('Until (not included)').fill('2026-12-02');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await expect(page.locator('#result-count').textContent()).resolves.toMatch(/^1 matching record/);
    expect(await page.locator('tbody tr').count()).toBe(1);
    expect(await page.locator('[data-signed="valid"]').count()).toBe(1);
    if (SHOTS) await shot(page, 'list-filters.png', true);

    await page.getByRole('link', { name: 'req_fixture_00' }).click();
    await expect(page.locator('h1').textContent()).resolves.toBe('Decision req_fixture_00');
    const body = (await page.textContent('main')) ?? '';
    expect(body).toContain('S2 Non-Violent Crimes');
    expect(body).toContain('messages[0].content 12-96');
    expect(body).toMatch(/hmac-sha256:[0-9a-f]{64}/);
    // Captured content none: the prompt's text is nowhere on the page.
    expect(await page.content()).not.toContain(SECRET_PROMPT);
    expect(await page.locator('[data-content="text"]').count()).toBe(0);
    if (SHOTS) await shot(page, 'detail.png', true);
  });

  test('captured hostile text is shown as text and never runs', async () => {
    await page.goto(`${review.url}?request_id=req_fixture_full`);
    await page.getByRole('link', { name: 'req_fixture_full' }).click();
    expect(await page.locator('pre[data-content="text"]').first().textContent()).toBe(HOSTILE_TEXT);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
  });

  test('exports the filtered set as JSONL and CSV', async () => {
    await page.goto(`${review.url}?app=shop&kind=decision`);
    const count = Number(/^(\d+)/.exec((await page.locator('#result-count').textContent()) ?? '')?.[1]);
    expect(count).toBe(14);
    const [jsonl] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export JSONL' }).click()]);
    const lines = readFileSync((await jsonl.path())!, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { app: string; kind: string });
    expect(lines).toHaveLength(count);
    expect(new Set(lines.map((l) => `${l.kind}:${l.app}`))).toEqual(new Set(['decision:shop']));
    const [csv] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    expect(csv.suggestedFilename()).toMatch(/\.csv$/);
    const rows = readFileSync((await csv.path())!, 'utf8').trim().split('\r\n');
    expect(rows[0].split(',').slice(0, 4)).toEqual(['seq', 'received_at', 'kind', 'request_id']);
    expect(rows).toHaveLength(count + 1);
    expect(rows.slice(1).every((r) => r.includes(',shop,'))).toBe(true);
  });

  test('charts render as inline SVG with their numbers', async () => {
    await page.goto(`${review.url}charts`);
    expect(await page.locator('figure svg').count()).toBeGreaterThanOrEqual(5);
    expect(await page.locator('#chart-categories figcaption').textContent()).toBe('Blocks over time, by category');
    if (SHOTS) await shot(page, 'charts.png', true);
  });

  test('a broken chain is flagged on every page, and its first broken record is one click away', async () => {
    await page.goto(broken.url);
    const alert = page.locator('[data-chain="broken"]');
    await expect(alert.textContent()).resolves.toMatch(/Chain broken:/);
    if (SHOTS) await shot(page, 'broken-chain.png');
    await alert.getByRole('link').first().click();
    await expect(page.locator('[data-record-problem]').textContent()).resolves.toMatch(/edited/);
  });

  test('readable on a phone: no horizontal scroll of the page itself', async () => {
    const phone = await browser.newContext({ httpCredentials: { username: 'reviewer', password: ADMIN }, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const p = await phone.newPage();
    await p.goto(review.url);
    const overflow = Number(await p.evaluate('document.documentElement.scrollWidth - document.documentElement.clientWidth'));
    expect(overflow).toBeLessThanOrEqual(0);
    if (SHOTS) await shot(p, 'phone.png');
    await phone.close();
  });
});

async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  mkdirSync(SHOTS!, { recursive: true });
  await page.screenshot({ path: path.join(SHOTS!, name), fullPage });
}
