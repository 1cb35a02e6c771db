/**
 * A one-line progress bar for long evaluation runs, drawn on stderr so stdout (the report or the
 * `--json` object) stays clean. The command decides whether to draw at all (TTY or --progress).
 */

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** The bar's text for `done` of `total` after `elapsedMs`: `[#####.....]  50% 500/1000 12.5/s ETA 40s`. */
export function renderProgress(done: number, total: number, elapsedMs: number, width = 30): string {
  const fraction = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(fraction * width);
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0;
  const eta = rate > 0 ? (total - done) / rate : NaN;
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent} ${done}/${total} ${rate.toFixed(1)}/s ETA ${formatDuration(eta)}`;
}

export interface ProgressBar {
  update(done: number): void;
  finish(): void;
}

/** Redraws at most every `intervalMs` (a redraw per record would cost more than it shows). */
export function createProgressBar(total: number, write: (text: string) => void, now: () => number = Date.now, intervalMs = 200): ProgressBar {
  const started = now();
  let lastDrawnAt = -Infinity;
  let drawn = -1;
  let last = 0;
  const draw = (done: number) => {
    drawn = done;
    write(`\r${renderProgress(done, total, now() - started)}`);
  };
  return {
    update(done) {
      last = done;
      const t = now();
      if (t - lastDrawnAt < intervalMs && done < total) return;
      lastDrawnAt = t;
      draw(done);
    },
    finish() {
      if (drawn !== last) draw(last);
      write('\n');
    },
  };
}

/** A bar that draws nothing, for runs without a terminal. */
export const noProgress: ProgressBar = { update: () => undefined, finish: () => undefined };
