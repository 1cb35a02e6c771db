import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../../engine/devEngine/server';
import { GatewayConfig } from '../../../gateway/config';
import { startGateway, type RunningGateway } from '../../../gateway/server';
import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { FIXTURE_POLICY } from '../../support/gatewayHarness';
import { latestMetric, startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';

/**
 * A dev engine and a gateway wired as `npm start` wires them: no recorder passed, so decisions go
 * to the real audit log (in a fresh temporary directory) and OpenTelemetry.
 */
export interface RealGateway {
  engine: DevEngine;
  gateway: RunningGateway;
  auditDir: string;
  baseUrl: string;
  script(entry: Record<string, unknown>): Promise<void>;
  chat(body: Record<string, unknown>): Promise<Response>;
  close(): Promise<void>;
}

export async function startRealGateway(options: { policy?: string; config?: Record<string, unknown>; log?: (line: string) => void } = {}): Promise<RealGateway> {
  const engine = await startDevEngine({ tokenDelayMs: 0 });
  const auditDir = mkdtempSync(path.join(tmpdir(), 'sg-audit-'));
  const { audit, ...rest } = options.config ?? {};
  const config = GatewayConfig.parse({ port: 0, policy: options.policy ?? FIXTURE_POLICY, engine: { url: engine.baseUrl }, audit: { dir: auditDir, ...(audit as object | undefined) }, ...rest });
  let gateway: RunningGateway;
  try {
    gateway = await startGateway({ config, ...(options.log ? { log: options.log } : {}) });
  } catch (err) {
    await engine.close();
    throw err;
  }
  const baseUrl = `${gateway.url}/v1`;
  return {
    engine,
    gateway,
    auditDir,
    baseUrl,
    async script(entry) {
      const res = await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(entry) });
      if (!res.ok) throw new Error(`script rejected: ${await res.text()}`);
    },
    chat: (body) => fetch(`${baseUrl}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', ...body }) }),
    async close() {
      await gateway.shutdown(1000);
      await engine.close();
    },
  };
}

/**
 * One allowed chat through the gateway, then telemetry flushed until the receiver holds a whole
 * request's worth (5+ spans, 5+ log records, the request counter). Returns its x-request-id.
 */
export async function exportOneChat(
  gw: RealGateway,
  receiver: OtlpReceiver,
  { prompt, reply, what, timeoutMs = 10_000 }: { prompt: string; reply: string; what: string; timeoutMs?: number },
): Promise<string> {
  await gw.script({ reply });
  const res = await gw.chat({ messages: [{ role: 'user', content: prompt }] });
  if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  const requestId = res.headers.get('x-request-id')!;
  await flushTelemetry(5000);
  await receiver.waitFor(() => receiver.spans.length >= 5 && receiver.logs.length >= 5 && !!latestMetric(receiver, 'safety.requests'), timeoutMs, what);
  return requestId;
}

/**
 * For one describe: an OTLP receiver on loopback, and a real gateway exporting to it (http/protobuf),
 * started before the tests and closed after, telemetry shut down. The getters read them in tests.
 */
export function exportingGateway(options: Parameters<typeof startRealGateway>[0] = {}): { receiver: () => OtlpReceiver; gateway: () => RealGateway } {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    gw = await startRealGateway(options);
  });
  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
  });
  return { receiver: () => receiver, gateway: () => gw };
}
