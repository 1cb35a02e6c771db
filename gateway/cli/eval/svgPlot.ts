import type { PrPoint, RocPoint } from './metrics';

/**
 * ROC and precision-recall plots as standalone SVG, written by hand: a plotting dependency would
 * be far bigger than these two charts. Both axes run 0..1.
 */

export interface PlotPoint {
  x: number;
  y: number;
}

export interface CurvePlot {
  title: string;
  xLabel: string;
  yLabel: string;
  /** The curve, in data coordinates; null when it is undefined (one class only). */
  points: PlotPoint[] | null;
  /** `steps`: a horizontal run to each point's x, then up or down to its y (precision-recall); `lines`: straight segments (ROC). */
  shape: 'lines' | 'steps';
  /** A dashed reference line (chance). */
  reference?: [PlotPoint, PlotPoint];
  /** The operating point at the evaluated threshold. */
  marker?: PlotPoint & { label: string };
  /** Why the curve is missing, shown in its place. */
  emptyMessage?: string;
}

const WIDTH = 480;
const HEIGHT = 420;
const MARGIN = { left: 56, right: 16, top: 36, bottom: 48 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const px = (x: number) => MARGIN.left + x * PLOT_W;
const py = (y: number) => MARGIN.top + (1 - y) * PLOT_H;
const fmt = (n: number) => (Math.round(n * 100) / 100).toString();

/**
 * Drops points that cannot change the drawing: those within a pixel of the last kept one (the
 * final point always stays), and the middle of three points on one horizontal or vertical line.
 * A curve through 50,000 records then needs well under a thousand points, and the file stays small.
 */
export function simplify(points: readonly PlotPoint[]): PlotPoint[] {
  const near: PlotPoint[] = [];
  points.forEach((p, i) => {
    const q = { x: Math.round(px(p.x) * 2) / 2, y: Math.round(py(p.y) * 2) / 2 };
    const last = near[near.length - 1];
    const isFinal = i === points.length - 1;
    if (!last || (isFinal && (last.x !== q.x || last.y !== q.y)) || Math.max(Math.abs(q.x - last.x), Math.abs(q.y - last.y)) >= 1) near.push(q);
  });
  const out: PlotPoint[] = [];
  for (let i = 0; i < near.length; i++) {
    const a = out[out.length - 1];
    const b = near[i];
    const c = near[i + 1];
    if (a && c && ((a.x === b.x && b.x === c.x) || (a.y === b.y && b.y === c.y))) continue;
    out.push(b);
  }
  return out;
}

/** Pixel path for the curve. For steps, the drawing is the area sum average precision adds up. */
export function curvePath(points: readonly PlotPoint[], shape: CurvePlot['shape']): string {
  if (points.length === 0) return '';
  const stepped: PlotPoint[] = [];
  if (shape === 'steps') {
    // Precision P_n holds over recall (R_{n-1}, R_n]: start at recall 0 at the first precision.
    let prev: PlotPoint = { x: 0, y: points[0].y };
    stepped.push(prev);
    for (const p of points) {
      if (p.y !== prev.y) stepped.push({ x: prev.x, y: p.y });
      stepped.push(p);
      prev = p;
    }
  }
  const drawn = simplify(shape === 'steps' ? stepped : points);
  return drawn.map((p, i) => `${i === 0 ? 'M' : 'L'}${fmt(p.x)},${fmt(p.y)}`).join(' ');
}

function axes(plot: CurvePlot): string[] {
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = i / 5;
    parts.push(`<line x1="${fmt(px(v))}" y1="${fmt(py(0))}" x2="${fmt(px(v))}" y2="${fmt(py(1))}" stroke="#e5e5e5"/>`);
    parts.push(`<line x1="${fmt(px(0))}" y1="${fmt(py(v))}" x2="${fmt(px(1))}" y2="${fmt(py(v))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${fmt(px(v))}" y="${fmt(py(0) + 16)}" text-anchor="middle">${v.toFixed(1)}</text>`);
    parts.push(`<text x="${fmt(px(0) - 6)}" y="${fmt(py(v) + 4)}" text-anchor="end">${v.toFixed(1)}</text>`);
  }
  parts.push(`<rect x="${fmt(px(0))}" y="${fmt(py(1))}" width="${PLOT_W}" height="${PLOT_H}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${fmt(px(0.5))}" y="${HEIGHT - 10}" text-anchor="middle">${escapeXml(plot.xLabel)}</text>`);
  parts.push(`<text transform="translate(14 ${fmt(py(0.5))}) rotate(-90)" text-anchor="middle">${escapeXml(plot.yLabel)}</text>`);
  parts.push(`<text x="${WIDTH / 2}" y="22" text-anchor="middle" font-weight="bold">${escapeXml(plot.title)}</text>`);
  return parts;
}

export function renderCurveSvg(plot: CurvePlot): string {
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    ...axes(plot),
  ];
  if (plot.reference) {
    const [a, b] = plot.reference;
    parts.push(`<line x1="${fmt(px(a.x))}" y1="${fmt(py(a.y))}" x2="${fmt(px(b.x))}" y2="${fmt(py(b.y))}" stroke="#999" stroke-dasharray="4 4"/>`);
  }
  if (plot.points && plot.points.length) {
    parts.push(`<path d="${curvePath(plot.points, plot.shape)}" fill="none" stroke="#1f77b4" stroke-width="2"/>`);
  } else {
    parts.push(`<text x="${fmt(px(0.5))}" y="${fmt(py(0.5))}" text-anchor="middle" fill="#a00">${escapeXml(plot.emptyMessage ?? 'undefined')}</text>`);
  }
  if (plot.marker && plot.points) {
    const m = plot.marker;
    parts.push(`<circle cx="${fmt(px(m.x))}" cy="${fmt(py(m.y))}" r="5" fill="#d62728"/>`);
    const anchor = m.x > 0.6 ? 'end' : 'start';
    const dx = anchor === 'end' ? -8 : 8;
    parts.push(`<text x="${fmt(px(m.x) + dx)}" y="${fmt(py(m.y) + (m.y > 0.9 ? 16 : -8))}" text-anchor="${anchor}" fill="#d62728">${escapeXml(m.label)}</text>`);
  }
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

const num = (n: number | null) => (n === null ? 'undefined' : n.toFixed(3));

export function rocSvg(curve: RocPoint[] | null, auc: number | null, operating: { fpr: number | null; tpr: number | null; label: string }): string {
  return renderCurveSvg({
    title: `ROC (AUROC ${num(auc)})`,
    xLabel: 'false positive rate',
    yLabel: 'true positive rate (recall)',
    points: curve ? curve.map((p) => ({ x: p.fpr, y: p.tpr })) : null,
    shape: 'lines',
    reference: [{ x: 0, y: 0 }, { x: 1, y: 1 }],
    ...(operating.fpr !== null && operating.tpr !== null ? { marker: { x: operating.fpr, y: operating.tpr, label: operating.label } } : {}),
    emptyMessage: 'undefined: needs both positives and negatives',
  });
}

export function prSvg(curve: PrPoint[] | null, ap: number | null, prevalence: number | null, operating: { recall: number | null; precision: number | null; label: string }): string {
  return renderCurveSvg({
    title: `Precision-recall (AP ${num(ap)})`,
    xLabel: 'recall',
    yLabel: 'precision',
    points: curve ? curve.map((p) => ({ x: p.recall, y: p.precision })) : null,
    shape: 'steps',
    // A guard that flags at random has precision = the share of positives.
    ...(prevalence !== null ? { reference: [{ x: 0, y: prevalence }, { x: 1, y: prevalence }] as [PlotPoint, PlotPoint] } : {}),
    ...(operating.recall !== null && operating.precision !== null ? { marker: { x: operating.recall, y: operating.precision, label: operating.label } } : {}),
    emptyMessage: 'undefined: no positives',
  });
}
