import net from 'node:net';
import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { startRealGateway, type RealGateway } from './realGateway';

/**
 * A client that disconnects mid-stream: the response closes at once, the decision (a 499) is
 * recorded a moment later, and the request span must still carry it, not end before it.
 */
const SERVER = 2;

describe('request span of a client that left', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_SERVICE_NAME = 'safety-gateway-test';
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    gw = await startRealGateway();
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
  });

  test('the span ends after the decision is recorded on it', async () => {
    await gw.script({ reply: 'slow answer '.repeat(60), token_delay_ms: 40 });
    const controller = new AbortController();
    // The fixture policy buffers streams: nothing, not even headers, comes before the whole answer is checked.
    const request = fetch(`${gw.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dev', stream: true, messages: [{ role: 'user', content: 'tell me a long story' }] }),
      signal: controller.signal,
    }).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 400));
    controller.abort();
    await request;
    // The only request of this gateway: its server span.
    const span = () => receiver.spans.find((s) => s.kind === SERVER && String(s.attributes['url.path'] ?? '').endsWith('/chat/completions'));
    for (let i = 0; i < 50 && !span(); i++) {
      await flushTelemetry(2000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const server = span()!;
    expect(server).toBeDefined();
    expect(server.attributes['error.type']).toBe('client_closed');
    // Set by the decision record, after the client had gone.
    expect(server.attributes['safety.status']).toBe(499);
    expect(server.attributes['gen_ai.security.action']).toBeDefined();
    // No answer was sent: the span's HTTP status and the latency histogram say 499 and no verdict,
    // not the unsent default 200 and a placeholder `allow` (the server-errors alert reads the histogram).
    expect(server.attributes['http.response.status_code']).toBe(499);
    const histogram = (await (await fetch(`${gw.gateway.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('safety_request_duration_seconds_count') && l.includes('/v1/chat/completions'));
    expect(histogram).toEqual([expect.stringMatching(/http_response_status_code="499"/)]);
    expect(histogram[0]).toMatch(/gen_ai_security_action="none"/);
  });

  test('a client gone while its request is admitted: the span still carries the 499', async () => {
    // A long prompt is counted in slices (yielding), so the close lands during admission, before
    // the guarded call holds the span.
    const body = JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'word '.repeat(40_000) }] });
    const url = new URL(gw.baseUrl);
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(url.port), url.hostname, () => {
        socket.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`, () => {
          socket.destroy();
          resolve();
        });
      });
    });
    const spans = () => receiver.spans.filter((s) => s.kind === SERVER && String(s.attributes['url.path'] ?? '').endsWith('/chat/completions'));
    for (let i = 0; i < 50 && spans().length < 2; i++) {
      await flushTelemetry(2000);
      await new Promise((r) => setTimeout(r, 100));
    }
    const server = spans()[1];
    expect(server).toBeDefined();
    expect(server.attributes['error.type']).toBe('client_closed');
    expect(server.attributes['safety.status']).toBe(499);
  });
});
