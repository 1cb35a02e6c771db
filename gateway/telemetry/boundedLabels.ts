/**
 * Metric label values a client chooses (the `model` it names, and what an engine that echoes it
 * answers) would make a series per value: unbounded memory in the SDK and in Prometheus, and past
 * the SDK's 2,000 series per instrument the real models fold into an overflow series. The first
 * `max` distinct values a process sees are kept as they are, every later one is `other`. Spans
 * and the audit keep the real value.
 */
export class BoundedLabels {
  private readonly seen = new Set<string>();

  constructor(private readonly max: number) {}

  label(value: string | undefined): string | undefined {
    if (!value || this.seen.has(value)) return value;
    if (this.seen.size < this.max) {
      this.seen.add(value);
      return value;
    }
    return 'other';
  }
}
