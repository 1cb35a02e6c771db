import { readEntries } from '../../../gateway/audit/auditQuery';
import { flushTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { fixturePolicyVariant } from '../../support/policyFiles';
import { exportingGateway } from './realGateway';

const SERVER = 2;
const CLIENT = 3;

/**
 * The engine breaks its stream after checked text went out (window mode): the client gets an error
 * event and the audit record says 502 engine_error, partial. The engine's CLIENT span and the engine
 * duration metric must say the call failed too, not read as a success because part of an answer came.
 */
describe('telemetry of an engine that broke off mid-stream', () => {
  const exporting = exportingGateway({ policy: fixturePolicyVariant((y) => y.replace('mode: buffer', 'mode: window')) });

  test('the engine span has ERROR and error.type, and the engine duration histogram counts the call as failed', async () => {
    const receiver = exporting.receiver();
    const gw = exporting.gateway();
    await gw.script({ reply: 'rivers flow to the sea and lakes are calm. '.repeat(40), drop_after_chunks: 200, token_delay_ms: 3 });
    const res = await gw.chat({ stream: true, messages: [{ role: 'user', content: 'tell me about rivers' }] });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('" flow"');
    expect(text).toContain('"error"');
    const id = res.headers.get('x-request-id')!;
    const audit = readEntries(gw.auditDir).entries.find((e) => e.request_id === id) as unknown as Record<string, unknown>;
    expect(audit).toMatchObject({ status: 502, partial: true });
    const server = () => receiver.spans.find((s) => s.kind === SERVER && s.attributes['safety.request.id'] === id);
    const engine = () => receiver.spans.find((s) => s.kind === CLIENT && s.parentSpanId === server()?.spanId);
    for (let i = 0; i < 30 && !engine(); i++) {
      await flushTelemetry(2000);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(engine()!.status.code).toBe(2);
    expect(engine()!.attributes['error.type']).toBe('engine_error');
    const metrics = (await (await fetch(`${gw.gateway.url}/metrics`)).text()).split('\n').filter((l) => l.startsWith('gen_ai_client_operation_duration_count'));
    expect(metrics).toEqual([expect.stringMatching(/error_type="engine_error"/)]);
  });
});
