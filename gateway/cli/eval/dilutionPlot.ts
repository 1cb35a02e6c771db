import type { DilutionResult } from './dilution';
import { escapeXml } from './svgPlot';

/**
 * The dilution curves as one standalone SVG: detection rate (0..1) against words of benign text,
 * one line per padding placement, plus attacks inside benign documents of growing length (and,
 * dashed, how often those documents alone are flagged). Hand-written like svgPlot.ts.
 */

const WIDTH = 560;
const HEIGHT = 380;
const M = { left: 56, right: 150, top: 36, bottom: 48 };
const PW = WIDTH - M.left - M.right;
const PH = HEIGHT - M.top - M.bottom;
const COLORS: Record<string, string> = { before: '#1f77b4', after: '#ff7f0e', both: '#2ca02c', document: '#9467bd', benign: '#d62728' };
const f = (n: number) => (Math.round(n * 100) / 100).toString();

interface Series {
  name: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export function dilutionSvg(result: DilutionResult, title = 'Detection under dilution'): string {
  const series: Series[] = [];
  for (const [placement, points] of Object.entries(result.padding)) {
    series.push({
      name: `padding ${placement}`,
      color: COLORS[placement] ?? '#555',
      points: points.filter((p) => p.detected !== null).map((p) => ({ x: p.words, y: p.detected as number })),
    });
  }
  // The padding of both sides alone, flagged: the control for the padding curves.
  const control = (result.padding.both ?? []).filter((p) => p.benign_flagged != null && p.words > 0);
  if (control.length) series.push({ name: 'padding alone (both)', color: COLORS.benign, dashed: true, points: control.map((p) => ({ x: p.words, y: p.benign_flagged as number })) });
  if (result.documents.length) {
    series.push({ name: 'inside document', color: COLORS.document, points: result.documents.filter((p) => p.detected !== null).map((p) => ({ x: p.words, y: p.detected as number })) });
    series.push({
      name: 'document alone',
      color: COLORS.benign,
      dashed: true,
      points: result.documents.filter((p) => p.benign_flagged != null).map((p) => ({ x: p.words, y: p.benign_flagged as number })),
    });
  }
  const maxX = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p.x)));
  const px = (x: number) => M.left + (x / maxX) * PW;
  const py = (y: number) => M.top + (1 - y) * PH;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text x="${M.left + PW / 2}" y="22" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  ];
  for (let i = 0; i <= 5; i++) {
    const y = i / 5;
    const x = (maxX * i) / 5;
    parts.push(`<line x1="${f(px(0))}" y1="${f(py(y))}" x2="${f(px(maxX))}" y2="${f(py(y))}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${f(px(0) - 6)}" y="${f(py(y) + 4)}" text-anchor="end">${y.toFixed(1)}</text>`);
    parts.push(`<text x="${f(px(x))}" y="${f(py(0) + 16)}" text-anchor="middle">${Math.round(x)}</text>`);
  }
  parts.push(`<rect x="${M.left}" y="${M.top}" width="${PW}" height="${PH}" fill="none" stroke="#444"/>`);
  parts.push(`<text x="${M.left + PW / 2}" y="${HEIGHT - 10}" text-anchor="middle">words of benign text (per side for padding; document length)</text>`);
  parts.push(`<text transform="translate(14 ${f(py(0.5))}) rotate(-90)" text-anchor="middle">share flagged</text>`);
  series.forEach((s, k) => {
    if (s.points.length) {
      const d = s.points.map((p, i) => `${i ? 'L' : 'M'}${f(px(p.x))},${f(py(p.y))}`).join(' ');
      parts.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
      for (const p of s.points) parts.push(`<circle cx="${f(px(p.x))}" cy="${f(py(p.y))}" r="3" fill="${s.color}"/>`);
    }
    const ly = M.top + 12 + k * 18;
    parts.push(`<line x1="${WIDTH - M.right + 12}" y1="${ly - 4}" x2="${WIDTH - M.right + 32}" y2="${ly - 4}" stroke="${s.color}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4"' : ''}/>`);
    parts.push(`<text x="${WIDTH - M.right + 36}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
