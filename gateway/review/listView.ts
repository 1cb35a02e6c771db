import { HAZARD_CATEGORIES, categoryLabel } from './categories';
import { html, type Html } from './html';
import type { Facet } from './indexSchema';
import { layout, recordHref, type PageContext } from './layout';
import { ACTIONS, MODES, RECORD_KINDS, queryString, type FilterParam } from './reviewFilter';

/** One row of the list, as the index returns it. */
export interface ListRow {
  id: number;
  file: string;
  line: number;
  seq: number | null;
  kind: string;
  received_ms: number | null;
  ts: string | null;
  request_id: string | null;
  app: string | null;
  key_id: string | null;
  route: string | null;
  action: string | null;
  status: number | null;
  policy_id: string | null;
  policy_version: string | null;
  rules: string | null;
  summary: string | null;
  problem: number;
}

export interface ListModel {
  params: Partial<Record<FilterParam, string>>;
  errors: string[];
  facets: Record<Facet, string[]>;
  rows: ListRow[];
  /** Matching records; undefined when the filter was invalid. */
  total?: number;
  /** Ids for the pager links: older than the last row, newer than the first. */
  older?: number;
  newer?: number;
}

type Field = { name: FilterParam; label: string; hint?: string } & ({ type: 'text'; placeholder?: string } | { type: 'select'; options: { value: string; label: string }[] });

/** Pure: the decisions view: the filter form, exports, the count and the table of matching records. */
export function renderList(ctx: PageContext, model: ListModel): Html {
  const choice = (values: readonly string[], label: (v: string) => string = (v) => v) => values.map((v) => ({ value: v, label: label(v) }));
  const facet = (name: Facet) => choice(model.facets[name] ?? []);
  const categories = [...HAZARD_CATEGORIES.map((c) => c.code), ...(model.facets.category ?? []).filter((c) => !HAZARD_CATEGORIES.some((h) => h.code === c))];
  const groups: { legend: string; fields: Field[] }[] = [
    {
      legend: 'Time (UTC)',
      fields: [
        { name: 'since', label: 'From', type: 'text', placeholder: '2026-12-01 or 24h', hint: 'ISO 8601 or an age: 30m, 24h, 7d' },
        { name: 'until', label: 'Until (not included)', type: 'text', placeholder: '2026-12-02' },
      ],
    },
    {
      legend: 'Request',
      fields: [
        { name: 'app', label: 'App', type: 'select', options: facet('app') },
        { name: 'key_id', label: 'API key id', type: 'select', options: facet('key_id') },
        { name: 'route', label: 'Route', type: 'select', options: facet('route') },
        { name: 'kind', label: 'Record kind', type: 'select', options: choice(RECORD_KINDS) },
        { name: 'action', label: 'Action (decision)', type: 'select', options: choice(ACTIONS) },
        { name: 'request_id', label: 'Request id (gateway or client)', type: 'text' },
        { name: 'trace_id', label: 'Trace id', type: 'text' },
      ],
    },
    {
      legend: 'Policy',
      fields: [
        { name: 'policy_id', label: 'Policy id', type: 'select', options: facet('policy_id') },
        { name: 'policy_version', label: 'Policy version', type: 'select', options: facet('policy_version') },
      ],
    },
    {
      legend: 'Verdict (all must hold for one verdict)',
      fields: [
        { name: 'guard', label: 'Guard', type: 'select', options: facet('guard') },
        { name: 'label', label: 'Label', type: 'select', options: facet('label') },
        { name: 'category', label: 'Category', type: 'select', options: choice(categories, categoryLabel) },
        { name: 'rule', label: 'Rule id', type: 'select', options: facet('rule') },
        { name: 'verdict', label: 'Verdict outcome', type: 'select', options: choice(ACTIONS) },
        { name: 'mode', label: 'Shadow or enforced', type: 'select', options: choice(MODES, (m) => (m === 'enforce' ? 'enforced' : 'shadow')) },
      ],
    },
  ];
  const qs = queryString(model.params);
  const form = html`<form class="filters" method="get" action="${ctx.base}/" role="search" aria-label="Filter records">
${groups.map((g) => html`<fieldset><legend>${g.legend}</legend><div class="grid">${g.fields.map((f) => field(f, model.params[f.name]))}</div></fieldset>`)}
<div class="actions"><button type="submit">Apply filters</button><a class="button secondary" href="${ctx.base}/">Clear</a>
<a href="${ctx.base}/export.jsonl${qs}" download>Export JSONL</a><a href="${ctx.base}/export.csv${qs}" download>Export CSV</a><a href="${ctx.base}/charts${qs}">Charts of these records</a></div>
</form>`;
  const errors = model.errors.length
    ? html`<div class="errors" role="alert" id="filter-errors"><p><strong>These filters cannot be applied:</strong></p><ul>${model.errors.map((e) => html`<li>${e}</li>`)}</ul></div>`
    : '';
  const results = model.total === undefined ? '' : resultsTable(ctx, model, qs);
  return layout(ctx, 'decisions', 'Decisions', html`${form}${errors}${results}`);
}

function field(f: Field, value: string | undefined): Html {
  const id = `f-${f.name}`;
  const hint = f.hint ? html`<p class="hint" id="${id}-hint">${f.hint}</p>` : '';
  const described = f.hint ? html` aria-describedby="${id}-hint"` : '';
  if (f.type === 'text') {
    return html`<div><label for="${id}">${f.label}</label><input id="${id}" name="${f.name}" type="text" value="${value ?? ''}"${f.placeholder ? html` placeholder="${f.placeholder}"` : ''}${described} autocomplete="off">${hint}</div>`;
  }
  // A value from a link that the list does not hold yet is still shown selected.
  const options = value && !f.options.some((o) => o.value === value) ? [...f.options, { value, label: value }] : f.options;
  return html`<div><label for="${id}">${f.label}</label><select id="${id}" name="${f.name}"${described}><option value="">any</option>${options.map(
    (o) => html`<option value="${o.value}"${o.value === value ? html` selected` : ''}>${o.label}</option>`,
  )}</select>${hint}</div>`;
}

function resultsTable(ctx: PageContext, model: ListModel, qs: string): Html {
  const sep = qs ? '&' : '?';
  const pager = html`<nav class="pager" aria-label="Pages">${model.newer !== undefined ? html`<a href="${ctx.base}/${qs}${sep}after=${model.newer}">Newer records</a>` : ''}${
    model.older !== undefined ? html`<a href="${ctx.base}/${qs}${sep}before=${model.older}">Older records</a>` : ''
  }</nav>`;
  if (model.rows.length === 0) return html`<h2 id="results">Results</h2><p role="status" id="result-count">0 matching record(s) on this page${model.total ? ` (${model.total} in all)` : ''}: no record matches these filters.</p>${pager}`;
  return html`<h2 id="results">Results</h2><p role="status" id="result-count">${model.total} matching record(s), newest first.</p>
<div class="scroll" role="region" aria-labelledby="results-caption" tabindex="0">
<table>
<caption id="results-caption">Matching audit records (open one for its verdicts, timings and content)</caption>
<thead><tr><th scope="col">Received (UTC)</th><th scope="col">Record</th><th scope="col">Action</th><th scope="col">App</th><th scope="col">Key</th><th scope="col">Route</th><th scope="col" class="num">Status</th><th scope="col">Verdict</th><th scope="col">Rules</th><th scope="col">Policy</th><th scope="col" class="num">Seq</th></tr></thead>
<tbody>${model.rows.map((r) => row(ctx, r))}</tbody>
</table></div>${pager}`;
}

function row(ctx: PageContext, r: ListRow): Html {
  const when = r.received_ms !== null ? new Date(r.received_ms).toISOString().replace('T', ' ').replace('Z', '') : (r.ts ?? '');
  const name = r.kind === 'checkpoint' ? 'checkpoint' : r.kind === 'unreadable' ? `line ${r.line}` : (r.request_id ?? `line ${r.line}`);
  const action = r.kind === 'decision' ? (r.action ?? '?') : r.kind;
  const problem = r.problem ? html` <span class="badge problem">chain problem</span>` : '';
  return html`<tr${r.problem ? html` data-problem="1"` : ''}><td class="mono">${when}</td><th scope="row"><a href="${recordHref(ctx.base, r.file, r.line)}" class="mono">${name}</a>${problem}</th><td><span class="badge ${badgeClass(action)}">${action}</span></td><td>${r.app ?? ''}</td><td class="mono">${r.key_id ?? ''}</td><td class="mono">${r.route ?? ''}</td><td class="num">${r.status ?? ''}</td><td>${r.summary ?? ''}</td><td>${r.rules ?? ''}</td><td class="mono">${r.policy_id ? (r.policy_version ? `${r.policy_id}@${r.policy_version.slice(0, 12)}` : r.policy_id) : ''}</td><td class="num">${r.seq ?? ''}</td></tr>`;
}

export function badgeClass(action: string): string {
  return ['allow', 'flag', 'block', 'error', 'unauthenticated', 'rate_limited', 'invalid_request', 'policy_unavailable', 'checkpoint', 'unreadable'].includes(action) ? action : action === 'stream_started' ? 'checkpoint' : 'unreadable';
}
