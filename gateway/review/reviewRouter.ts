import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { AuditIndex } from './auditIndex';
import { renderChain } from './chainView';
import { renderCharts } from './chartsView';
import { renderDetail } from './detailView';
import type { Html } from './html';
import { messagePage, type PageContext } from './layout';
import { renderList } from './listView';
import { reviewAccess, type AdminKeyRefused } from './reviewAccess';
import { streamExport } from './reviewExport';
import { parseReviewQuery } from './reviewFilter';
import { chainDetails, chartResults, facetLists, listResults, recordDetail } from './reviewQueries';
import { STYLESHEET } from './styles';

export interface ReviewDeps {
  index: AuditIndex;
  auditDir: string;
  /** The reviewers' key; without one, loopback clients only. */
  adminKey?: string;
  log?: (line: string) => void;
  now?: () => Date;
  /** How long a page waits for the index to catch up with the log before it shows what it has. */
  catchUpMs?: number;
  /** A refused admin key: the gateway's mount audits it (the standalone `review` command only reads the log). */
  onRefused?: AdminKeyRefused;
}

const RecordQuery = z.object({
  file: z.string().regex(/^audit-\d{12}-\d{8}T\d{6}Z\.jsonl$/, 'not an audit file name'),
  line: z.coerce.number().int().min(1).max(1e9),
});

/**
 * The review page's HTTP surface: thin handlers that parse (zod), query (reviewQueries) and render
 * (pure views). Read-only: GET and HEAD only, so there is nothing to forge a request for.
 */
export function reviewRouter(deps: ReviewDeps): Router {
  const router = express.Router();
  const now = deps.now ?? (() => new Date());
  const catchUpMs = deps.catchUpMs ?? 2000;
  const send = (res: Response, status: number, page: Html) => res.status(status).type('html').send(page.value);
  const context = (req: Request): PageContext => ({ base: req.baseUrl, access: deps.adminKey ? 'key' : 'loopback', chain: deps.index.chainStatus(), index: deps.index.status() });

  router.use((req: Request, res: Response, next: NextFunction) => {
    res.setHeader('content-security-policy', "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'");
    res.setHeader('x-content-type-options', 'nosniff');
    res.setHeader('x-frame-options', 'DENY');
    res.setHeader('referrer-policy', 'no-referrer');
    res.setHeader('cache-control', 'no-store');
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return send(res, 405, messagePage(undefined, 'Read-only', 'The review page only reads: use GET.'));
    }
    next();
  });
  router.use(reviewAccess(deps.adminKey, (res, status, message) => send(res, status, messagePage(undefined, status === 401 ? 'Admin key required' : 'Not served here', message)), deps.onRefused));

  router.get('/assets/review.css', (_req, res) => {
    res.type('text/css').send(STYLESHEET);
  });

  router.get('/', async (req, res) => {
    await deps.index.catchUp(catchUpMs);
    const parsed = parseReviewQuery(req.query as Record<string, unknown>, now());
    const ctx = context(req);
    const facets = facetLists(deps.index);
    if (!parsed.ok) return send(res, 400, renderList(ctx, { params: parsed.params, errors: parsed.errors, facets, rows: [] }));
    const results = listResults(deps.index, parsed.query);
    send(res, 200, renderList(ctx, { params: parsed.query.params, errors: [], facets, ...results }));
  });

  router.get('/record', async (req, res) => {
    await deps.index.catchUp(catchUpMs);
    const ctx = context(req);
    const q = RecordQuery.safeParse(req.query);
    if (!q.success) return send(res, 400, messagePage(ctx, 'No such record', 'Open a record from the list: the link names its file and line.'));
    const model = recordDetail(deps.index, q.data.file, q.data.line);
    if (!model) return send(res, 404, messagePage(ctx, 'No such record', `${q.data.file} has no indexed line ${q.data.line}.`));
    send(res, 200, renderDetail(ctx, model));
  });

  router.get('/charts', async (req, res) => {
    await deps.index.catchUp(catchUpMs);
    const parsed = parseReviewQuery(req.query as Record<string, unknown>, now());
    const ctx = context(req);
    if (!parsed.ok) return send(res, 400, renderCharts(ctx, parsed.params, undefined, parsed.errors));
    send(res, 200, renderCharts(ctx, parsed.query.params, chartResults(deps.index, parsed.query.filter), []));
  });

  router.get('/chain', async (req, res) => {
    await deps.index.catchUp(catchUpMs);
    send(res, 200, renderChain(context(req), chainDetails(deps.index)));
  });

  for (const format of ['jsonl', 'csv'] as const) {
    router.get(`/export.${format}`, async (req, res) => {
      await deps.index.catchUp(catchUpMs);
      const parsed = parseReviewQuery(req.query as Record<string, unknown>, now());
      if (!parsed.ok) {
        res.status(400).type('text/plain').send(`These filters cannot be applied:\n${parsed.errors.join('\n')}\n`);
        return;
      }
      await streamExport(deps.index, deps.auditDir, parsed.query.filter, format, res);
    });
  }

  router.use((req: Request, res: Response) => send(res, 404, messagePage(context(req), 'Not found', 'There is no such page here.')));
  // Never a stack trace to the client: the server's log gets the detail.
  router.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    deps.log?.(`review: ${req.method} ${req.path}: ${(err as Error)?.stack ?? String(err)}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, 500, messagePage(undefined, 'Something went wrong', 'The review page could not show this. The server log says why.'));
  });
  return router;
}
