/**
 * Up/down state of each upstream. A failed request marks an upstream down at once (the next
 * requests go elsewhere first); only a passing health check brings it back, so one lucky request
 * does not send traffic back to a flapping replica. An upstream whose stream sent no headers in
 * time is held down for a while whatever its health checks say: a replica that accepts requests and never answers often
 * still answers its health route, and was back in the rotation (and its share of requests timing
 * out) at the next check.
 */
export class UpstreamHealth {
  private readonly up: boolean[];
  /** Per upstream, until when (Date.now()) a passing health check does not bring it back. */
  private readonly heldUntil: number[];

  constructor(
    count: number,
    private readonly onChange: (index: number, up: boolean, reason: string) => void = () => undefined,
  ) {
    this.up = Array.from({ length: count }, () => true);
    this.heldUntil = Array.from({ length: count }, () => 0);
  }

  isUp(index: number): boolean {
    return this.up[index] ?? false;
  }

  /** `holdMs`: how long health checks cannot bring it back (a timeout's). */
  failed(index: number, reason: string, holdMs = 0): void {
    if (holdMs > 0) this.heldUntil[index] = Math.max(this.heldUntil[index] ?? 0, Date.now() + holdMs);
    this.set(index, false, reason);
  }

  checked(index: number, ok: boolean): void {
    if (ok && Date.now() < (this.heldUntil[index] ?? 0)) return;
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
