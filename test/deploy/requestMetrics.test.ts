import { shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { readSse } from '../support/gatewayHarness';
import { startRealGateway, type RealGateway } from '../integration/telemetry/realGateway';
import { parseSamples, total, type Sample } from './prometheusText';

/**
 * What operators alert on, read where Prometheus reads it: GET /metrics of a real gateway (fixture
 * policy, dev engine, no collector) after real requests. The whole-request histogram in seconds by
 * route, method, status, stream or not and verdict; requests in flight; guard queue wait.
 */
describe('request metrics on GET /metrics', () => {
  let gw: RealGateway;
  let text: string;
  let samples: Sample[];

  const scrape = async () => {
    const res = await fetch(`${gw.gateway.url}/metrics`);
    expect(res.status).toBe(200);
    text = await res.text();
    samples = parseSamples(text);
    return samples;
  };
  /** Scrapes until `done` holds (the gauge follows the server's 'close' events); bounded by jest's timeout. */
  const scrapeUntil = async (done: (s: Sample[]) => boolean) => {
    while (!done(await scrape())) await new Promise((r) => setTimeout(r, 20));
  };
  const inFlight = (s: Sample[]) => total(s, 'safety_requests_in_flight');

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    gw = await startRealGateway();
    const allowed = await gw.chat({ messages: [{ role: 'user', content: 'tell me about rivers' }] });
    expect(allowed.status).toBe(200);
    await allowed.arrayBuffer();
    const streamed = await gw.chat({ stream: true, messages: [{ role: 'user', content: 'stream about rivers' }] });
    expect(streamed.status).toBe(200);
    await readSse(streamed);
    const blocked = await gw.chat({ messages: [{ role: 'user', content: 'zzjailbreak now' }] });
    expect(blocked.status).toBe(400);
    await blocked.arrayBuffer();
    const models = await fetch(`${gw.baseUrl}/models`);
    expect(models.status).toBe(200);
    await models.arrayBuffer();
    await (await fetch(`${gw.gateway.url}/healthz`)).arrayBuffer();
    await scrapeUntil((s) => inFlight(s) === 0 && total(s, 'safety_request_duration_seconds_count') >= 4);
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  const count = (labels: Record<string, string>) => total(samples, 'safety_request_duration_seconds_count', labels);

  test('a histogram in seconds, `_seconds` in its name', () => {
    expect(text).toContain('# TYPE safety_request_duration_seconds histogram');
    expect(text).toContain('# UNIT safety_request_duration_seconds s');
    expect(total(samples, 'safety_request_duration_seconds_sum')).toBeGreaterThan(0);
  });

  test('by route, method, status, stream or not, and the verdict the client got', () => {
    const chat = { http_route: '/v1/chat/completions', http_request_method: 'POST' };
    expect(count({ ...chat, http_response_status_code: '200', safety_stream: 'false', gen_ai_security_action: 'allow' })).toBe(1);
    expect(count({ ...chat, http_response_status_code: '200', safety_stream: 'true', gen_ai_security_action: 'allow' })).toBe(1);
    expect(count({ ...chat, http_response_status_code: '400', safety_stream: 'false', gen_ai_security_action: 'block' })).toBe(1);
    expect(count({ http_route: '/v1/models', http_request_method: 'GET', http_response_status_code: '200' })).toBe(1);
    // Every observation sits in the +Inf bucket of its series.
    for (const series of samples.filter((s) => s.name === 'safety_request_duration_seconds_count')) {
      const inf = samples.find((s) => s.name === 'safety_request_duration_seconds_bucket' && s.labels.le === '+Inf' && Object.entries(series.labels).every(([k, v]) => s.labels[k] === v));
      expect(inf?.value).toBe(series.value);
    }
  });

  test('probes and scrapes are not measured; no raw paths as labels', () => {
    expect(count({})).toBe(4);
    const routes = new Set(samples.filter((s) => s.name.startsWith('safety_request_duration_seconds')).map((s) => s.labels.http_route));
    expect(routes).toEqual(new Set(['/v1/chat/completions', '/v1/models']));
    expect(text).not.toContain('/healthz');
    expect(text).not.toContain('rivers');
  });

  test('guard queue wait: one observation per scanned segment, in seconds', () => {
    expect(text).toContain('# TYPE safety_guard_queue_wait_seconds histogram');
    expect(total(samples, 'safety_guard_queue_wait_seconds_count')).toBeGreaterThan(0);
  });

  test('requests in flight: counted while the engine holds one, back to zero once it is answered', async () => {
    await gw.script({ reply: 'slow answer', delay_ms: 1500 });
    const slow = gw.chat({ messages: [{ role: 'user', content: 'a slow one' }] });
    await scrapeUntil((s) => inFlight(s) === 1);
    const res = await slow;
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    await scrapeUntil((s) => inFlight(s) === 0);
    expect(count({ http_route: '/v1/chat/completions', http_response_status_code: '200', safety_stream: 'false' })).toBe(2);
  });
});
