import { OTLPMetricExporter as GrpcMetricExporter } from '@opentelemetry/exporter-metrics-otlp-grpc';
import { OTLPMetricExporter as JsonMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { OTLPMetricExporter as ProtoMetricExporter } from '@opentelemetry/exporter-metrics-otlp-proto';
import { ConsoleMetricExporter, PeriodicExportingMetricReader, type MetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';

/**
 * Push metric readers from the standard variables (OTEL_METRICS_EXPORTER, OTEL_EXPORTER_OTLP_*,
 * OTEL_METRIC_EXPORT_INTERVAL / _TIMEOUT), as NodeSDK would build them. NodeSDK builds them only
 * when it is given no readers, and the gateway always gives it one (the Prometheus reader behind
 * GET /metrics), so this does the env part itself. `prometheus` needs nothing extra here: the
 * gateway's own /metrics is that endpoint.
 */
export function pushMetricReadersFromEnv(env: NodeJS.ProcessEnv): MetricReader[] {
  const wanted = new Set((env.OTEL_METRICS_EXPORTER ?? '').split(',').map((s) => s.trim()).filter(Boolean));
  if (wanted.size === 0) wanted.add('otlp');
  if (wanted.has('none')) return [];
  const readers: MetricReader[] = [];
  const interval = positive(env.OTEL_METRIC_EXPORT_INTERVAL) ?? 60_000;
  const timeout = Math.min(positive(env.OTEL_METRIC_EXPORT_TIMEOUT) ?? 30_000, interval);
  const periodic = (exporter: PushMetricExporter) => new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: interval, exportTimeoutMillis: timeout });
  if (wanted.has('otlp')) readers.push(periodic(otlpMetricExporter(otlpProtocol(env, 'METRICS'))));
  if (wanted.has('console')) readers.push(periodic(new ConsoleMetricExporter()));
  return readers;
}

export type OtlpProtocol = 'http/protobuf' | 'http/json' | 'grpc';

/** The signal's protocol variable, then the general one; http/protobuf by default (the spec's default). */
export function otlpProtocol(env: NodeJS.ProcessEnv, signal: 'TRACES' | 'METRICS' | 'LOGS'): OtlpProtocol {
  const value = (env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`] ?? env.OTEL_EXPORTER_OTLP_PROTOCOL ?? '').trim();
  return value === 'grpc' || value === 'http/json' ? value : 'http/protobuf';
}

function otlpMetricExporter(protocol: OtlpProtocol): PushMetricExporter {
  switch (protocol) {
    case 'grpc':
      return new GrpcMetricExporter();
    case 'http/json':
      return new JsonMetricExporter();
    default:
      return new ProtoMetricExporter();
  }
}

function positive(value: string | undefined): number | undefined {
  const n = Number(value);
  return value !== undefined && value.trim() !== '' && Number.isFinite(n) && n > 0 ? n : undefined;
}
