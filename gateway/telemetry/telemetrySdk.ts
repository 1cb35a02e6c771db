import { setGlobalErrorHandler, W3CTraceContextPropagator } from '@opentelemetry/core';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { trace } from '@opentelemetry/api';
import { logs } from '@opentelemetry/api-logs';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { envDetector, hostDetector, osDetector, resourceFromAttributes } from '@opentelemetry/resources';
import type { MetricReader } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, ParentBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { packageRoot } from '../paths';
import { exportErrorLogger } from './exportErrors';
import { exportPlan } from './exportPlan';
import { pushMetricReadersFromEnv } from './metricReaders';

/**
 * The OpenTelemetry SDK, started once per process however many gateways run in it (tests start
 * several; the API's globals can be registered only once). Everything is configured by the
 * standard OTEL_* variables: endpoint, protocol (http/protobuf by default, http/json, grpc),
 * headers, service name, resource attributes, exporters, and OTEL_SDK_DISABLED.
 */
interface SdkState {
  sdk?: NodeSDK;
  prometheus?: PrometheusExporter;
  pushReaders: MetricReader[];
  users: number;
  disabled: boolean;
  summary: string;
  logs: boolean;
}

export interface TelemetryHandle {
  /** False when OTEL_SDK_DISABLED is set: spans, logs and metrics are then no-ops. */
  readonly enabled: boolean;
  /** What is exported where, for the startup log. */
  readonly summary: string;
  /** Whether log records go anywhere (a collector is named for them). */
  readonly logs: boolean;
  /** One gateway is done with it: flushes what is buffered (bounded); the SDK stays for the others. */
  release(): Promise<void>;
}

let state: SdkState | undefined;

export function acquireTelemetry(env: NodeJS.ProcessEnv = process.env, log: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): TelemetryHandle {
  state ??= start(env, log);
  state.users++;
  let released = false;
  const current = state;
  return {
    enabled: !current.disabled,
    summary: current.summary,
    logs: current.logs,
    async release() {
      if (released) return;
      released = true;
      current.users--;
      await flushTelemetry();
    },
  };
}

/** True once some gateway in this process started the SDK (and OTEL_SDK_DISABLED is not set). */
export function telemetryRunning(): boolean {
  return !!state && !state.disabled;
}

function start(env: NodeJS.ProcessEnv, log: (line: string) => void): SdkState {
  if (/^\s*true\s*$/i.test(env.OTEL_SDK_DISABLED ?? '')) return { pushReaders: [], users: 0, disabled: true, logs: false, summary: 'telemetry: OTEL_SDK_DISABLED is set: no spans, log records or metrics' };
  const plan = exportPlan(env);
  // /metrics on the gateway's own port: the exporter never starts its own server.
  const prometheus = new PrometheusExporter({ preventServerStart: true });
  const pushReaders = plan.push.metrics ? pushMetricReadersFromEnv(env) : [];
  const serviceNameSet = !!env.OTEL_SERVICE_NAME || /(^|,)\s*service\.name\s*=/.test(env.OTEL_RESOURCE_ATTRIBUTES ?? '');
  const sdk = new NodeSDK({
    // Environment (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES) is detected on top and wins.
    resource: resourceFromAttributes({ 'service.version': packageVersion() }),
    // Not the process detector: its process.command_args (the engine URL, file paths given on the
    // command line) would be published on /metrics as target_info and on every span.
    resourceDetectors: [envDetector, hostDetector, osDetector],
    serviceName: serviceNameSet ? undefined : 'safety-gateway',
    metricReaders: [prometheus, ...pushReaders],
    // W3C trace context only, unless OTEL_PROPAGATORS says otherwise: the SDK's default adds
    // baggage, and a client's `baggage` header (any key=value it likes: e-mail addresses, tokens)
    // would go on to the engine and the remote guards with every call, whatever the capture setting.
    ...(env.OTEL_PROPAGATORS?.trim() ? {} : { textMapPropagator: new W3CTraceContextPropagator() }),
    // A client's traceparent joins its trace, but its sampled flag does not decide the gateway's own
    // spans: with the SDK's default (parent-based), `-00` from any client turned off the spans of
    // its requests, blocked ones included. OTEL_TRACES_SAMPLER, when set, is the operator's choice.
    ...(env.OTEL_TRACES_SAMPLER?.trim() ? {} : { sampler: new ParentBasedSampler({ root: new AlwaysOnSampler(), remoteParentNotSampled: new AlwaysOnSampler() }) }),
    // No processors: the SDK then registers no tracer provider, and log records go nowhere.
    ...(plan.push.traces ? {} : { spanProcessors: [] }),
    ...(plan.push.logs ? {} : { logRecordProcessors: [] }),
  });
  sdk.start();
  // After start: the SDK sets its own handler as it starts.
  setGlobalErrorHandler(exportErrorLogger(log));
  return { sdk, prometheus, pushReaders, users: 0, disabled: false, logs: plan.push.logs, summary: plan.summary };
}

/** Pushes buffered spans, log records and metrics now; gives up after `timeoutMs` (a collector may be down). */
export async function flushTelemetry(timeoutMs = 2000): Promise<void> {
  if (!state || state.disabled) return;
  const tracerProvider = trace.getTracerProvider() as { getDelegate?: () => unknown };
  const targets = [tracerProvider.getDelegate?.(), logs.getLoggerProvider(), ...state.pushReaders] as { forceFlush?: () => Promise<void> }[];
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(targets.map((t) => t?.forceFlush?.())),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Process exit: flushes and stops the SDK. A later acquire in the same process starts no new one. */
export async function shutdownTelemetry(timeoutMs = 5000): Promise<void> {
  const sdk = state?.sdk;
  if (!sdk) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    sdk.shutdown().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Serves the Prometheus text format; undefined when the SDK is not running in this process. */
export function prometheusHandler(): ((req: IncomingMessage, res: ServerResponse) => void) | undefined {
  const exporter = state?.prometheus;
  return exporter ? (req, res) => exporter.getMetricsRequestHandler(req, res) : undefined;
}

function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(path.join(packageRoot(), 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}
