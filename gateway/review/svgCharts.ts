import { html, type Html } from './html';

/** Pure: small server-rendered SVG charts, each with a legend and its numbers as a table (for screen readers and keyboards). */
const PALETTE = ['#0550ae', '#b42318', '#1a7f37', '#9a6700', '#6f42c1', '#bf3989', '#0a7f86', '#953800', '#57606a', '#1f6feb', '#8250df', '#cf222e', '#2da44e', '#d4a72c'];
const FIXED: Record<string, string> = { allow: '#1a7f37', flag: '#d4a72c', block: '#b42318', error: '#6f42c1', ok: '#1a7f37', 'guard fault': '#6f42c1', 'other 5xx': '#b42318', unauthenticated: '#57606a', rate_limited: '#953800', invalid_request: '#9a6700', policy_unavailable: '#0a7f86' };

export function colorOf(key: string, index: number): string {
  return FIXED[key] ?? PALETTE[index % PALETTE.length];
}

export interface Series {
  /** Bucket start (epoch ms) -> key -> count. */
  points: { bucket: number; key: string; n: number }[];
  buckets: number[];
  keys: string[];
  /** Labels for keys (category names). */
  label?: (key: string) => string;
}

const W = 640;
const H = 220;
const PAD = { left: 44, right: 8, top: 10, bottom: 26 };

function stamp(ms: number, bucketMs: number): string {
  const iso = new Date(ms).toISOString();
  return bucketMs >= 86_400_000 ? iso.slice(0, 10) : iso.slice(0, 16).replace('T', ' ');
}

function legend(keys: string[], label: (k: string) => string): Html {
  return html`<ul class="legend">${keys.map(
    (k, i) => html`<li><svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" focusable="false"><rect width="12" height="12" fill="${colorOf(k, i)}"/></svg>${label(k)}</li>`,
  )}</ul>`;
}

/** Stacked bars over time, one colour per key. */
export function stackedBars(id: string, title: string, series: Series, bucketMs: number): Html {
  const label = series.label ?? ((k: string) => k);
  const totals = new Map<number, number>();
  const cell = new Map<string, number>();
  for (const p of series.points) {
    totals.set(p.bucket, (totals.get(p.bucket) ?? 0) + p.n);
    cell.set(`${p.bucket}|${p.key}`, p.n);
  }
  if (series.points.length === 0) return html`<figure aria-labelledby="${id}-t"><figcaption id="${id}-t">${title}</figcaption><p>Nothing to show for these filters.</p></figure>`;
  const max = Math.max(1, ...totals.values());
  const plotW = W - PAD.left - PAD.right;
  const plotH = H - PAD.top - PAD.bottom;
  const barW = plotW / Math.max(1, series.buckets.length);
  const bars: Html[] = [];
  series.buckets.forEach((b, i) => {
    let y = PAD.top + plotH;
    series.keys.forEach((k, ki) => {
      const n = cell.get(`${b}|${k}`) ?? 0;
      if (!n) return;
      const h = (n / max) * plotH;
      y -= h;
      bars.push(html`<rect x="${(PAD.left + i * barW + barW * 0.1).toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, barW * 0.8).toFixed(1)}" height="${h.toFixed(1)}" fill="${colorOf(k, ki)}"><title>${stamp(b, bucketMs)} ${label(k)}: ${n}</title></rect>`);
    });
  });
  const first = series.buckets[0];
  const last = series.buckets[series.buckets.length - 1];
  const svg = html`<svg viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="${id}-t ${id}-d"><desc id="${id}-d">${series.buckets.length} time buckets of ${Math.round(bucketMs / 60000)} min from ${stamp(first, bucketMs)}; highest bucket ${max}</desc>
<line x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${W - PAD.right}" y2="${PAD.top + plotH}" stroke="#8c959f"/>
<line x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" stroke="#8c959f"/>
<text x="${PAD.left - 4}" y="${PAD.top + 8}" text-anchor="end">${max}</text><text x="${PAD.left - 4}" y="${PAD.top + plotH}" text-anchor="end">0</text>
<text x="${PAD.left}" y="${H - 6}">${stamp(first, bucketMs)}</text><text x="${W - PAD.right}" y="${H - 6}" text-anchor="end">${stamp(last, bucketMs)}</text>
${bars}</svg>`;
  const table = html`<details><summary>Numbers</summary><div class="scroll" role="region" aria-label="${title}: numbers" tabindex="0"><table><caption>${title}</caption><thead><tr><th scope="col">Bucket start (UTC)</th>${series.keys.map((k) => html`<th scope="col" class="num">${label(k)}</th>`)}</tr></thead><tbody>${series.buckets
    .filter((b) => totals.has(b))
    .map((b) => html`<tr><th scope="row">${stamp(b, bucketMs)}</th>${series.keys.map((k) => html`<td class="num">${cell.get(`${b}|${k}`) ?? 0}</td>`)}</tr>`)}</tbody></table></div></details>`;
  return html`<figure aria-labelledby="${id}-t" id="${id}"><figcaption id="${id}-t">${title}</figcaption>${svg}${legend(series.keys, label)}${table}</figure>`;
}

/** Horizontal bars, largest first. */
export function horizontalBars(id: string, title: string, items: { label: string; value: number; text?: string }[], unit = ''): Html {
  if (items.length === 0) return html`<figure aria-labelledby="${id}-t" id="${id}"><figcaption id="${id}-t">${title}</figcaption><p>Nothing to show for these filters.</p></figure>`;
  const max = Math.max(1e-9, ...items.map((i) => i.value));
  const rowH = 22;
  const labelW = 170;
  const textW = 230;
  const h = items.length * rowH + 8;
  const svg = html`<svg viewBox="0 0 ${W} ${h}" role="img" aria-labelledby="${id}-t"><g>${items.map((it, i) => {
    const w = ((W - labelW - textW) * it.value) / max;
    const y = 4 + i * rowH;
    return html`<text x="${labelW - 6}" y="${y + 14}" text-anchor="end">${it.label.slice(0, 32)}</text><rect x="${labelW}" y="${y + 2}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 6}" fill="${colorOf(it.label, i)}"><title>${it.label}: ${it.text ?? it.value}${unit}</title></rect><text x="${(labelW + w + 6).toFixed(1)}" y="${y + 14}">${it.text ?? String(it.value)}${unit}</text>`;
  })}</g></svg>`;
  const table = html`<details><summary>Numbers</summary><table><caption>${title}</caption><thead><tr><th scope="col">Name</th><th scope="col" class="num">Value</th></tr></thead><tbody>${items.map(
    (it) => html`<tr><th scope="row">${it.label}</th><td class="num">${it.text ?? it.value}${unit}</td></tr>`,
  )}</tbody></table></details>`;
  return html`<figure aria-labelledby="${id}-t" id="${id}"><figcaption id="${id}-t">${title}</figcaption>${svg}${table}</figure>`;
}
