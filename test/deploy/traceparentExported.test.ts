import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { flushTelemetry, shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { startFakeClassifier, type FakeClassifierServer } from '../support/fakeClassifierServers';
import { startFakeGuardServer, type FakeGuardServer } from '../support/fakeGuardServers';
import { readSse } from '../support/gatewayHarness';
import { startOtlpReceiver, type OtlpReceiver, type ReceivedSpan } from '../support/otlpReceiver';
import { localDeployPolicy } from './deployedPolicy';
import { startRecordingProxy, type RecordingProxy } from './recordingProxy';

/**
 * One trace from the client to the engine and the guard servers, with traces exported: the
 * deployment kit's policy (Llama Guard on an OpenAI-compatible server, Prompt Guard 2 on
 * text-embeddings-inference) in a real gateway; the dev engine behind a recording proxy, a
 * vLLM-like Llama Guard server and a TEI-like Prompt Guard server, all real loopback servers that
 * keep the headers they got; a real OTLP receiver for the spans.
 */
const SERVER = 2;
const CLIENT = 3;
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACE_STREAM = '0af7651916cd43dd8448eb211c80319c';
const APP_SPAN = '00f067aa0ba902b7';
const LLAMA_GUARD_KEY = 'lg-test-key-0123456789';

describe('traceparent from the client to the engine and the remote guards (traces exported)', () => {
  let receiver: OtlpReceiver;
  let engine: DevEngine;
  let proxy: RecordingProxy;
  let guard: FakeGuardServer;
  let promptGuard: FakeClassifierServer;
  let gateway: RunningGateway;
  let whole: { id: string; status: number };
  let streamed: { id: string; status: number };

  const parentOf = (traceparent: unknown) => /^00-([0-9a-f]{32})-([0-9a-f]{16})-0[01]$/.exec(String(traceparent));

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    process.env.LLAMA_GUARD_API_KEY = LLAMA_GUARD_KEY;
    engine = await startDevEngine({ tokenDelayMs: 0 });
    proxy = await startRecordingProxy(engine.url);
    // The model name the kit's policy asks for: the vLLM flavor's default.
    guard = await startFakeGuardServer('vllm', { apiKey: LLAMA_GUARD_KEY });
    // The model the kit's `prompt-guard` service serves: two labels, scored on the malicious one.
    promptGuard = await startFakeClassifier('tei', { labels: ['BENIGN', 'MALICIOUS'], model: 'meta-llama/Llama-Prompt-Guard-2-86M' });
    const config = GatewayConfig.parse({
      port: 0,
      policy: localDeployPolicy({ llamaGuard: guard.baseUrl, promptGuard: promptGuard.url }),
      engine: { url: `${proxy.url}/v1` },
      audit: { dir: mkdtempSync(path.join(tmpdir(), 'sg-audit-')) },
      telemetry: { provider_name: 'vllm' },
    });
    gateway = await startGateway({ config });

    const chat = (trace: string, body: Record<string, unknown>) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', traceparent: `00-${trace}-${APP_SPAN}-01` },
        // A prompt of its own per request: an identical one would be answered from the guards' verdict cache, without a guard call.
        body: JSON.stringify({ model: 'llama-3.1-405b', messages: [{ role: 'user', content: `Plan a birthday party for a 6 year old (trace ${trace.slice(0, 4)}).` }], ...body }),
      });
    const res = await chat(TRACE, { max_tokens: 48, temperature: 0.2, top_p: 0.9 });
    whole = { status: res.status, id: ((await res.json()) as { id: string }).id };
    const stream = await chat(TRACE_STREAM, { stream: true, max_completion_tokens: 40 });
    const events = await readSse(stream);
    streamed = { status: stream.status, id: (JSON.parse(events[0]) as { id: string }).id };

    await flushTelemetry(5000);
    await receiver.waitFor(() => receiver.spans.filter((s) => s.kind === CLIENT).length >= 2 && receiver.spans.filter((s) => s.kind === SERVER).length >= 2, 10_000, 'server and engine spans');
  });

  afterAll(async () => {
    await gateway?.shutdown(1000);
    await shutdownTelemetry();
    await Promise.all([proxy?.close(), guard?.close(), promptGuard?.close(), engine?.close(), receiver?.close()]);
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.LLAMA_GUARD_API_KEY;
  });

  const spansOf = (trace: string) => receiver.spans.filter((s) => s.traceId === trace);
  const engineSpan = (trace: string) => spansOf(trace).find((s) => s.kind === CLIENT) as ReceivedSpan;
  const engineCalls = (trace: string) => proxy.exchanges.filter((e) => e.path === '/v1/chat/completions' && parentOf(e.headers.traceparent)?.[1] === trace);
  const guardCalls = (trace: string) => guard.requests.filter((r) => parentOf(r.headers.traceparent)?.[1] === trace);
  const promptGuardCalls = (trace: string) => promptGuard.requests.filter((r) => parentOf(r.headers.traceparent)?.[1] === trace);

  test('both requests were answered through the kit policy (Llama Guard asked on input and output, Prompt Guard on input)', () => {
    expect(whole.status).toBe(200);
    expect(streamed.status).toBe(200);
    expect(guard.requests.length).toBeGreaterThanOrEqual(4);
    expect(promptGuard.requests.length).toBeGreaterThanOrEqual(2);
    expect(promptGuard.requests.every((r) => r.path === '/predict')).toBe(true);
  });

  test("the engine request carries the client's trace id, with the gateway's engine span as parent", () => {
    for (const trace of [TRACE, TRACE_STREAM]) {
      const calls = engineCalls(trace);
      expect(calls).toHaveLength(1);
      const span = engineSpan(trace);
      expect(parentOf(calls[0].headers.traceparent)?.[2]).toBe(span.spanId);
      // engine span -> the gateway's request span -> the app's span from the client's traceparent
      const server = spansOf(trace).find((s) => s.spanId === span.parentSpanId) as ReceivedSpan;
      expect(server.kind).toBe(SERVER);
      expect(server.parentSpanId).toBe(APP_SPAN);
    }
    // No engine request went out without the trace.
    expect(proxy.exchanges.filter((e) => e.path === '/v1/chat/completions')).toHaveLength(2);
  });

  test("each Llama Guard request carries the client's trace id, with its guard span as parent", () => {
    for (const trace of [TRACE, TRACE_STREAM]) {
      const calls = guardCalls(trace);
      const guardSpans = spansOf(trace).filter((s) => s.name === 'apply_guardrail llama_guard');
      expect(new Set(guardSpans.map((s) => s.attributes['gen_ai.security.direction']))).toEqual(new Set(['input', 'output']));
      expect(calls.length).toBeGreaterThanOrEqual(2);
      for (const call of calls) expect(guardSpans.map((s) => s.spanId)).toContain(parentOf(call.headers.traceparent)?.[2]);
      // The guard's own key still goes with it.
      for (const call of calls) expect(call.headers.authorization).toBe(`Bearer ${LLAMA_GUARD_KEY}`);
    }
    expect(guardCalls(TRACE).length + guardCalls(TRACE_STREAM).length).toBe(guard.requests.length);
  });

  test("each Prompt Guard request carries the client's trace id, with its guard span as parent", () => {
    for (const trace of [TRACE, TRACE_STREAM]) {
      const calls = promptGuardCalls(trace);
      const guardSpans = spansOf(trace).filter((s) => s.name === 'apply_guardrail prompt_guard');
      expect(guardSpans.length).toBeGreaterThanOrEqual(1);
      expect(calls.length).toBeGreaterThanOrEqual(1);
      for (const call of calls) expect(guardSpans.map((s) => s.spanId)).toContain(parentOf(call.headers.traceparent)?.[2]);
      // The user's prompt is what it scanned.
      expect(calls.flatMap((c) => c.inputs).some((t) => t.includes(`trace ${trace.slice(0, 4)}`))).toBe(true);
    }
    expect(promptGuardCalls(TRACE).length + promptGuardCalls(TRACE_STREAM).length).toBe(promptGuard.requests.length);
  });

  test('the engine span has the recommended GenAI attributes: response id, request settings, server address and port', () => {
    const span = engineSpan(TRACE);
    const answered = JSON.parse(engineCalls(TRACE)[0].response) as { id: string };
    expect(span.attributes).toMatchObject({
      'gen_ai.response.id': answered.id,
      'gen_ai.request.max_tokens': 48,
      'gen_ai.request.temperature': 0.2,
      'gen_ai.request.top_p': 0.9,
      'server.address': '127.0.0.1',
      'server.port': proxy.port,
    });
    expect(answered.id).toBe(whole.id);
    const stream = engineSpan(TRACE_STREAM);
    expect(stream.attributes).toMatchObject({ 'gen_ai.response.id': streamed.id, 'gen_ai.request.max_tokens': 40, 'gen_ai.request.stream': true, 'server.port': proxy.port });
    expect(stream.attributes['gen_ai.request.temperature']).toBeUndefined();
  });
});
