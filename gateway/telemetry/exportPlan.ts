import { otlpProtocol } from './metricReaders';

export type Signal = 'traces' | 'logs' | 'metrics';

const KNOWN_PROTOCOLS: ReadonlySet<string> = new Set(['grpc', 'http/protobuf', 'http/json']);

export interface ExportPlan {
  /** Signals pushed by their OTEL_*_EXPORTER (OTLP by default) to a collector. */
  push: Record<Signal, boolean>;
  /** One line for the startup log. */
  summary: string;
}

/**
 * Pure: which signals leave the process. The OTEL_* variables decide as the spec says, with one
 * deliberate exception: when none of them names a collector (no OTLP endpoint, no exporter
 * chosen), nothing is pushed to the spec's default localhost:4318. A gateway without a collector
 * would otherwise retry into a closed port on every batch and hold up its exit by the export
 * timeout. Metrics are always served on GET /metrics.
 */
export function exportPlan(env: NodeJS.ProcessEnv): ExportPlan {
  const set = (name: string) => (env[name] ?? '').trim() !== '';
  const wanted = (signal: Signal) => {
    const upper = signal.toUpperCase();
    return set('OTEL_EXPORTER_OTLP_ENDPOINT') || set(`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`) || set(`OTEL_${upper}_EXPORTER`);
  };
  const push = { traces: wanted('traces'), logs: wanted('logs'), metrics: wanted('metrics') };
  const pushed = (Object.keys(push) as Signal[]).filter((s) => push[s]);
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  // A protocol the exporters do not know falls back to http/protobuf: say so, naming the variable.
  const unknown = ['OTEL_EXPORTER_OTLP_PROTOCOL', ...pushed.map((sig) => `OTEL_EXPORTER_OTLP_${sig.toUpperCase()}_PROTOCOL`)].filter((name) => set(name) && !KNOWN_PROTOCOLS.has(env[name]!.trim()));
  const fallback = unknown.length ? `; ${unknown.map((name) => `${name}=${env[name]!.trim()}`).join(', ')} is not grpc, http/protobuf or http/json: http/protobuf used` : '';
  const summary = pushed.length
    ? `telemetry: pushing ${pushed.join(', ')} (OTLP ${otlpProtocol(env, 'TRACES')}${endpoint ? ` to ${redactEndpoint(endpoint)}` : ''}${fallback}); metrics also on GET /metrics`
    : 'telemetry: no collector configured (set OTEL_EXPORTER_OTLP_ENDPOINT): metrics on GET /metrics only';
  return { push, summary };
}

/** Endpoints may carry credentials in their userinfo or query: scheme, host and path only. */
function redactEndpoint(endpoint: string): string {
  try {
    const u = new URL(endpoint);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return '(invalid URL)';
  }
}
