import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { startRealGateway, type RealGateway } from './realGateway';

/** Issue 17: a Responses call is measured as chat calls are: route, GenAI operation `chat`, input and output tokens. */
describe('GET /metrics after /v1/responses', () => {
  let gw: RealGateway;
  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    gw = await startRealGateway();
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  test('requests by route, engine duration and token usage by GenAI operation and token type', async () => {
    await gw.script({ reply: 'A fine answer.' });
    const res = await fetch(`${gw.baseUrl}/responses`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', input: 'hello' }) });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const text = await (await fetch(`${gw.gateway.url}/metrics`)).text();
    expect(text).toMatch(/^safety_requests_total\{.*http_route="\/v1\/responses".*\} 1$/m);
    expect(text).toMatch(/^gen_ai_client_operation_duration_count\{gen_ai_operation_name="chat",gen_ai_request_model="dev".*\} 1$/m);
    for (const type of ['input', 'output']) expect(text).toMatch(new RegExp(`^gen_ai_client_token_usage_count\\{gen_ai_operation_name="chat".*gen_ai_token_type="${type}".*\\} 1$`, 'm'));
  });
});
