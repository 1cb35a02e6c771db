import { shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { startRealGateway, type RealGateway } from './realGateway';

/** No collector named: nothing is pushed, but GET /metrics serves the metrics and /readyz is green. */
describe('GET /metrics without a collector', () => {
  let gw: RealGateway;
  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    gw = await startRealGateway();
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
  });

  test('counts requests and guard verdicts, in Prometheus text format', async () => {
    const res = await gw.chat({ messages: [{ role: 'user', content: 'zzjailbreak now' }] });
    expect(res.status).toBe(400);
    await res.arrayBuffer();
    const metrics = await fetch(`${gw.gateway.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    expect(text).toMatch(/^safety_requests_total\{gen_ai_security_action="block",http_response_status_code="400",.*\} 1$/m);
    expect(text).toMatch(/^safety_guard_verdicts_total\{.*gen_ai_security_rule_id="jailbreak",gen_ai_security_action="block".*\} 1$/m);
    expect(text).toMatch(/^safety_audit_records_total\{safety_outcome="written".*\} 1$/m);
    expect(text).not.toContain('zzjailbreak');
    // The process's command line (engine URL, paths) is not published as a resource attribute.
    expect(text).toMatch(/^target_info\{.*service_name="safety-gateway"/m);
    expect(text).not.toMatch(/process_command|process_executable/);
  });

  test('readyz is green with a writable audit log', async () => {
    const ready = await fetch(`${gw.gateway.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { problems: object }).problems).toEqual({});
  });
});
