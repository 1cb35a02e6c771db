import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { startFakeClassifier, type FakeClassifierServer } from '../support/fakeClassifierServers';
import { startFakeGuardServer, type FakeGuardServer } from '../support/fakeGuardServers';
import { localDeployPolicy } from './deployedPolicy';
import { startRecordingProxy, type RecordingProxy } from './recordingProxy';

/**
 * A gateway that exports no traces (no collector named) still passes the client's W3C trace
 * context on, unchanged, to the engine and the guard servers (Llama Guard, Prompt Guard), so their spans join the app's
 * trace; and it invents none for a client that sent none. Real loopback servers throughout.
 */
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const TRACESTATE = 'app=t61rcWkgMzE';
const LLAMA_GUARD_KEY = 'lg-test-key-0123456789';

describe('traceparent passed through by a gateway that exports no traces', () => {
  let engine: DevEngine;
  let proxy: RecordingProxy;
  let guard: FakeGuardServer;
  let promptGuard: FakeClassifierServer;
  let gateway: RunningGateway;

  let asked = 0;
  // A prompt of its own per request: an identical one would be answered from the guards' verdict cache, without a guard call.
  const chat = (headers: Record<string, string>) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify({ model: 'llama-3.1-405b', messages: [{ role: 'user', content: `Name three rivers in Europe (${++asked}).` }] }),
    });
  const engineCalls = () => proxy.exchanges.filter((e) => e.path === '/v1/chat/completions');

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    process.env.LLAMA_GUARD_API_KEY = LLAMA_GUARD_KEY;
    engine = await startDevEngine({ tokenDelayMs: 0 });
    proxy = await startRecordingProxy(engine.url);
    guard = await startFakeGuardServer('vllm', { apiKey: LLAMA_GUARD_KEY });
    promptGuard = await startFakeClassifier('tei', { labels: ['BENIGN', 'MALICIOUS'], model: 'meta-llama/Llama-Prompt-Guard-2-86M' });
    const config = GatewayConfig.parse({
      port: 0,
      policy: localDeployPolicy({ llamaGuard: guard.baseUrl, promptGuard: promptGuard.url }),
      engine: { url: `${proxy.url}/v1` },
      audit: { dir: mkdtempSync(path.join(tmpdir(), 'sg-audit-')) },
    });
    gateway = await startGateway({ config });
  });
  afterAll(async () => {
    await gateway?.shutdown(1000);
    await shutdownTelemetry();
    await Promise.all([proxy?.close(), guard?.close(), promptGuard?.close(), engine?.close()]);
    delete process.env.LLAMA_GUARD_API_KEY;
  });

  test("the client's traceparent and tracestate reach the engine and every guard request as they were sent", async () => {
    const res = await chat({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(engineCalls()).toHaveLength(1);
    expect(engineCalls()[0].headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    expect(guard.requests.length).toBeGreaterThanOrEqual(2);
    for (const r of guard.requests) expect(r.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
    expect(promptGuard.requests.length).toBeGreaterThanOrEqual(1);
    for (const r of promptGuard.requests) expect(r.headers).toMatchObject({ traceparent: TRACEPARENT, tracestate: TRACESTATE });
  });

  test("the client's baggage header goes no further: it can carry anything (an e-mail address, a token)", async () => {
    const seenEngine = engineCalls().length;
    const seenGuard = guard.requests.length;
    const seenPromptGuard = promptGuard.requests.length;
    const res = await chat({ traceparent: TRACEPARENT, baggage: 'user.email=alice%40corp.com,secret=sk-abc' });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const sent = [...engineCalls().slice(seenEngine), ...guard.requests.slice(seenGuard), ...promptGuard.requests.slice(seenPromptGuard)];
    expect(sent.length).toBeGreaterThanOrEqual(3);
    for (const r of sent) {
      expect(r.headers.traceparent).toBe(TRACEPARENT);
      expect(r.headers.baggage).toBeUndefined();
    }
  });

  test('a request without one sends none on', async () => {
    const seenEngine = engineCalls().length;
    const seenGuard = guard.requests.length;
    const seenPromptGuard = promptGuard.requests.length;
    const res = await chat({});
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    expect(engineCalls()).toHaveLength(seenEngine + 1);
    expect(engineCalls()[seenEngine].headers.traceparent).toBeUndefined();
    const later = guard.requests.slice(seenGuard);
    expect(later.length).toBeGreaterThanOrEqual(2);
    for (const r of later) expect(r.headers.traceparent).toBeUndefined();
    const laterPromptGuard = promptGuard.requests.slice(seenPromptGuard);
    expect(laterPromptGuard.length).toBeGreaterThanOrEqual(1);
    for (const r of laterPromptGuard) expect(r.headers.traceparent).toBeUndefined();
  });
});
