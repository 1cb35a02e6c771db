import { exportErrorLogger } from '../../../gateway/telemetry/exportErrors';

describe('exportErrorLogger: collector failures in the operator log', () => {
  test('one line at the first failure, then at most one a minute counting the others; messages bounded, no stack', () => {
    const lines: string[] = [];
    let now = 0;
    const onError = exportErrorLogger((l) => lines.push(l), () => now, 60_000);
    const err = new Error('connect ECONNREFUSED 127.0.0.1:4318\n    at TCPConnectWrap.afterConnect');
    onError(err);
    now = 10_000;
    onError(err);
    onError('Bad Request');
    now = 61_000;
    onError(new Error('x'.repeat(500)));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('telemetry: the OpenTelemetry SDK reported an error (connect ECONNREFUSED 127.0.0.1:4318 at TCPConnectWrap.afterConnect), most often an export to the collector that failed, whose spans, log records or metrics are dropped; the audit log has every decision');
    expect(lines[1]).toMatch(/^telemetry: the OpenTelemetry SDK reported an error \(x{200}\.\.\.\), .*dropped; 2 more errors since the last line; /);
  });
});
