import { startReviewServer } from '../../gateway/review/reviewServer';

/** A review server on a loopback port over `auditDir`, read as its admin; `get` resolves its target against the review URL (`?kind=...`, `charts`, `/review/record?...`), expects 200 and returns the page. */
export async function withReviewPages(auditDir: string, use: (get: (target: string) => Promise<string>) => Promise<void>): Promise<void> {
  const admin = 'review-admin-key-test-0123456789';
  const review = await startReviewServer({ auditDir, host: '127.0.0.1', port: 0, adminKey: admin, publicKeyFiles: [], log: () => undefined });
  try {
    await use(async (target) => {
      const res = await fetch(new URL(target, review.url), { headers: { authorization: `Bearer ${admin}` } });
      // test/support is compiled by the build (tsconfig.build.json) without jest's globals: no expect here.
      if (res.status !== 200) throw new Error(`review page ${target}: HTTP ${res.status}, expected 200`);
      return res.text();
    });
  } finally {
    await review.close();
  }
}
