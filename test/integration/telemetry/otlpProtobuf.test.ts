import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { auditLines } from '../../../gateway/audit/auditFiles';
import { verifyChain } from '../../../gateway/audit/chainVerifier';
import { recordPolicyReload, recordRateLimitRejection } from '../../../gateway/telemetry/metrics';
import { flushTelemetry, shutdownTelemetry } from '../../../gateway/telemetry/telemetrySdk';
import { readSse } from '../../support/gatewayHarness';
import { latestMetric, startOtlpReceiver, type OtlpReceiver } from '../../support/otlpReceiver';
import { startRealGateway, type RealGateway } from './realGateway';

/**
 * The gateway exporting OTLP over http/protobuf (the default protocol) to a real receiver on
 * loopback: spans, log records and metrics arrive with their attributes, and with content capture
 * `none` no prompt or answer text is in any byte sent or written.
 */
const PROMPT = 'PROMPT-MARKER-alpha-7731 tell me about rivers';
const ANSWER = 'ANSWER-MARKER-omega-5512 rivers flow downhill';
const BLOCKED_PROMPT = 'zzjailbreak PROMPT-MARKER-beta-9911';
const STREAM_ANSWER = 'zzs1 ANSWER-MARKER-gamma-3321 unsafe words';
const SECRETS = ['PROMPT-MARKER', 'ANSWER-MARKER', 'tell me about rivers', 'rivers flow downhill', 'unsafe words'];

const SERVER = 2;
const CLIENT = 3;

describe('OpenTelemetry export over OTLP http/protobuf', () => {
  let receiver: OtlpReceiver;
  let gw: RealGateway;
  const ids: Record<string, string> = {};

  beforeAll(async () => {
    receiver = await startOtlpReceiver();
    process.env.OTEL_EXPORTER_OTLP_ENDPOINT = receiver.url;
    process.env.OTEL_SERVICE_NAME = 'safety-gateway-test';
    process.env.OTEL_RESOURCE_ATTRIBUTES = 'deployment.environment.name=test';
    delete process.env.OTEL_EXPORTER_OTLP_PROTOCOL;
    gw = await startRealGateway({ config: { telemetry: { provider_name: 'vllm' } } });

    await gw.script({ reply: ANSWER });
    const allowed = await gw.chat({ messages: [{ role: 'user', content: PROMPT }] });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe(ANSWER);
    ids.allowed = allowed.headers.get('x-request-id')!;

    const blocked = await gw.chat({ messages: [{ role: 'user', content: BLOCKED_PROMPT }] });
    expect(blocked.status).toBe(400);
    await blocked.arrayBuffer();
    ids.blocked = blocked.headers.get('x-request-id')!;

    await gw.script({ reply: STREAM_ANSWER });
    const streamed = await gw.chat({ stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'PROMPT-MARKER-delta-4410 stream it' }] });
    expect(streamed.status).toBe(200);
    const events = await readSse(streamed);
    expect(events.join('\n')).toContain('content_filter');
    ids.streamed = streamed.headers.get('x-request-id')!;

    recordRateLimitRejection('app-a', 'requests', 'requests_per_minute');
    recordPolicyReload('fixture', 'failure');
    await flushTelemetry(5000);
    await receiver.waitFor(() => receiver.spans.filter((s) => s.kind === SERVER).length >= 3 && receiver.logs.filter((l) => l.eventName === 'safety.decision').length >= 3, 10_000, 'spans and logs');
  });

  afterAll(async () => {
    await gw?.close();
    await shutdownTelemetry();
    await receiver?.close();
  });

  const serverSpan = (requestId: string) => receiver.spans.find((s) => s.kind === SERVER && s.attributes['safety.request.id'] === requestId)!;
  const childrenOf = (requestId: string) => {
    const parent = serverSpan(requestId);
    return receiver.spans.filter((s) => s.parentSpanId === parent.spanId);
  };

  test('sends protobuf, with the service name and resource attributes from OTEL_* variables', () => {
    expect(receiver.bodies.length).toBeGreaterThan(0);
    expect(receiver.bodies.every((b) => b.contentType === 'application/x-protobuf')).toBe(true);
    const span = serverSpan(ids.allowed);
    expect(span.resource['service.name']).toBe('safety-gateway-test');
    expect(span.resource['deployment.environment.name']).toBe('test');
  });

  test('one server span per request, a guard span per guard run and an engine span under it', () => {
    const span = serverSpan(ids.allowed);
    expect(span.name).toBe('POST /v1/chat/completions');
    expect(span.attributes).toMatchObject({ 'http.route': '/v1/chat/completions', 'http.response.status_code': 200, 'gen_ai.security.action': 'allow', 'safety.app': 'anonymous' });
    const children = childrenOf(ids.allowed);
    expect(children.every((c) => c.traceId === span.traceId)).toBe(true);
    const guards = children.filter((c) => c.name.startsWith('apply_guardrail'));
    // Input: prompt_guard (two runs: user texts, and tool/document texts) and llama_guard; output: llama_guard.
    expect(guards.map((g) => `${g.attributes['gen_ai.security.direction']}:${g.attributes['gen_ai.security.guardrail.name']}`).sort()).toEqual(['input:llama_guard', 'input:prompt_guard', 'input:prompt_guard', 'output:llama_guard']);
    expect(guards.map((g) => g.attributes['gen_ai.security.rule.id']).sort()).toEqual(['indirect-injection', 'jailbreak', 'unsafe-answer', 'unsafe-prompt']);
    const engine = children.find((c) => c.kind === CLIENT)!;
    expect(engine.name).toBe('chat dev');
    expect(engine.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'vllm',
      'gen_ai.request.model': 'dev',
      'gen_ai.request.stream': false,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(typeof engine.attributes['gen_ai.response.model']).toBe('string');
    expect(engine.attributes['gen_ai.usage.input_tokens']).toBeGreaterThan(0);
    expect(engine.attributes['gen_ai.usage.output_tokens']).toBeGreaterThan(0);
  });

  test('guard spans carry the verdict in the gen_ai.security namespace', () => {
    const jailbreak = childrenOf(ids.blocked).find((c) => c.attributes['gen_ai.security.guardrail.name'] === 'prompt_guard')!;
    expect(jailbreak.attributes).toMatchObject({
      'gen_ai.operation.name': 'apply_guardrail',
      'gen_ai.security.direction': 'input',
      'gen_ai.security.verdict.label': 'JAILBREAK',
      'gen_ai.security.action': 'block',
      'gen_ai.security.rule.action': 'block',
      'gen_ai.security.rule.id': 'jailbreak',
      'gen_ai.security.mode': 'enforce',
      'gen_ai.security.policy.id': 'fixture',
    });
    expect(jailbreak.attributes['gen_ai.security.verdict.score']).toBeGreaterThanOrEqual(0.9);
    expect(jailbreak.attributes['gen_ai.security.guardrail.model']).toEqual(expect.any(String));
    expect(jailbreak.attributes['gen_ai.security.policy.version']).toEqual(expect.any(String));
    expect(Array.isArray(jailbreak.attributes['gen_ai.security.verdict.categories'])).toBe(true);
    // Blocked on input: no engine call.
    expect(childrenOf(ids.blocked).some((c) => c.kind === CLIENT)).toBe(false);
    const server = serverSpan(ids.blocked);
    expect(server.attributes).toMatchObject({ 'http.response.status_code': 400, 'gen_ai.security.action': 'block', 'gen_ai.security.rule.id': 'jailbreak' });

    const unsafe = childrenOf(ids.streamed).find((c) => c.attributes['gen_ai.security.direction'] === 'output')!;
    expect(unsafe.attributes).toMatchObject({ 'gen_ai.security.rule.id': 'unsafe-answer', 'gen_ai.security.action': 'block', 'gen_ai.security.verdict.categories': ['S1'] });
    expect(childrenOf(ids.streamed).find((c) => c.kind === CLIENT)!.attributes['gen_ai.request.stream']).toBe(true);
  });

  test('a log record per guard verdict and one per decision, correlated by trace id and request id', () => {
    const span = serverSpan(ids.blocked);
    const verdicts = receiver.logs.filter((l) => l.eventName === 'safety.guard.verdict' && l.attributes['safety.request.id'] === ids.blocked);
    expect(verdicts.length).toBe(3); // jailbreak, indirect-injection (no texts), unsafe-prompt
    for (const log of verdicts) expect(log.traceId).toBe(span.traceId);
    const jailbreak = verdicts.find((l) => l.attributes['gen_ai.security.rule.id'] === 'jailbreak')!;
    expect(jailbreak.attributes).toMatchObject({
      'safety.app': 'anonymous',
      'http.route': '/v1/chat/completions',
      'gen_ai.security.direction': 'input',
      'gen_ai.security.guardrail.name': 'prompt_guard',
      'gen_ai.request.model': 'dev',
      'gen_ai.security.verdict.label': 'JAILBREAK',
      'gen_ai.security.action': 'block',
      'gen_ai.security.mode': 'enforce',
      'gen_ai.security.policy.id': 'fixture',
    });
    expect(jailbreak.attributes['safety.policy']).toMatch(/^fixture@/);
    expect(jailbreak.attributes['gen_ai.security.guardrail.latency_ms']).toEqual(expect.any(Number));
    expect(jailbreak.attributes['gen_ai.security.verdict.score']).toEqual(expect.any(Number));
    expect(jailbreak.severityText).toBe('WARN');

    const decision = receiver.logs.find((l) => l.eventName === 'safety.decision' && l.attributes['safety.request.id'] === ids.blocked)!;
    expect(decision.traceId).toBe(span.traceId);
    expect(decision.attributes).toMatchObject({ 'gen_ai.security.action': 'block', 'gen_ai.security.rule.id': 'jailbreak', 'safety.status': 400, 'gen_ai.security.content.capture': 'none' });
    expect(decision.attributes['safety.audit.seq']).toEqual(expect.any(Number));
    expect(String(decision.attributes['safety.audit.hash'])).toMatch(/^[0-9a-f]{64}$/);
    expect((decision.attributes['gen_ai.security.content.input'] as string[])[0]).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
  });

  test('metrics: requests by action, guard and engine latency, time to first chunk, tokens, rate limits, reloads', async () => {
    await flushTelemetry(5000);
    await receiver.waitFor(() => !!latestMetric(receiver, 'safety.policy.reloads'), 10_000, 'metrics');
    const requests = latestMetric(receiver, 'safety.requests')!;
    const byAction = (action: string) => requests.points.filter((p) => p.attributes['gen_ai.security.action'] === action).reduce((n, p) => n + (p.value ?? 0), 0);
    expect(byAction('allow')).toBe(1);
    expect(byAction('block')).toBe(2);
    const guard = latestMetric(receiver, 'safety.guard.duration')!;
    expect(guard.kind).toBe('histogram');
    expect(guard.unit).toBe('s');
    expect(guard.points.map((p) => p.attributes['gen_ai.security.guardrail.name'])).toEqual(expect.arrayContaining(['prompt_guard', 'llama_guard']));
    expect(guard.points.every((p) => typeof p.attributes['gen_ai.security.guardrail.model'] === 'string')).toBe(true);
    expect(latestMetric(receiver, 'safety.guard.verdicts')!.points.length).toBeGreaterThan(0);
    expect(latestMetric(receiver, 'gen_ai.client.operation.duration')!.points[0].count).toBeGreaterThan(0);
    expect(latestMetric(receiver, 'gen_ai.client.operation.time_to_first_chunk')!.points[0].count).toBe(1);
    const tokens = latestMetric(receiver, 'gen_ai.client.token.usage')!;
    expect(tokens.points.map((p) => p.attributes['gen_ai.token.type']).sort()).toEqual(['input', 'output']);
    expect(latestMetric(receiver, 'safety.rate_limit.rejections')!.points[0]).toMatchObject({ value: 1, attributes: { 'safety.app': 'app-a', 'safety.rate_limit.kind': 'requests' } });
    expect(latestMetric(receiver, 'safety.policy.reloads')!.points[0]).toMatchObject({ value: 1, attributes: { 'safety.outcome': 'failure' } });
    expect(latestMetric(receiver, 'safety.audit.records')!.points[0]).toMatchObject({ value: 3, attributes: { 'safety.outcome': 'written' } });
  });

  test('GET /metrics serves the same metrics in Prometheus text format', async () => {
    const res = await fetch(`${gw.gateway.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^safety_requests_total\{gen_ai_security_action="block",http_response_status_code="400".*\} 1$/m);
    expect(text).toMatch(/^safety_requests_total\{gen_ai_security_action="allow",.*\} 1$/m);
    expect(text).toContain('# TYPE safety_guard_duration histogram');
    expect(text).toContain('gen_ai_client_token_usage');
    expect(text).toContain('safety_rate_limit_rejections_total');
    for (const secret of SECRETS) expect(text).not.toContain(secret);
  });

  test('content capture none: no prompt or answer text in any exported byte or in the audit log', async () => {
    const exported = Buffer.concat(receiver.bodies.map((b) => b.bytes));
    expect(exported.length).toBeGreaterThan(1000);
    for (const secret of SECRETS) expect(exported.includes(Buffer.from(secret))).toBe(false);
    const files = readdirSync(gw.auditDir).filter((f) => f.endsWith('.jsonl'));
    const audit = Buffer.concat(files.map((f) => readFileSync(path.join(gw.auditDir, f))));
    expect(audit.length).toBeGreaterThan(100);
    for (const secret of SECRETS) expect(audit.includes(Buffer.from(secret))).toBe(false);
    const report = verifyChain(auditLines(gw.auditDir));
    expect(report).toMatchObject({ ok: true, records: 3 });
  });
});
