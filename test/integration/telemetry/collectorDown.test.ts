import { auditLines } from '../../../gateway/audit/auditFiles';
import { readEntries } from '../../../gateway/audit/auditQuery';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { readSse } from '../../support/gatewayHarness';
import { startRealGateway, type RealGateway } from './realGateway';
import { closedPort } from '../../support/closedPort';

/**
 * The collector is down for the whole test: the OTLP exporters fail (and may drop), but every
 * request still has exactly one decision in the audit log, before its response completed.
 */

describe('collector down', () => {
  let gw: RealGateway;
  const logged: string[] = [];

  beforeAll(async () => {
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${await closedPort()}`;
    process.env.OTEL_EXPORTER_OTLP_TIMEOUT = '500';
    gw = await startRealGateway({ log: (line) => logged.push(line) });
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry(2000);
  });

  test('the audit log holds exactly one decision per request', async () => {
    const ids: string[] = [];
    const expected = new Map<string, string>();
    for (let i = 0; i < 6; i++) {
      const res = await gw.chat({ messages: [{ role: 'user', content: `question ${i}` }] });
      await res.arrayBuffer();
      ids.push(res.headers.get('x-request-id')!);
      expected.set(ids[ids.length - 1], 'allow');
      const blocked = await gw.chat({ messages: [{ role: 'user', content: `zzjailbreak ${i}` }] });
      expect(blocked.status).toBe(400);
      await blocked.arrayBuffer();
      ids.push(blocked.headers.get('x-request-id')!);
      expected.set(ids[ids.length - 1], 'block');
      // The audit record is written before the response completes: check while telemetry is failing.
      expect(readEntries(gw.auditDir).entries.map((e) => e.request_id)).toEqual(ids);
    }
    await gw.script({ reply: 'zzs1 bad answer' });
    const streamed = await gw.chat({ stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    expect((await readSse(streamed)).join()).toContain('content_filter');
    ids.push(streamed.headers.get('x-request-id')!);
    expected.set(ids[ids.length - 1], 'block');

    // Telemetry tries and fails; nothing of that reaches the audit log or the answers.
    await flushTelemetry(1500);
    const { entries, unreadable } = readEntries(gw.auditDir);
    expect(unreadable).toBe(0);
    expect(entries).toHaveLength(ids.length);
    expect(new Map(entries.map((e) => [e.request_id, e.action]))).toEqual(expected);
    expect(verifyChain(auditLines(gw.auditDir))).toMatchObject({ ok: true, records: 13 });
    // The operator is told, once, in one line (no stack trace), without OTEL_LOG_LEVEL.
    const failures = logged.filter((l) => l.startsWith('telemetry: the OpenTelemetry SDK reported an error'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/dropped; the audit log has every decision$/);
    expect(failures[0]).not.toContain('\n');
  });
});
