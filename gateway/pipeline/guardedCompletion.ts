import { context, trace } from '@opentelemetry/api';
import type { Request, RequestHandler, Response } from 'express';
import type { Engine, EngineResponse } from '../../engine/client';
import { EngineError } from '../../engine/errors';
import { combinedAction } from '../../policies/evaluate';
import { keyIdOf } from '../access/accessContext';
import { ApiError, sendError } from '../errors';
import type { PolicyHolder, PolicyRuntime } from '../policyRuntime';
import { contextOf, setSafetyHeaders } from '../requestContext';
import type { DecisionRecorder, RequestRecord } from '../requestRecord';
import { relayStream } from '../streaming/relayStream';
import { EngineSpan } from '../telemetry/spans';
import type { CompletionAdapter, ParsedCompletion } from './adapters';
import type { GuardedEndpoint, RespondInput } from './guardedEndpoint';
import { GuardUnavailableError, inputBlockedError } from './blockResponse';
import { engineApiError, upstreamClientError } from './engineErrors';
import { answerScanTexts, answerTurn, isJoinedText, type AssistantAnswer } from './extractTexts';
import { guardFault } from './guardFault';
import { runGuardPhase, type GuardPhase } from './runRules';

export interface CompletionDeps {
  policies: PolicyHolder;
  engine: Engine;
  recorder: DecisionRecorder;
  /** Called with each finished record (token refunds from the engine's usage); must not throw. */
  onFinished?: (record: RequestRecord, res: Response) => void;
}

/** The request path of DESIGN.md for one completion endpoint: input guards, engine, output guard, record. */
export function guardedCompletion(adapter: CompletionAdapter, deps: CompletionDeps): RequestHandler {
  return guardedEndpoint(completionEndpoint(adapter), deps);
}

/** A chat-shaped endpoint (choices, `[DONE]`) as a guarded endpoint: the relays and whole-answer path below. */
export function completionEndpoint(adapter: CompletionAdapter): GuardedEndpoint {
  return {
    route: adapter.route,
    enginePath: adapter.enginePath,
    operation: adapter.operation,
    inputParam: adapter.operation === 'chat' ? 'messages' : 'prompt',
    parse: (body, fields) => adapter.parse(body, fields),
    respond: (input: RespondInput) =>
      input.parsed.stream ? relayStream({ ...input, adapter }) : respondWhole(adapter, input.parsed, input.upstream, input.runtime, input.record, input.res, input.engineStarted, input.finish, input.checkAnswer),
  };
}

/** The request path of DESIGN.md for any guarded endpoint (chat, completions, responses). */
export function guardedEndpoint<P extends ParsedCompletion>(endpoint: GuardedEndpoint<P>, deps: CompletionDeps): RequestHandler {
  return async (req: Request, res: Response) => {
    const ctx = contextOf(res);
    // One policy version from start to end, even if a reload lands meanwhile: the app's own policy
    // when auth assigned one. An id the gateway has not loaded fails closed (503 policy_unavailable).
    const runtime = deps.policies.current(ctx.policyId);
    res.setHeader('x-safety-policy', runtime.ref);
    const parsed = endpoint.parse(req.body, runtime.loaded.policy.request_fields, { app: ctx.app });
    const abort = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) abort.abort();
    });
    const record: RequestRecord = {
      requestId: ctx.requestId,
      clientRequestId: ctx.clientRequestId,
      receivedAt: ctx.receivedAt.toISOString(),
      app: ctx.app,
      keyId: keyIdOf(res),
      traceId: trace.getSpanContext(context.active())?.traceId,
      route: endpoint.route,
      model: parsed.model,
      stream: parsed.stream,
      policy: { id: runtime.loaded.id, version: runtime.loaded.version },
      outputs: [],
      action: 'allow',
      status: 200,
      content: { input: parsed.inputTexts.filter((t) => !isJoinedText(t)).map((t) => t.text), output: [] },
      contentCapture: runtime.loaded.policy.telemetry?.content_capture ?? 'none',
    };
    // A guard that failed (not one that judged) stops the request as a fault: 503, recorded as such.
    const failOnGuardFault = (phase: GuardPhase, direction: 'input' | 'output'): void => {
      const fault = guardFault(phase.decision);
      if (!fault) return;
      record.guardFault = fault;
      throw new GuardUnavailableError(fault, direction, record.policy, ctx.requestId);
    };
    const checkOutput = async (answer: AssistantAnswer, choice: number) => {
      const phase = await checkAnswer(runtime, parsed, answer, choice, abort.signal);
      // The relays record a phase once it returns; a faulted one never returns, so it is recorded here.
      if (guardFault(phase.decision)) record.outputs.push(phase);
      failOnGuardFault(phase, 'output');
      return phase;
    };
    let engineSpan: EngineSpan | undefined;
    const finish = (status: number, error?: { type: string; message: string }) => {
      record.status = status;
      record.durationMs = performance.now() - ctx.startedAt;
      if (error) record.error = error;
      record.action = combinedAction(record.input?.decision, ...record.outputs.map((o) => o.decision));
      deps.onFinished?.(record, res);
      engineSpan?.end(record);
      return deps.recorder.record(record);
    };

    try {
      const input = await checkInput(runtime, parsed, abort.signal);
      record.input = input;
      ctx.guardMs += input.durationMs;
      failOnGuardFault(input, 'input');
      if (input.decision.action === 'block') {
        const error = inputBlockedError(input.decision, input.verdicts, ctx.requestId, endpoint.inputParam);
        await finish(400);
        setSafetyHeaders(res, 'block', runtime.ref);
        return sendError(res, error);
      }

      const engineStarted = performance.now();
      engineSpan = EngineSpan.start(endpoint.operation, parsed.model, parsed.stream, parsed.body);
      const upstream = await EngineSpan.call(engineSpan, () => deps.engine.post(endpoint.enginePath, parsed.body, abort.signal));
      if (upstream.status >= 400) {
        const error = await upstreamClientError(upstream);
        ctx.engineMs += performance.now() - engineStarted;
        await finish(error.status, { type: 'engine_rejected', message: error.message });
        setSafetyHeaders(res, record.action, runtime.ref);
        return sendError(res, error);
      }
      await endpoint.respond({ parsed, upstream, runtime, record, res, engineStarted, finish, checkAnswer: checkOutput, abortUpstream: () => abort.abort() });
    } catch (err) {
      if (err instanceof EngineError && err.failure === 'aborted') {
        await finish(499, { type: 'client_closed', message: 'the client closed the connection' }).catch(() => undefined);
        return;
      }
      const apiError = err instanceof ApiError ? err : engineApiError(err);
      try {
        await finish(apiError.status, { type: apiError.code ?? 'error', message: apiError.message });
      } catch {
        /* the recorder's own failure is reported by the error below */
      }
      setSafetyHeaders(res, record.guardFault ? 'error' : record.action, runtime.ref);
      sendError(res, apiError);
    }
  };
}

/** Input guard phase: every rule of the policy's `input` list on the request's texts and conversation. */
export function checkInput(runtime: PolicyRuntime, parsed: ParsedCompletion, signal?: AbortSignal): Promise<GuardPhase> {
  return runGuardPhase({
    direction: 'input',
    rules: runtime.loaded.policy.input,
    guards: runtime.guards,
    timeouts: runtime.timeouts,
    texts: parsed.inputTexts,
    conversation: parsed.conversation,
    policy: { id: runtime.loaded.id, version: runtime.loaded.version },
    signal,
  });
}

/** Output guard phase for one choice's answer. */
export function checkAnswer(runtime: PolicyRuntime, parsed: ParsedCompletion, answer: AssistantAnswer, choice: number, signal?: AbortSignal): Promise<GuardPhase & { choice: number }> {
  return runGuardPhase({
    direction: 'output',
    rules: runtime.loaded.policy.output,
    guards: runtime.guards,
    timeouts: runtime.timeouts,
    texts: answerScanTexts(answer, `choices[${choice}].message`),
    conversation: [...parsed.conversation, answerTurn(answer)],
    policy: { id: runtime.loaded.id, version: runtime.loaded.version },
    signal,
  }).then((phase) => ({ ...phase, choice }));
}

async function respondWhole(
  adapter: CompletionAdapter,
  parsed: ParsedCompletion,
  upstream: EngineResponse,
  runtime: PolicyRuntime,
  record: RequestRecord,
  res: Response,
  engineStarted: number,
  finish: (status: number) => Promise<void>,
  checkOutput: (answer: AssistantAnswer, choice: number) => Promise<GuardPhase & { choice: number }>,
): Promise<void> {
  const ctx = contextOf(res);
  const raw = await readAll(upstream);
  ctx.engineMs += performance.now() - engineStarted;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(raw.toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new EngineError('bad_gateway', 'the engine sent an answer that is not valid JSON');
  }
  // Not a completion (`null`, an array, `tool_calls: {}`, ...): adapter.answers throws EngineError (502).
  const answers = adapter.answers(json);
  record.engine = { durationMs: performance.now() - engineStarted, id: typeof json.id === 'string' ? json.id : undefined, model: typeof json.model === 'string' ? json.model : undefined, usage: json.usage as Record<string, unknown> | undefined, finishReasons: finishReasons(json) };
  record.content?.output.push(...[...answers.values()].map((a) => a.content));
  const phases = await Promise.all([...answers.entries()].map(([i, a]) => checkOutput(a, i)));
  record.outputs.push(...phases);
  ctx.guardMs += Math.max(0, ...phases.map((p) => p.durationMs));
  const blocked = new Set(phases.filter((p) => p.decision.action === 'block').map((p) => p.choice));
  await finish(200);
  setSafetyHeaders(res, record.action, runtime.ref);
  if (blocked.size === 0) {
    // Passed answers go back exactly as the engine sent them.
    res.status(200).type('application/json').send(raw);
    return;
  }
  adapter.blockChoices(json, blocked, runtime.loaded.policy.refusals.output);
  res.status(200).json(json);
}

function finishReasons(json: Record<string, unknown>): string[] {
  const choices = json.choices;
  if (!Array.isArray(choices)) return [];
  return choices.map((c: { finish_reason?: unknown }) => c?.finish_reason).filter((r): r is string => typeof r === 'string');
}

async function readAll(upstream: EngineResponse): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of upstream.body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
