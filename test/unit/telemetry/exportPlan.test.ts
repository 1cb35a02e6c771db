import { exportPlan } from '../../../gateway/telemetry/exportPlan';
import { otlpProtocol, pushMetricReadersFromEnv } from '../../../gateway/telemetry/metricReaders';

describe('what the OTEL_* variables export', () => {
  test('no collector named: nothing is pushed (metrics stay on /metrics)', () => {
    const plan = exportPlan({});
    expect(plan.push).toEqual({ traces: false, logs: false, metrics: false });
    expect(plan.summary).toContain('no collector configured');
  });

  test('an endpoint pushes every signal; a per-signal endpoint or exporter pushes that one', () => {
    expect(exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://user:pw@collector:4318/?token=x' })).toEqual({
      push: { traces: true, logs: true, metrics: true },
      summary: 'telemetry: pushing traces, logs, metrics (OTLP http/protobuf to http://collector:4318); metrics also on GET /metrics',
    });
    expect(exportPlan({ OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://c/v1/logs' }).push).toEqual({ traces: false, logs: true, metrics: false });
    expect(exportPlan({ OTEL_TRACES_EXPORTER: 'otlp' }).push.traces).toBe(true);
  });

  test('protocol: signal variable, then the general one, http/protobuf by default', () => {
    expect(otlpProtocol({}, 'TRACES')).toBe('http/protobuf');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }, 'LOGS')).toBe('grpc');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/json' }, 'METRICS')).toBe('http/json');
    expect(otlpProtocol({ OTEL_EXPORTER_OTLP_PROTOCOL: 'carrier-pigeon' }, 'TRACES')).toBe('http/protobuf');
  });

  test.each([
    [{}, ['OTLPMetricExporter']],
    [{ OTEL_METRICS_EXPORTER: 'none' }, []],
    [{ OTEL_METRICS_EXPORTER: 'prometheus' }, []],
    [{ OTEL_METRICS_EXPORTER: 'otlp,console' }, ['OTLPMetricExporter', 'ConsoleMetricExporter']],
  ])('metric readers for %j', async (env, exporters) => {
    const readers = pushMetricReadersFromEnv(env);
    expect(readers.map((r) => (r as unknown as { _exporter: { constructor: { name: string } } })._exporter.constructor.name)).toEqual(exporters);
    await Promise.all(readers.map((r) => r.shutdown()));
  });

  test.each([
    ['http/protobuf', 'exporter-metrics-otlp-proto'],
    ['http/json', 'exporter-metrics-otlp-http'],
    ['grpc', 'exporter-metrics-otlp-grpc'],
  ])('OTEL_EXPORTER_OTLP_PROTOCOL=%s picks %s', async (protocol, pkg) => {
    const [reader] = pushMetricReadersFromEnv({ OTEL_EXPORTER_OTLP_PROTOCOL: protocol });
    const exporter = (reader as unknown as { _exporter: object })._exporter;
    const { OTLPMetricExporter } = require(`@opentelemetry/${pkg}`) as { OTLPMetricExporter: new () => object };
    expect(exporter).toBeInstanceOf(OTLPMetricExporter);
    await reader.shutdown();
  });

  test('a protocol the exporters do not know is said in the start-up line, with the one used instead', () => {
    expect(exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuff' }).summary).toBe(
      'telemetry: pushing traces, logs, metrics (OTLP http/protobuf to http://c:4318; OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuff is not grpc, http/protobuf or http/json: http/protobuf used); metrics also on GET /metrics',
    );
    expect(exportPlan({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).summary).not.toMatch(/is not/);
  });
});
