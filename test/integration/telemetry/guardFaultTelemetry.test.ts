import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { latestMetric, startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { remoteLlamaGuardPolicy } from '../../support/remoteGuardPolicy';
import { startRealGateway, type RealGateway } from './realGateway';
import { closedPort } from '../../support/closedPort';


/**
 * A guard that is down stops the request with a 503 (on_error: block): an outage, which the audit,
 * the metrics and x-safety-verdict call `error`. The decision log record and the request span
 * must say the same, or outages are counted as content blocks.
 */
describe('a guard fault in telemetry', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    gw = await startRealGateway({ policy: remoteLlamaGuardPolicy(`http://127.0.0.1:${await closedPort()}/v1`, 'meta-llama/Llama-Guard-3-8B', { guard: { timeout_ms: 400 } }) });
    const res = await gw.chat({ messages: [{ role: 'user', content: 'hello' }] });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-safety-verdict')).toBe('error');
    requestId = res.headers.get('x-request-id')!;
    await res.arrayBuffer();
    await flushTelemetry(5000);
    await receiver.waitFor(() => receiver.logs.some((l) => l.eventName === 'safety.decision') && !!latestMetric(receiver, 'safety.requests'), 10_000, 'guard fault telemetry');
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
  });

  test('the decision log record, the request span and the requests metric all say error, not block', () => {
    const decision = receiver.logs.find((l) => l.eventName === 'safety.decision' && l.attributes['safety.request.id'] === requestId)!;
    expect(decision.attributes).toMatchObject({ 'gen_ai.security.action': 'error', 'safety.status': 503 });
    const server = receiver.spans.find((s) => s.kind === 2 && s.attributes['safety.request.id'] === requestId)!;
    expect(server.attributes['gen_ai.security.action']).toBe('error');
    const requests = latestMetric(receiver, 'safety.requests')!;
    expect(requests.points.map((p) => p.attributes['gen_ai.security.action'])).toEqual(['error']);
  });

  test('the guard run: its span, its verdict log record and the guard verdicts metric say error too (a dashboard of blocks by rule counts no outage)', async () => {
    await receiver.waitFor(() => !!latestMetric(receiver, 'safety.guard.verdicts'), 10_000, 'guard verdicts metric');
    const run = receiver.spans.find((s) => s.name.startsWith('apply_guardrail') && s.attributes['gen_ai.security.rule.id'] !== undefined)!;
    expect(run.attributes).toMatchObject({ 'gen_ai.security.action': 'error', 'gen_ai.security.rule.action': 'block' });
    const verdicts = latestMetric(receiver, 'safety.guard.verdicts')!;
    expect(verdicts.points.map((p) => p.attributes['gen_ai.security.action'])).toEqual(['error']);
    const verdictLog = receiver.logs.find((l) => l.eventName === 'safety.guard.verdict' && l.attributes['safety.request.id'] === requestId)!;
    expect(verdictLog.attributes['gen_ai.security.action']).toBe('error');
  });
});
