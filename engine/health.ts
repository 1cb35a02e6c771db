/**
 * Up/down state of each upstream. A failed request marks an upstream down at once (the next
 * requests go elsewhere first); only a passing health check brings it back, so one lucky request
 * does not send traffic back to a flapping replica.
 */
export class UpstreamHealth {
  private readonly up: boolean[];

  constructor(
    count: number,
    private readonly onChange: (index: number, up: boolean, reason: string) => void = () => undefined,
  ) {
    this.up = Array.from({ length: count }, () => true);
  }

  isUp(index: number): boolean {
    return this.up[index] ?? false;
  }

  failed(index: number, reason: string): void {
    this.set(index, false, reason);
  }

  checked(index: number, ok: boolean): void {
    this.set(index, ok, ok ? 'health check passed' : 'health check failed');
  }

  get upCount(): number {
    return this.up.filter(Boolean).length;
  }

  private set(index: number, up: boolean, reason: string): void {
    if (this.up[index] === up) return;
    this.up[index] = up;
    this.onChange(index, up, reason);
  }
}
