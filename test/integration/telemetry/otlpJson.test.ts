import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { latestMetric, startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { exportOneChat, startRealGateway, type RealGateway } from './realGateway';

/** OTEL_EXPORTER_OTLP_PROTOCOL=http/json selects the JSON encoding for all three signals. */
describe('OpenTelemetry export over OTLP http/json', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_EXPORTER_OTLP_PROTOCOL = 'http/json';
    process.env.OTEL_EXPORTER_OTLP_HEADERS = 'x-collector-token=test-token';
    gw = await startRealGateway();
    requestId = await exportOneChat(gw, receiver, { prompt: 'JSON-PROMPT-MARKER how are rivers', reply: 'JSON-ANSWER-MARKER calm waters', what: 'json telemetry' });
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
  });

  test('every signal arrives as JSON and decodes to the same spans, logs and metrics', () => {
    expect(new Set(receiver.bodies.map((b) => b.path))).toEqual(new Set(['/v1/traces', '/v1/logs', '/v1/metrics']));
    expect(receiver.bodies.every((b) => b.contentType.startsWith('application/json'))).toBe(true);
    expect(receiver.bodies.every((b) => b.headers['x-collector-token'] === 'test-token')).toBe(true);
    const server = receiver.spans.find((s) => s.kind === 2 && s.attributes['safety.request.id'] === requestId)!;
    const engine = receiver.spans.find((s) => s.kind === 3 && s.parentSpanId === server.spanId)!;
    expect(engine.attributes).toMatchObject({ 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': 'dev', 'gen_ai.response.finish_reasons': ['stop'] });
    const decision = receiver.logs.find((l) => l.eventName === 'safety.decision')!;
    expect(decision.traceId).toBe(server.traceId);
    expect(decision.attributes).toMatchObject({ 'safety.request.id': requestId, 'gen_ai.security.action': 'allow' });
    expect(latestMetric(receiver, 'safety.requests')!.points[0].value).toBe(1);
  });

  test('no prompt or answer text in the JSON payloads', () => {
    const all = Buffer.concat(receiver.bodies.map((b) => b.bytes)).toString('utf8');
    expect(all).not.toContain('MARKER');
    expect(all).not.toContain('rivers');
  });
});
