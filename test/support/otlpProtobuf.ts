/**
 * A small protobuf wire-format decoder with the OTLP message definitions (opentelemetry-proto
 * v1: common, resource, trace, logs, metrics) written out as field tables. It turns what the
 * http/protobuf exporters send into the same shape as OTLP/JSON (camelCase names, hex ids), so one
 * set of assertions covers both protocols. Only what the tests read is declared; unknown fields
 * are skipped, as protobuf requires.
 */
type Scalar = 'string' | 'bytes' | 'bool' | 'int64' | 'uint' | 'enum' | 'fixed64' | 'sfixed64' | 'fixed32' | 'double';
interface Field {
  name: string;
  type: Scalar | { message: string };
  repeated?: boolean;
}
type Schema = Record<string, Record<number, Field>>;

const m = (message: string) => ({ message });

export const OTLP_SCHEMA: Schema = {
  AnyValue: {
    1: { name: 'stringValue', type: 'string' },
    2: { name: 'boolValue', type: 'bool' },
    3: { name: 'intValue', type: 'int64' },
    4: { name: 'doubleValue', type: 'double' },
    5: { name: 'arrayValue', type: m('ArrayValue') },
    6: { name: 'kvlistValue', type: m('KeyValueList') },
    7: { name: 'bytesValue', type: 'bytes' },
  },
  ArrayValue: { 1: { name: 'values', type: m('AnyValue'), repeated: true } },
  KeyValueList: { 1: { name: 'values', type: m('KeyValue'), repeated: true } },
  KeyValue: { 1: { name: 'key', type: 'string' }, 2: { name: 'value', type: m('AnyValue') } },
  InstrumentationScope: { 1: { name: 'name', type: 'string' }, 2: { name: 'version', type: 'string' }, 3: { name: 'attributes', type: m('KeyValue'), repeated: true } },
  Resource: { 1: { name: 'attributes', type: m('KeyValue'), repeated: true } },

  ExportTraceServiceRequest: { 1: { name: 'resourceSpans', type: m('ResourceSpans'), repeated: true } },
  ResourceSpans: { 1: { name: 'resource', type: m('Resource') }, 2: { name: 'scopeSpans', type: m('ScopeSpans'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  ScopeSpans: { 1: { name: 'scope', type: m('InstrumentationScope') }, 2: { name: 'spans', type: m('Span'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  Span: {
    1: { name: 'traceId', type: 'bytes' },
    2: { name: 'spanId', type: 'bytes' },
    3: { name: 'traceState', type: 'string' },
    4: { name: 'parentSpanId', type: 'bytes' },
    5: { name: 'name', type: 'string' },
    6: { name: 'kind', type: 'enum' },
    7: { name: 'startTimeUnixNano', type: 'fixed64' },
    8: { name: 'endTimeUnixNano', type: 'fixed64' },
    9: { name: 'attributes', type: m('KeyValue'), repeated: true },
    15: { name: 'status', type: m('Status') },
    16: { name: 'flags', type: 'fixed32' },
  },
  Status: { 2: { name: 'message', type: 'string' }, 3: { name: 'code', type: 'enum' } },

  ExportLogsServiceRequest: { 1: { name: 'resourceLogs', type: m('ResourceLogs'), repeated: true } },
  ResourceLogs: { 1: { name: 'resource', type: m('Resource') }, 2: { name: 'scopeLogs', type: m('ScopeLogs'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  ScopeLogs: { 1: { name: 'scope', type: m('InstrumentationScope') }, 2: { name: 'logRecords', type: m('LogRecord'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  LogRecord: {
    1: { name: 'timeUnixNano', type: 'fixed64' },
    11: { name: 'observedTimeUnixNano', type: 'fixed64' },
    2: { name: 'severityNumber', type: 'enum' },
    3: { name: 'severityText', type: 'string' },
    5: { name: 'body', type: m('AnyValue') },
    6: { name: 'attributes', type: m('KeyValue'), repeated: true },
    8: { name: 'flags', type: 'fixed32' },
    9: { name: 'traceId', type: 'bytes' },
    10: { name: 'spanId', type: 'bytes' },
    12: { name: 'eventName', type: 'string' },
  },

  ExportMetricsServiceRequest: { 1: { name: 'resourceMetrics', type: m('ResourceMetrics'), repeated: true } },
  ResourceMetrics: { 1: { name: 'resource', type: m('Resource') }, 2: { name: 'scopeMetrics', type: m('ScopeMetrics'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  ScopeMetrics: { 1: { name: 'scope', type: m('InstrumentationScope') }, 2: { name: 'metrics', type: m('Metric'), repeated: true }, 3: { name: 'schemaUrl', type: 'string' } },
  Metric: {
    1: { name: 'name', type: 'string' },
    2: { name: 'description', type: 'string' },
    3: { name: 'unit', type: 'string' },
    5: { name: 'gauge', type: m('Gauge') },
    7: { name: 'sum', type: m('Sum') },
    9: { name: 'histogram', type: m('Histogram') },
  },
  Gauge: { 1: { name: 'dataPoints', type: m('NumberDataPoint'), repeated: true } },
  Sum: { 1: { name: 'dataPoints', type: m('NumberDataPoint'), repeated: true }, 2: { name: 'aggregationTemporality', type: 'enum' }, 3: { name: 'isMonotonic', type: 'bool' } },
  Histogram: { 1: { name: 'dataPoints', type: m('HistogramDataPoint'), repeated: true }, 2: { name: 'aggregationTemporality', type: 'enum' } },
  NumberDataPoint: {
    7: { name: 'attributes', type: m('KeyValue'), repeated: true },
    2: { name: 'startTimeUnixNano', type: 'fixed64' },
    3: { name: 'timeUnixNano', type: 'fixed64' },
    4: { name: 'asDouble', type: 'double' },
    6: { name: 'asInt', type: 'sfixed64' },
  },
  HistogramDataPoint: {
    9: { name: 'attributes', type: m('KeyValue'), repeated: true },
    2: { name: 'startTimeUnixNano', type: 'fixed64' },
    3: { name: 'timeUnixNano', type: 'fixed64' },
    4: { name: 'count', type: 'fixed64' },
    5: { name: 'sum', type: 'double' },
    6: { name: 'bucketCounts', type: 'fixed64', repeated: true },
    7: { name: 'explicitBounds', type: 'double', repeated: true },
    11: { name: 'min', type: 'double' },
    12: { name: 'max', type: 'double' },
  },
};

type Decoded = Record<string, unknown>;

class Reader {
  pos = 0;
  constructor(readonly buf: Buffer, readonly end = buf.length) {}

  varint(): bigint {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint');
      const byte = this.buf[this.pos++];
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) return result;
      shift += 7n;
    }
  }
}

/** Decodes `bytes` as the named OTLP message. */
export function decodeMessage(type: string, bytes: Buffer, schema: Schema = OTLP_SCHEMA): Decoded {
  return decode(type, new Reader(bytes), bytes.length, schema);
}

function decode(type: string, r: Reader, end: number, schema: Schema): Decoded {
  const fields = schema[type];
  if (!fields) throw new Error(`no schema for ${type}`);
  const out: Decoded = {};
  while (r.pos < end) {
    const tag = Number(r.varint());
    const number = tag >>> 3;
    const wire = tag & 7;
    const field = fields[number];
    if (!field) {
      skip(r, wire);
      continue;
    }
    const put = (value: unknown) => {
      if (field.repeated) ((out[field.name] ??= []) as unknown[]).push(value);
      else out[field.name] = value;
    };
    if (typeof field.type === 'object') {
      const length = Number(r.varint());
      const stop = r.pos + length;
      put(decode(field.type.message, r, stop, schema));
      r.pos = stop;
    } else if (wire === 2 && field.repeated && field.type !== 'string' && field.type !== 'bytes') {
      // Packed repeated scalars.
      const stop = r.pos + Number(r.varint());
      while (r.pos < stop) put(scalar(field.type, r));
    } else {
      put(scalar(field.type, r));
    }
  }
  return out;
}

function scalar(type: Scalar, r: Reader): unknown {
  const buf = r.buf;
  switch (type) {
    case 'string':
    case 'bytes': {
      const length = Number(r.varint());
      const slice = buf.subarray(r.pos, r.pos + length);
      r.pos += length;
      return type === 'string' ? slice.toString('utf8') : slice.toString('hex');
    }
    case 'bool':
      return r.varint() !== 0n;
    case 'enum':
    case 'uint':
      return Number(r.varint());
    case 'int64':
      return Number(BigInt.asIntN(64, r.varint()));
    case 'fixed64': {
      const v = buf.readBigUInt64LE(r.pos);
      r.pos += 8;
      return Number(v);
    }
    case 'sfixed64': {
      const v = buf.readBigInt64LE(r.pos);
      r.pos += 8;
      return Number(v);
    }
    case 'double': {
      const v = buf.readDoubleLE(r.pos);
      r.pos += 8;
      return v;
    }
    case 'fixed32': {
      const v = buf.readUInt32LE(r.pos);
      r.pos += 4;
      return v;
    }
  }
}

function skip(r: Reader, wire: number): void {
  switch (wire) {
    case 0:
      r.varint();
      return;
    case 1:
      r.pos += 8;
      return;
    case 2:
      r.pos += Number(r.varint());
      return;
    case 5:
      r.pos += 4;
      return;
    default:
      throw new Error(`unsupported wire type ${wire}`);
  }
}
