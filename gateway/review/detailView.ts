import { HASH_PREFIX } from '../telemetry/contentCapture';
import { categoryLabel } from './categories';
import { html, type Html, type HtmlValue } from './html';
import { layout, type PageContext } from './layout';
import { badgeClass } from './listView';

export interface DetailModel {
  file: string;
  line: number;
  /** The record as read back from its file; undefined when the line is not JSON. */
  record?: Record<string, unknown>;
  /** The line no longer is what was indexed (the file changed since). */
  changed: boolean;
  problems: { kind: string; message: string }[];
  checkpoint?: { status: string; message: string };
}

const HASH = new RegExp(`^${HASH_PREFIX}[0-9a-f]{64}$`);
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj | undefined => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const text = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

/**
 * Pure: one record in full: what was decided, every verdict with its score, threshold and window,
 * the timings, the chain fields, and content only as the policy captured it: hashes under `none`
 * (anything else there is withheld), text under `redacted` or `full`, always escaped.
 */
export function renderDetail(ctx: PageContext, model: DetailModel): Html {
  const r = model.record;
  const kind = text(r?.kind) || 'unreadable';
  const title =
    kind === 'decision'
      ? `Decision ${text(r?.request_id)}`
      : kind === 'checkpoint'
        ? `Checkpoint seq ${text(r?.seq)}`
        : kind === 'unreadable'
          ? `Unreadable line ${model.file}:${model.line}`
          : kind === 'stream_started'
            ? `Stream started ${text(r?.request_id)}`
            : `Refusal ${text(r?.request_id)}`;
  const warnings: Html[] = [];
  if (model.changed) warnings.push(html`<div class="banner bad" role="alert"><p>This line changed in its file since it was indexed: what is shown is the file as it is now. The index is brought up to date on the next refresh.</p></div>`);
  if (model.problems.length) {
    warnings.push(html`<div class="banner bad" role="alert" data-record-problem="1"><p><strong>Chain problem at this record:</strong></p><ul>${model.problems.map((p) => html`<li>${p.kind}: ${p.message}</li>`)}</ul></div>`);
  }
  const sections: Html[] = [];
  if (!r) {
    sections.push(html`<p>This line is not a valid audit record (edited or corrupted). Its text is not shown: it may hold content the policy did not allow to be recorded.</p>`);
  } else if (kind === 'decision') {
    sections.push(decisionSummary(r), timings(r), phases(r), content(r));
  } else if (kind === 'checkpoint') {
    sections.push(checkpointFacts(r, model.checkpoint));
  } else if (kind === 'stream_started') {
    sections.push(streamStartFacts(r));
  } else {
    sections.push(refusalFacts(r));
  }
  if (r) sections.push(chainFacts(model, r));
  else sections.push(html`<h2>Position</h2><dl class="facts"><dt>File</dt><dd class="mono">${model.file}</dd><dt>Line</dt><dd>${model.line}</dd></dl>`);
  return layout(ctx, 'record', title, html`${warnings}${sections}<p><a href="${ctx.base}/">Back to the decisions</a></p>`);
}

function facts(pairs: [string, HtmlValue][]): Html {
  return html`<dl class="facts">${pairs.filter(([, v]) => v !== undefined && v !== '' && v !== null).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>`;
}

function decisionSummary(r: Obj): Html {
  const policy = obj(r.policy);
  const error = obj(r.error);
  const engine = obj(r.engine);
  const action = text(r.action);
  return html`<h2>Decision</h2>${facts([
    ['Action', html`<span class="badge ${badgeClass(action)}" data-action="${action}">${action}</span>`],
    ['HTTP status', text(r.status)],
    ...requestFacts(r),
    ['Streamed', r.stream === true ? 'yes' : r.stream === false ? 'no' : ''],
    ['Delivered', r.partial === true ? 'partly: the client had the 200 and some checked text before this status (or the block) ended the stream' : ''],
    ['Answer checked', r.output_unchecked === 'streaming_off' ? 'no: streamed under streaming.mode off, unchecked although the policy has output rules' : ''],
    ['Policy', policy ? html`<span class="mono">${text(policy.id)}@${text(policy.version)}</span>` : ''],
    ['Error', error ? html`${text(error.type)}: ${errorMessage(r, error)}` : ''],
    ['Engine', engine ? `${text(engine.model) || '?'}; finish ${list(engine.finish_reasons).map(text).join(', ') || '-'}; tokens in ${text(engine.input_tokens) || '-'}, out ${text(engine.output_tokens) || '-'}` : ''],
  ])}`;
}

/** An engine's error text may quote the request: it follows content capture like the texts. */
function errorMessage(r: Obj, error: Obj): HtmlValue {
  const message = text(error.message);
  if (text(error.type) !== 'engine_rejected') return message;
  return captured(r) ? message : HASH.test(message) ? html`<span class="mono">${message}</span>` : html`<em>withheld (not a content hash)</em>`;
}

function captured(r: Obj): boolean {
  const mode = text(obj(r.content)?.capture);
  return mode === 'full' || mode === 'redacted';
}

function timings(r: Obj): Html {
  const t = obj(r.timings);
  const engine = obj(r.engine);
  const phaseList = list(r.phases).map(obj).filter((p): p is Obj => !!p);
  const rows: [string, string][] = [];
  if (t) {
    rows.push(['Whole request until recorded', ms(t.total_ms)], ['Guards (all phases)', ms(t.guards_ms)]);
  }
  for (const p of phaseList) rows.push([`${text(p.direction)} phase${p.choice !== undefined ? ` (choice ${text(p.choice)})` : ''}`, ms(p.duration_ms)]);
  if (engine) rows.push(['Engine', ms(engine.duration_ms)], ['Engine first chunk', ms(engine.first_chunk_ms)]);
  const shown = rows.filter(([, v]) => v !== '');
  if (shown.length === 0) return html``;
  return html`<h2>Timings</h2><div class="scroll" role="region" aria-label="Timings" tabindex="0"><table><caption>Where the time went (ms)</caption><thead><tr><th scope="col">Part</th><th scope="col" class="num">ms</th></tr></thead><tbody>${shown.map(
    ([k, v]) => html`<tr><th scope="row">${k}</th><td class="num">${v}</td></tr>`,
  )}</tbody></table></div>`;
}

function ms(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(1) : '';
}

function phases(r: Obj): Html {
  const phaseList = list(r.phases).map(obj).filter((p): p is Obj => !!p);
  if (phaseList.length === 0) return html`<h2>Verdicts</h2><p>No guard ran (the request ended before its guards).</p>`;
  return html`${phaseList.map((p, i) => {
    const verdicts = list(p.verdicts).map(obj).filter((v): v is Obj => !!v);
    const id = `phase-${i}`;
    return html`<h2 id="${id}">${text(p.direction) === 'output' ? 'Answer' : 'Input'} verdicts${p.choice !== undefined ? ` (choice ${text(p.choice)})` : ''}: <span class="badge ${badgeClass(text(p.action))}">${text(p.action)}</span></h2>
<p>Deciding rule: <strong>${text(p.deciding_rule) || 'none'}</strong>; ${text(p.reason)}; ${ms(p.duration_ms)} ms.</p>
<div class="scroll" role="region" aria-labelledby="${id}" tabindex="0"><table>
<caption>Every verdict of this phase</caption>
<thead><tr><th scope="col">Rule</th><th scope="col">Guard (model)</th><th scope="col">Label</th><th scope="col" class="num">Score</th><th scope="col" class="num">Threshold</th><th scope="col">Categories</th><th scope="col">Mode</th><th scope="col">Rule asked / done</th><th scope="col" class="num">Latency ms</th><th scope="col" class="num">Segments / windows</th><th scope="col">Worst window (chars)</th><th scope="col">Error</th></tr></thead>
<tbody>${verdicts.map((v) => verdictRow(v))}</tbody></table></div>`;
  })}`;
}

function verdictRow(v: Obj): Html {
  const span = obj(v.worst_span);
  const window =
    span && typeof span.start === 'number' && typeof span.end === 'number' ? `${text(v.worst_path) || 'text'} ${span.start}-${span.end}` : text(v.worst_path);
  const score = typeof v.score === 'number' ? v.score.toFixed(4) : '';
  const threshold = typeof v.threshold === 'number' ? String(v.threshold) : '';
  return html`<tr><th scope="row" class="mono">${text(v.rule_id)}</th><td>${text(v.guard)} <span class="hint">(${text(v.model)})</span></td><td>${text(v.label)}</td><td class="num">${score}</td><td class="num">${threshold}</td><td>${list(v.categories).map(text).map(categoryLabel).join(', ')}</td><td>${text(v.mode) === 'shadow' ? 'shadow' : text(v.mode) === 'enforce' ? 'enforced' : ''}</td><td>${text(v.rule_action)} / ${text(v.action)}</td><td class="num">${ms(v.latency_ms)}</td><td class="num">${text(v.segments_scanned)}${v.windows_scanned !== undefined ? ` / ${text(v.windows_scanned)}` : ''}</td><td class="mono">${window}</td><td>${text(v.error_type)}</td></tr>`;
}

function content(r: Obj): Html {
  const c = obj(r.content);
  const mode = text(c?.capture) || 'none';
  const texts = (name: 'input' | 'output') => list(c?.[name]).map(text);
  if (mode === 'full' || mode === 'redacted') {
    const block = (label: string, items: string[]) =>
      items.length ? html`<h3>${label}</h3>${items.map((t, i) => html`<pre class="content" aria-label="${label} text ${i + 1}" data-content="text">${t}</pre>`)}` : '';
    return html`<h2>Content (captured: ${mode})</h2><p>The policy captured ${mode === 'full' ? 'the texts as they were' : 'the texts with emails, phone numbers, card numbers and keys masked'}. They are shown as text, never run.</p>${block('Input', texts('input'))}${block('Answer', texts('output'))}`;
  }
  const hashes = (label: string, items: string[]) =>
    items.length
      ? html`<h3>${label}</h3><ul>${items.map((t) => (HASH.test(t) ? html`<li class="mono" data-content="hash">${t}</li>` : html`<li data-content="withheld"><em>withheld: not a content hash</em></li>`))}</ul>`
      : '';
  return html`<h2>Content (captured: none)</h2><p>The policy captured no text: only salted hashes of each text, which a reviewer holding the salt can compare with a given text.</p>${hashes('Input', texts('input'))}${hashes('Answer', texts('output'))}`;
}

/** Who asked, when, on which route and model: the same rows for a decision and a stream's start. */
function requestFacts(r: Obj): [string, HtmlValue][] {
  return [
    ['Request id', html`<span class="mono">${text(r.request_id)}</span>`],
    ['Client request id', text(r.client_request_id) ? html`<span class="mono">${text(r.client_request_id)}</span>` : ''],
    ['Trace id', text(r.trace_id) ? html`<span class="mono">${text(r.trace_id)}</span>` : ''],
    ['Received (UTC)', text(r.received_at)],
    ['App', text(r.app)],
    ['API key id', text(r.key_id) ? html`<span class="mono">${text(r.key_id)}</span>` : ''],
    ['Route', html`<span class="mono">${text(r.route)}</span>`],
    ['Model', text(r.model)],
  ];
}

function streamStartFacts(r: Obj): Html {
  const policy = obj(r.policy);
  return html`<h2>Stream started</h2><p>Written before the stream's first byte. Its decision record follows when the stream ends; none after it means the stream is still open, or the gateway stopped mid-stream (a crash or a kill) after the client had part of an answer.</p>${facts([
    ...requestFacts(r),
    ['Policy', policy ? html`<span class="mono">${text(policy.id)}@${text(policy.version)}</span>` : ''],
    ['Input check', text(r.input_action)],
  ])}`;
}

function refusalFacts(r: Obj): Html {
  const limit = obj(r.limit);
  const repeats = obj(r.repeats);
  return html`<h2>${repeats ? 'Refusals summarized' : 'Refusal'}</h2>${
    repeats
      ? html`<p>A flood past <span class="mono">audit.refusals</span>' bounds: this record stands for ${text(repeats.count)} refusals of this kind, status and reason from ${repeats.other_sources === true ? 'sources past max_sources (none named)' : 'one source'}, from the first (described below) to the last at ${text(repeats.last_at)}, request id <span class="mono">${text(repeats.last_request_id)}</span>.</p>`
      : ''
  }${facts([
    ['Kind', html`<span class="badge ${badgeClass(text(r.kind))}">${text(r.kind)}</span>`],
    ['HTTP status', text(r.status)],
    ['Reason', text(r.reason)],
    ['Request member', text(r.param) ? html`<span class="mono">${text(r.param)}</span>` : ''],
    ['Policy (not loaded)', text(r.policy_id) ? html`<span class="mono">${text(r.policy_id)}</span>` : ''],
    ['Limit', limit ? `${text(limit.kind)}: ${text(limit.limit)}, requested ${text(limit.requested)}` : ''],
    ['Request id', html`<span class="mono">${text(r.request_id)}</span>`],
    ['Client request id', text(r.client_request_id)],
    ['Received (UTC)', text(r.received_at)],
    ['App', text(r.app)],
    ['API key id', text(r.key_id)],
    ['Client address', text(r.client)],
    ['Method and route', html`<span class="mono">${text(r.method)} ${text(r.route)}</span>`],
  ])}`;
}

function checkpointFacts(r: Obj, status: DetailModel['checkpoint']): Html {
  const covers = obj(r.covers);
  const every = obj(r.every);
  const verdict = status
    ? status.status === 'valid'
      ? html`<span class="badge allow">valid</span> ${status.message}`
      : status.status === 'unknown_key'
        ? html`<span class="badge flag">not checked</span> ${status.message}`
        : html`<span class="badge block">${status.status}</span> ${status.message}`
    : '';
  return html`<h2>Signed checkpoint</h2>${facts([
    ['Signature', verdict],
    ['Reason', text(r.reason)],
    ['Signs the head', covers ? html`seq ${text(covers.seq)}, hash <span class="mono">${text(covers.hash)}</span>` : ''],
    ['Signed at', text(r.signed_at)],
    ['Key', html`<span class="mono">${text(r.key_id)}</span>`],
    ['Writer schedule', every ? `every ${text(every.records)} records or ${text(every.seconds)} s` : ''],
  ])}`;
}

function chainFacts(model: DetailModel, r: Obj): Html {
  return html`<h2>Place in the chain</h2>${facts([
    ['File and line', html`<span class="mono">${model.file}:${model.line}</span>`],
    ['Seq', text(r.seq)],
    ['Appended (UTC)', text(r.ts)],
    ['Previous hash', html`<span class="mono">${text(r.prev)}</span>`],
    ['Hash', html`<span class="mono">${text(r.hash)}</span>`],
  ])}`;
}
