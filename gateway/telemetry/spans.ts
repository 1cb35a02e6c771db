import { context, propagation, SpanKind, SpanStatusCode, trace, type Span, type Tracer } from '@opentelemetry/api';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EngineResponse } from '../../engine/client';
import type { Direction, Verdict } from '../../guards/types';
import type { Decision } from '../../policies/evaluate';
import type { RequestRecord } from '../record/requestRecord';
import { sentStatus, type RequestFacts } from './requestMetrics';
import { GATEWAY, GEN_AI, leadingOutcome, outcomeAttributes, SECURITY, verdictAttributes } from './attributes';

/**
 * Spans: one SERVER span per request, and under it one span per guard run and one CLIENT span for
 * the engine call. Child spans are made only under a recording request span, so a gateway started
 * without telemetry (or a request outside one) pays nothing and leaves no orphan spans.
 */
const TRACER = 'safety-gateway';

function tracer(): Tracer {
  return trace.getTracer(TRACER);
}

let providerName = 'openai_compatible';

/** The engine's `gen_ai.provider.name` (config telemetry.provider_name). */
export function setEngineProviderName(name: string): void {
  providerName = name;
}

const UNTRACED = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * Runs `next` inside the request's SERVER span, active for everything the request does (the
 * lifecycle calls it as the request arrives). The matched route, once known, names the span.
 */
export function withServerSpan(req: IncomingMessage, res: ServerResponse, facts: Pick<RequestFacts, 'path' | 'route'>, next: () => void): void {
  // Probes and scrapes every few seconds would drown the requests that matter.
  const path = facts.path;
  if (UNTRACED.has(path)) return next();
  // A client's traceparent is honoured, so the gateway's spans join the app's own trace.
  const parent = propagation.extract(context.active(), req.headers);
  const span = tracer().startSpan(
    req.method ?? '',
    {
      kind: SpanKind.SERVER,
      attributes: { [GATEWAY.HTTP_METHOD]: req.method ?? '', [GATEWAY.URL_PATH]: path.slice(0, 200), [GATEWAY.REQUEST_ID]: String(res.getHeader('x-request-id') ?? '') },
    },
    parent,
  );
  if (!span.isRecording()) {
    // No trace exported here, but a client's trace context still passes on to the engine and the
    // remote guards (W3C trace context for intermediaries), so their spans join the app's trace.
    if (!trace.getSpanContext(parent)) return next();
    context.bind(parent, req);
    context.bind(parent, res);
    return context.with(parent, next);
  }
  const ctx = trace.setSpan(parent, span);
  // Body parsing resumes on the socket's events, outside this call: bind them to the span too.
  context.bind(ctx, req);
  context.bind(ctx, res);
  res.once('close', () => {
    const route = facts.route();
    if (route) {
      span.updateName(`${req.method ?? ''} ${route}`);
      span.setAttribute(GATEWAY.HTTP_ROUTE, route);
    }
    span.setAttribute(GATEWAY.HTTP_STATUS, sentStatus(res));
    if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
    if (!res.writableFinished) span.setAttribute(GATEWAY.ERROR_TYPE, 'client_closed');
    endWhenReleased(span);
  });
  context.with(ctx, next);
}

/** The longest a held request span stays open after its response closed (a decision never recorded). */
const HOLD_LIMIT_MS = 30_000;

/** Request spans some part of the request still has to annotate (holdRequestSpan), and their end once released. */
const holds = new WeakMap<Span, { count: number; end?: (at?: number) => void }>();

/**
 * Keeps this request's span open past its response's close until the returned release is called:
 * a client that disconnects closes the response at once, while the decision (the 499, the verdicts)
 * is recorded and annotated on the span a moment later, on a span already ended. Released at most
 * once; a span held past HOLD_LIMIT_MS after its close ends anyway.
 */
export function holdRequestSpan(): () => void {
  const span = requestSpan();
  if (!span) return () => undefined;
  const state = holds.get(span) ?? { count: 0 };
  holds.set(span, state);
  state.count++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    state.count--;
    if (state.count === 0 && state.end) state.end();
  };
}

function endWhenReleased(span: Span): void {
  const state = holds.get(span);
  if (!state || state.count === 0) return span.end();
  const closedAt = Date.now();
  // Never released (a record that stalls): ended anyway, at the response's close, not 30 s later.
  const timer = setTimeout(() => state.end?.(closedAt), HOLD_LIMIT_MS).unref();
  state.end = (at?: number) => {
    state.end = undefined;
    clearTimeout(timer);
    span.end(at);
  };
}

/** The request span, when this request has a recording one. */
export function requestSpan(): Span | undefined {
  const span = trace.getSpan(context.active());
  return span?.isRecording() ? span : undefined;
}

/**
 * The guard spans of one phase. Several rules may share one guard run (same guard, same texts):
 * one span per run, its rule attributes taken from the most severe of those rules once decided.
 */
export class GuardSpans {
  private readonly runs = new Map<string, { span: Span; verdict?: Verdict; endedAt?: number }>();
  private readonly ruleKeys = new Map<string, string>();
  private readonly parent = requestSpan();

  constructor(private readonly direction: Direction) {}

  /**
   * Starts a guard run under `key` with its span active, so a remote guard's traceparent names this
   * span as parent; the span ends when the phase is decided, at the time the run settled.
   */
  run(key: string, guard: string, start: () => Promise<Verdict>): Promise<Verdict> {
    if (!this.parent) return start();
    const span = tracer().startSpan(
      `apply_guardrail ${guard}`,
      { kind: SpanKind.INTERNAL, attributes: { [GEN_AI.OPERATION_NAME]: 'apply_guardrail', [SECURITY.GUARDRAIL_NAME]: guard, [SECURITY.DIRECTION]: this.direction } },
      trace.setSpan(context.active(), this.parent),
    );
    const entry: { span: Span; verdict?: Verdict; endedAt?: number } = { span };
    this.runs.set(key, entry);
    const run = context.with(trace.setSpan(context.active(), span), start);
    void run.then((verdict) => {
      entry.verdict = verdict;
      entry.endedAt = performance.timeOrigin + performance.now();
    });
    return run;
  }

  ruleUses(ruleId: string, key: string): void {
    if (this.parent) this.ruleKeys.set(ruleId, key);
  }

  /** The phase decided: every span gets its verdict and rule attributes and ends. */
  finish(decision: Decision): void {
    for (const [key, entry] of this.runs) {
      const { span, verdict } = entry;
      if (verdict) {
        span.setAttributes(verdictAttributes(verdict, this.direction));
        if (verdict.error) span.setStatus({ code: SpanStatusCode.ERROR, message: verdict.error.type });
      }
      const lead = leadingOutcome(decision.outcomes.filter((o) => this.ruleKeys.get(o.ruleId) === key));
      if (lead) span.setAttributes(outcomeAttributes(lead, decision.policy));
      span.end(entry.endedAt);
    }
  }
}

/** The engine call's CLIENT span, with the GenAI semantic-convention attributes. */
export class EngineSpan {
  private readonly startedAt = performance.timeOrigin + performance.now();
  private ended = false;

  private constructor(private readonly span: Span) {}

  /** `body`: the request as sent to the engine, for the recommended request attributes. */
  static start(operation: string, model: string | undefined, stream: boolean, body?: Record<string, unknown>): EngineSpan | undefined {
    const parent = requestSpan();
    if (!parent) return undefined;
    const span = tracer().startSpan(
      `${operation}${model ? ` ${model}` : ''}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [GEN_AI.OPERATION_NAME]: operation,
          [GEN_AI.PROVIDER_NAME]: providerName,
          [GEN_AI.REQUEST_STREAM]: stream,
          ...(model ? { [GEN_AI.REQUEST_MODEL]: model } : {}),
          ...requestParameterAttributes(body),
        },
      },
      trace.setSpan(context.active(), parent),
    );
    return new EngineSpan(span);
  }

  /**
   * The engine call, made with this span active (the engine client's traceparent then names it as
   * parent); records which upstream answered. Without a span (no trace recorded) the call runs as is.
   */
  static async call(span: EngineSpan | undefined, send: () => Promise<EngineResponse>): Promise<EngineResponse> {
    if (!span) return send();
    const response = await context.with(trace.setSpan(context.active(), span.span), send);
    if (response.server) span.span.setAttributes({ [GEN_AI.SERVER_ADDRESS]: response.server.address, [GEN_AI.SERVER_PORT]: response.server.port });
    return response;
  }

  /** Ends at the engine's own end (not at the end of the output check that follows it). */
  end(record: RequestRecord): void {
    // finish() may run twice (a failed audit append is retried as a 503 record): one end.
    if (this.ended) return;
    this.ended = true;
    const engine = record.engine;
    if (engine) {
      if (engine.model) this.span.setAttribute(GEN_AI.RESPONSE_MODEL, engine.model);
      if (engine.id) this.span.setAttribute(GEN_AI.RESPONSE_ID, engine.id);
      const input = tokenCount(engine.usage, 'prompt_tokens');
      const output = tokenCount(engine.usage, 'completion_tokens');
      if (input !== undefined) this.span.setAttribute(GEN_AI.INPUT_TOKENS, input);
      if (output !== undefined) this.span.setAttribute(GEN_AI.OUTPUT_TOKENS, output);
      this.span.setAttribute(GEN_AI.FINISH_REASONS, engine.finishReasons);
    }
    // No answer, or an engine that broke off after it began one (a stream cut mid-way: the record keeps what it sent).
    if (record.error && (!engine || engineFailed(record))) {
      this.span.setAttribute(GATEWAY.ERROR_TYPE, record.error.type);
      this.span.setStatus({ code: SpanStatusCode.ERROR, message: record.error.type });
    }
    this.span.end(engine ? this.startedAt + engine.durationMs : undefined);
  }
}

/** The engine's own failures (a break, a timeout, nothing listening), as against the gateway's or the client's. */
const ENGINE_FAILURES: ReadonlySet<string> = new Set(['engine_error', 'engine_timeout', 'engine_unavailable']);

export function engineFailed(record: RequestRecord): boolean {
  return record.error !== undefined && ENGINE_FAILURES.has(record.error.type);
}

/** Pure: gen_ai.request.* attributes of the numeric sampling settings the client sent (absent ones are left out). */
export function requestParameterAttributes(body: Record<string, unknown> | undefined): Record<string, number> {
  const attributes: Record<string, number> = {};
  const number = (key: string) => (typeof body?.[key] === 'number' && Number.isFinite(body[key]) ? (body[key] as number) : undefined);
  // Chat clients may send the newer max_completion_tokens instead of max_tokens; the Responses API names it max_output_tokens.
  const maxTokens = number('max_tokens') ?? number('max_completion_tokens') ?? number('max_output_tokens');
  if (maxTokens !== undefined) attributes[GEN_AI.REQUEST_MAX_TOKENS] = maxTokens;
  const temperature = number('temperature');
  if (temperature !== undefined) attributes[GEN_AI.REQUEST_TEMPERATURE] = temperature;
  const topP = number('top_p');
  if (topP !== undefined) attributes[GEN_AI.REQUEST_TOP_P] = topP;
  return attributes;
}

export function tokenCount(usage: Record<string, unknown> | undefined, key: string): number | undefined {
  const value = usage?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
