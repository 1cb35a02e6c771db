import { createProgressBar, renderProgress } from '../../../gateway/cli/eval/progress';
import { dataText, fmtMetric, renderConsoleSummary, renderReport, thresholdText, type RunInfo } from '../../../gateway/cli/eval/report';
import { emptySkips } from '../../../gateway/cli/eval/selection';
import { summarize } from '../../../gateway/cli/eval/summary';
import { curvePath, escapeXml, prSvg, rocSvg, simplify } from '../../../gateway/cli/eval/svgPlot';

const run: RunInfo = {
  guard: 'prompt_guard',
  model: 'pg',
  policy: 'p@abc',
  policy_file: 'p.yaml',
  data: ['d.jsonl'],
  split: 'test',
  task: 'A',
  limit: null,
  threshold_source: 'policy',
  timeout_ms: 60000,
  records_read: 3,
  skipped: { ...emptySkips(), unclear: 1 },
  seconds: 1.25,
};
const { summary, curves } = summarize(
  [
    { id: 'a-1', dataset: 'a', role: 'user', text: '', label: 'benign', recordLabel: 'benign', positive: false, categories: [] },
    { id: 'b-1', dataset: 'b', role: 'user', text: '', label: 'jailbreak', recordLabel: 'jailbreak', positive: true, categories: ['jailbreak_template'] },
  ],
  [
    { score: 0.2, label: 'BENIGN', categories: [] },
    { error: { type: 'timeout', message: 'too slow' } },
  ],
  () => 0.9,
);

describe('Markdown report', () => {
  const md = renderReport(run, summary, { roc: 'roc.svg', pr: 'pr.svg' });

  it('shows the headline figures, undefined ones as n/a', () => {
    expect(md).toContain('| AUROC | n/a |');
    expect(md).toContain('| FPR @ 0.9 | 0.000 |');
    expect(md).toContain('left out: 1 unclear');
  });

  it('links both plots and has the confusion matrix', () => {
    expect(md).toContain('![ROC curve](roc.svg) ![Precision-recall curve](pr.svg)');
    expect(md).toContain('| **negative** | 0 | 1 |');
  });

  it('says how many guard errors were excluded', () => {
    expect(md).toContain('guard errors: 1 (excluded from every figure)');
    expect(md).toContain('- `b-1` timeout: too slow');
  });

  it('has a console summary too', () => {
    expect(renderConsoleSummary(run, summary)).toMatch(/guard errors\s+1 \(excluded; timeout 1\)/);
  });

  it('names many files of one data folder compactly', () => {
    const files = ['a', 'b', 'c', 'd'].map((n) => `../shared/data/${n}/${n}.jsonl`);
    expect(dataText(files)).toBe('4 datasets under `../shared/data`: a, b, c, d');
    expect(dataText(files.slice(0, 2))).toBe('`../shared/data/a/a.jsonl`, `../shared/data/b/b.jsonl`');
  });

  it('formats metrics and thresholds', () => {
    expect(fmtMetric(null)).toBe('n/a');
    expect(fmtMetric(0.12345)).toBe('0.123');
    expect(thresholdText({ threshold: null, thresholds: { user: 0.9, assistant: 0.5 } })).toBe('user 0.9, assistant 0.5');
  });
});

describe('SVG plots', () => {
  it('draws the ROC curve with the chance line and the operating point', () => {
    const svg = rocSvg([{ threshold: Infinity, fpr: 0, tpr: 0 }, { threshold: 0.5, fpr: 0, tpr: 1 }, { threshold: 0.1, fpr: 1, tpr: 1 }], 1, { fpr: 0, tpr: 1, label: 'threshold 0.5' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg).toContain('ROC (AUROC 1.000)');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).toContain('<circle');
    // (0,0) -> (0,1) -> (1,1) in pixels: left 56, right 464, top 36, bottom 372
    expect(svg).toContain('d="M56,372 L56,36 L464,36"');
  });

  it('draws precision-recall as the steps average precision sums', () => {
    // P 1 up to recall .5, then P 2/3 up to recall 1
    const d = curvePath([{ x: 0.5, y: 1 }, { x: 0.5, y: 0.5 }, { x: 1, y: 2 / 3 }], 'steps');
    expect(d).toBe('M56,36 L260,36 L260,148 L464,148');
  });

  it('says why a curve is missing instead of drawing nothing', () => {
    expect(rocSvg(null, null, { fpr: null, tpr: null, label: '' })).toContain('undefined: needs both positives and negatives');
    expect(prSvg(null, null, null, { recall: null, precision: null, label: '' })).toContain('undefined: no positives');
  });

  it('keeps large curves small and escapes text', () => {
    const many = Array.from({ length: 20000 }, (_, i) => ({ x: i / 20000, y: Math.sqrt(i / 20000) }));
    expect(simplify(many).length).toBeLessThan(1000);
    expect(escapeXml('a<b & "c"')).toBe('a&lt;b &amp; &quot;c&quot;');
  });
});

describe('progress bar', () => {
  it('renders done / total, rate and ETA', () => {
    expect(renderProgress(50, 100, 10_000, 10)).toBe('[#####.....]  50% 50/100 5.0/s ETA 10s');
    expect(renderProgress(0, 100, 0, 10)).toBe('[..........]   0% 0/100 0.0/s ETA --');
  });

  it('redraws at most every interval, always at the end, and ends the line', () => {
    const writes: string[] = [];
    let t = 0;
    const bar = createProgressBar(3, (s) => writes.push(s), () => t, 200);
    bar.update(1);
    t = 50;
    bar.update(2); // too soon: skipped
    t = 100;
    bar.update(3); // the last one: drawn
    bar.finish();
    expect(writes.filter((w) => w.startsWith('\r'))).toHaveLength(2);
    expect(writes[writes.length - 1]).toBe('\n');
  });
});

it('uses the curves of summarize', () => {
  expect(curves.roc).toBeNull();
});
