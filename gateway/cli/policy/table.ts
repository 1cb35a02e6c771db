/** Pure: rows as aligned columns (no borders), the way `kubectl get` prints. The last column is not padded. */
export function renderTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** Scores and thresholds with four decimals at most, trailing zeros dropped. */
export function fmtScore(n: number): string {
  return n.toFixed(4).replace(/0+$/, '').replace(/\.$/, '');
}
