import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { latestMetric, startOtlpGrpcReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { exportOneChat, startRealGateway, type RealGateway } from './realGateway';

/** OTEL_EXPORTER_OTLP_PROTOCOL=grpc sends all three signals to a real gRPC receiver (the Collector's :4317). */
describe('OpenTelemetry export over OTLP gRPC', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startOtlpGrpcReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'grpc';
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-collector-token=grpc-token';
    process.env.OTEL_SERVICE_NAME = 'safety-gateway-grpc';
    gw = await startRealGateway();
    requestId = await exportOneChat(gw, receiver, { prompt: 'GRPC-PROMPT-MARKER how deep is the lake', reply: 'GRPC-ANSWER-MARKER still waters', what: 'grpc telemetry', timeoutMs: 15_000 });
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    delete process.env.OTEL_EXPORTER_OTLP_HEADERS;
  });

  test('spans, log records and metrics arrive through the three Export services, with the configured headers', () => {
    expect(new Set(receiver.bodies.map((b) => b.path))).toEqual(new Set(['/v1/traces', '/v1/logs', '/v1/metrics']));
    expect(receiver.bodies.every((b) => b.headers['x-collector-token'] === 'grpc-token')).toBe(true);
    const server = receiver.spans.find((s) => s.kind === 2 && s.attributes['safety.request.id'] === requestId)!;
    expect(server.resource['service.name']).toBe('safety-gateway-grpc');
    const engine = receiver.spans.find((s) => s.kind === 3 && s.parentSpanId === server.spanId)!;
    expect(engine.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'dev', 'gen_ai.response.finish_reasons': ['stop'] });
    const guards = receiver.spans.filter((s) => s.parentSpanId === server.spanId && s.attributes['gen_ai.security.guardrail.name'] !== undefined);
    expect(guards.length).toBeGreaterThan(0);
    const decision = receiver.logs.find((l) => l.eventName === 'safety.decision')!;
    expect(decision.traceId).toBe(server.traceId);
    expect(decision.attributes).toMatchObject({ 'safety.request.id': requestId, 'gen_ai.security.action': 'allow' });
    expect(latestMetric(receiver, 'safety.requests')!.points[0].value).toBe(1);
  });

  test('no prompt or answer text in what was sent', () => {
    const all = Buffer.concat(receiver.bodies.map((b) => b.bytes)).toString('utf8');
    expect(all).not.toContain('MARKER');
    expect(all).not.toContain('lake');
  });
});
