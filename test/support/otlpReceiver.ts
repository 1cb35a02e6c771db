import * as grpc from '@grpc/grpc-js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { decodeMessage } from './otlpProtobuf';

/**
 * A real OTLP/HTTP receiver on loopback (what an OpenTelemetry Collector's otlp receiver does):
 * accepts POST /v1/traces, /v1/logs, /v1/metrics as http/protobuf or http/json, decodes them, and
 * keeps the raw bodies too, so a test can search the exact bytes the gateway sent.
 */
export interface ReceivedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, unknown>;
  status: { code?: number; message?: string };
  resource: Record<string, unknown>;
  scope: string;
}

export interface ReceivedLog {
  traceId?: string;
  spanId?: string;
  eventName?: string;
  severityText?: string;
  severityNumber?: number;
  body: unknown;
  attributes: Record<string, unknown>;
  resource: Record<string, unknown>;
}

export interface ReceivedPoint {
  attributes: Record<string, unknown>;
  value?: number;
  count?: number;
  sum?: number;
}

export interface ReceivedMetric {
  name: string;
  unit?: string;
  kind: 'sum' | 'gauge' | 'histogram' | 'other';
  points: ReceivedPoint[];
}

export interface OtlpReceiver {
  /** Base URL for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string;
  spans: ReceivedSpan[];
  logs: ReceivedLog[];
  /** Every export of metrics, in arrival order (cumulative: the last one holds the totals). */
  metrics: ReceivedMetric[][];
  bodies: { path: string; contentType: string; headers: Record<string, unknown>; bytes: Buffer }[];
  /** Resolves once `predicate` holds (checked on each export), or rejects after `timeoutMs`. */
  waitFor(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

type Json = Record<string, unknown>;
const MESSAGES: Record<string, string> = { '/v1/traces': 'ExportTraceServiceRequest', '/v1/logs': 'ExportLogsServiceRequest', '/v1/metrics': 'ExportMetricsServiceRequest' };

/** The receiving side shared by the HTTP and gRPC transports: decoded signals, raw bodies, waiters. */
function receiverState() {
  const waiters = new Set<() => void>();
  const state: Omit<OtlpReceiver, 'url' | 'close' | 'waitFor'> = { spans: [], logs: [], metrics: [], bodies: [] };
  return {
    state,
    /** Decodes one export and records it; throws on a body that does not decode. */
    accept(path: string, contentType: string, headers: Record<string, unknown>, bytes: Buffer): void {
      const type = MESSAGES[path]!;
      state.bodies.push({ path, contentType, headers, bytes });
      const message = contentType.includes('json') ? (JSON.parse(bytes.toString('utf8')) as Json) : decodeMessage(type, bytes);
      collect(path, message, state);
      for (const wake of waiters) wake();
    },
    waitFor(predicate: () => boolean, timeoutMs = 10_000, what = 'telemetry'): Promise<void> {
      if (predicate()) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (!predicate()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${what}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
  };
}

/** `decode: false` only counts what arrives (the benchmark: a collector's work is not the gateway's cost). */
export async function startOtlpReceiver(options: { decode?: boolean } = {}): Promise<OtlpReceiver> {
  const decodeBodies = options.decode ?? true;
  const { state, accept, waitFor } = receiverState();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0];
      const contentType = String(req.headers['content-type'] ?? '');
      let bytes = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') bytes = gunzipSync(bytes);
      if (req.method !== 'POST' || !MESSAGES[path]) {
        res.writeHead(404).end();
        return;
      }
      const json = contentType.includes('json');
      if (!decodeBodies) {
        state.bodies.push({ path, contentType, headers: {}, bytes: Buffer.alloc(bytes.length) });
      } else {
        try {
          accept(path, contentType, req.headers, bytes);
        } catch (err) {
          res.writeHead(400).end(String(err));
          return;
        }
      }
      // An empty Export*ServiceResponse: zero bytes in protobuf, {} in JSON.
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : undefined);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    waitFor,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The three OTLP collector services (opentelemetry-proto), by the HTTP path of their signal. */
const GRPC_METHODS: Record<string, string> = {
  '/v1/traces': '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
  '/v1/logs': '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  '/v1/metrics': '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export',
};

/**
 * A real OTLP/gRPC receiver on loopback (plaintext, as a collector's `otlp` gRPC receiver on
 * :4317 without TLS): the three Export methods, protobuf bodies decoded like the HTTP ones;
 * `bodies[].headers` holds the call's metadata.
 */
export async function startOtlpGrpcReceiver(): Promise<OtlpReceiver> {
  const { state, accept, waitFor } = receiverState();
  const server = new grpc.Server();
  const raw = (b: Buffer) => b;
  for (const [path, method] of Object.entries(GRPC_METHODS)) {
    const definition = { export: { path: method, requestStream: false, responseStream: false, requestSerialize: raw, requestDeserialize: raw, responseSerialize: raw, responseDeserialize: raw } };
    server.addService(definition, {
      export: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
        try {
          accept(path, 'application/grpc', call.metadata.getMap(), call.request);
          callback(null, Buffer.alloc(0)); // an empty Export*ServiceResponse
        } catch (err) {
          callback({ code: grpc.status.INVALID_ARGUMENT, details: String(err) });
        }
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    ...state,
    url: `http://127.0.0.1:${port}`,
    waitFor,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  };
}

function collect(path: string, message: Json, into: Omit<OtlpReceiver, 'url' | 'close' | 'waitFor'>): void {
  if (path === '/v1/traces') {
    for (const rs of list(message.resourceSpans)) {
      const resource = attrs(obj(rs.resource).attributes);
      for (const ss of list(rs.scopeSpans)) {
        for (const s of list(ss.spans)) {
          into.spans.push({
            traceId: id(s.traceId)!,
            spanId: id(s.spanId)!,
            parentSpanId: id(s.parentSpanId),
            name: String(s.name),
            kind: Number(s.kind ?? 0),
            attributes: attrs(s.attributes),
            status: { code: obj(s.status).code as number | undefined, message: obj(s.status).message as string | undefined },
            resource,
            scope: String(obj(ss.scope).name ?? ''),
          });
        }
      }
    }
  } else if (path === '/v1/logs') {
    for (const rl of list(message.resourceLogs)) {
      const resource = attrs(obj(rl.resource).attributes);
      for (const sl of list(rl.scopeLogs)) {
        for (const l of list(sl.logRecords)) {
          into.logs.push({
            traceId: id(l.traceId),
            spanId: id(l.spanId),
            eventName: l.eventName as string | undefined,
            severityText: l.severityText as string | undefined,
            severityNumber: l.severityNumber as number | undefined,
            body: l.body ? anyValue(obj(l.body)) : undefined,
            attributes: attrs(l.attributes),
            resource,
          });
        }
      }
    }
  } else {
    const batch: ReceivedMetric[] = [];
    for (const rm of list(message.resourceMetrics)) {
      for (const sm of list(rm.scopeMetrics)) {
        for (const metric of list(sm.metrics)) {
          const kind = metric.sum ? 'sum' : metric.gauge ? 'gauge' : metric.histogram ? 'histogram' : 'other';
          const data = obj(metric.sum ?? metric.gauge ?? metric.histogram);
          batch.push({
            name: String(metric.name),
            unit: metric.unit as string | undefined,
            kind,
            points: list(data.dataPoints).map((p) => ({
              attributes: attrs(p.attributes),
              value: p.asInt !== undefined ? Number(p.asInt) : p.asDouble !== undefined ? Number(p.asDouble) : undefined,
              count: p.count !== undefined ? Number(p.count) : undefined,
              sum: p.sum !== undefined ? Number(p.sum) : undefined,
            })),
          });
        }
      }
    }
    into.metrics.push(batch);
  }
}

function list(value: unknown): Json[] {
  return Array.isArray(value) ? (value as Json[]) : [];
}

function obj(value: unknown): Json {
  return value && typeof value === 'object' ? (value as Json) : {};
}

/** Ids: hex in both encodings (the JS JSON exporter writes hex; protobuf bytes are decoded to hex). */
function id(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value.toLowerCase() : undefined;
}

/** An OTLP attribute list as a plain object of JS values. */
export function attrs(value: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const kv of list(value)) out[String(kv.key)] = anyValue(obj(kv.value));
  return out;
}

function anyValue(v: Json): unknown {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return Number(v.doubleValue);
  if ('arrayValue' in v) return list(obj(v.arrayValue).values).map(anyValue);
  if ('kvlistValue' in v) return attrs(obj(v.kvlistValue).values);
  if ('bytesValue' in v) return v.bytesValue;
  return undefined;
}

/** The latest cumulative export of a metric, if any. */
export function latestMetric(receiver: Pick<OtlpReceiver, 'metrics'>, name: string): ReceivedMetric | undefined {
  for (let i = receiver.metrics.length - 1; i >= 0; i--) {
    const found = receiver.metrics[i].find((metric) => metric.name === name);
    if (found) return found;
  }
  return undefined;
}
