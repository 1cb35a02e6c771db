import { categoryLabel } from './categories';
import { html, type Html } from './html';
import { layout, type PageContext } from './layout';
import type { ChartsModel } from './reviewQueries';
import { queryString, type FilterParam } from './reviewFilter';
import { horizontalBars, stackedBars } from './svgCharts';

/** Pure: the charts of the filtered records: decisions and blocks over time (by action, category, app), top rules, guard latency, errors. */
export function renderCharts(ctx: PageContext, params: Partial<Record<FilterParam, string>>, model: ChartsModel | undefined, errors: string[]): Html {
  const qs = queryString(params);
  const active = Object.entries(params).map(([k, v]) => `${k} = ${v}`);
  const head = html`<p>${active.length ? html`Filtered by ${active.join(', ')}. ` : 'All records. '}<a href="${ctx.base}/${qs}">Back to the list with these filters</a></p>`;
  if (errors.length) return layout(ctx, 'charts', 'Charts', html`${head}<div class="errors" role="alert"><ul>${errors.map((e) => html`<li>${e}</li>`)}</ul></div>`);
  if (!model) return layout(ctx, 'charts', 'Charts', html`${head}<p>No records with a time match these filters.</p>`);
  const keysOf = (points: { key: string; n: number }[]) => {
    const totals = new Map<string, number>();
    for (const p of points) totals.set(p.key, (totals.get(p.key) ?? 0) + p.n);
    return [...totals].sort((a, b) => b[1] - a[1]).map(([k]) => k);
  };
  const order = ['allow', 'flag', 'block', 'error'];
  const actionKeys = keysOf(model.byAction).sort((a, b) => order.indexOf(a) - order.indexOf(b));
  const errorTotals = new Map<string, number>();
  for (const p of model.errors) errorTotals.set(p.key, (errorTotals.get(p.key) ?? 0) + p.n);
  const requests = [...errorTotals.values()].reduce((s, n) => s + n, 0);
  const rate = (k: string) => (requests ? ((100 * (errorTotals.get(k) ?? 0)) / requests).toFixed(2) : '0');
  const failures = model.errors.filter((p) => p.key !== 'ok');
  const charts = [
    stackedBars('chart-actions', 'Decisions over time, by action', { points: model.byAction, buckets: model.buckets, keys: actionKeys }, model.bucketMs),
    stackedBars('chart-categories', 'Blocks over time, by category', { points: model.blocksByCategory, buckets: model.buckets, keys: keysOf(model.blocksByCategory), label: categoryLabel }, model.bucketMs),
    stackedBars('chart-apps', 'Blocks over time, by app', { points: model.blocksByApp, buckets: model.buckets, keys: keysOf(model.blocksByApp) }, model.bucketMs),
    horizontalBars('chart-rules', 'Top rules (deciding a flag or block)', model.topRules.map((r) => ({ label: r.key ?? '?', value: r.n }))),
    horizontalBars(
      'chart-latency',
      'Guard latency in ms: p95 (p50, max; runs)',
      model.latency.map((l) => ({ label: l.guard, value: l.p95, text: `${l.p95.toFixed(1)} (p50 ${l.p50.toFixed(1)}, max ${l.max.toFixed(1)}; ${l.n})` })),
    ),
    stackedBars('chart-errors', `Errors and refusals over time (of ${requests} requests: guard faults ${rate('guard fault')}%, other 5xx ${rate('other 5xx')}%, 401 ${rate('unauthenticated')}%, 429 ${rate('rate_limited')}%, invalid ${rate('invalid_request')}%, 503 policy unavailable ${rate('policy_unavailable')}%)`, { points: failures, buckets: model.buckets, keys: keysOf(failures) }, model.bucketMs),
  ];
  return layout(ctx, 'charts', 'Charts', html`${head}<div class="charts">${charts}</div>`);
}
