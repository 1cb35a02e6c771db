import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { startRealGateway, type RealGateway } from './realGateway';

/**
 * A client's traceparent joins its trace, but its sampled flag does not decide the gateway's own
 * spans: with the SDK's parent-based default, `-00` from any client turned off the spans of its
 * requests, a blocked jailbreak's included. OTEL_TRACES_SAMPLER stays the operator's choice.
 */
const SERVER = 2;
const CLIENT_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CLIENT_SPAN = 'b7ad6b7169203331';

describe('a client traceparent with the sampled flag off', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  let requestId: string;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    gw = await startRealGateway();
    const res = await fetch(`${gw.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${CLIENT_TRACE}-${CLIENT_SPAN}-00` },
      body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'zzjailbreak please' }] }),
    });
    expect(res.status).toBe(400);
    await res.arrayBuffer();
    requestId = res.headers.get('x-request-id')!;
    await flushTelemetry(5000);
    await receiver.waitFor(() => receiver.spans.some((s) => s.kind === SERVER && s.attributes['safety.request.id'] === requestId), 10_000, 'the request span');
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
  });

  test("still leaves the request span, in the client's trace under its span, and the guard spans under it", () => {
    const server = receiver.spans.find((s) => s.kind === SERVER && s.attributes['safety.request.id'] === requestId)!;
    expect(server).toMatchObject({ traceId: CLIENT_TRACE, parentSpanId: CLIENT_SPAN });
    expect(server.attributes['gen_ai.security.action']).toBe('block');
    const guards = receiver.spans.filter((s) => s.parentSpanId === server.spanId && s.name.startsWith('apply_guardrail'));
    expect(guards.length).toBeGreaterThan(0);
  });
});
