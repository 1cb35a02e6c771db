import { context, trace } from '@opentelemetry/api';
import { setMaxListeners } from 'node:events';
import type { ServerResponse } from 'node:http';
import { AbortEmitter } from '../../engine/abortEmitter';
import type { Engine, EngineResponse } from '../../engine/client';
import { EngineError } from '../../engine/errors';
import { combinedActionOf, type RuleOutcome } from '../../policies/evaluate';
import type { PolicyFile } from '../../policies/schema';
import type { PolicyRuntime } from './runtime/policyRuntime';
import type { GuardPhase } from '../record/guardPhase';
import { setSafetyHeaders, type RequestContext, type VerdictHeader } from './requestContext';
import { streamStartOf, type DecisionRecorder, type RequestRecord } from '../record/requestRecord';
import { EngineSpan, holdRequestSpan } from '../telemetry/spans';
import { GuardUnavailableError } from './blockResponse';
import { deliveredText, isJoinedText, type AssistantAnswer } from './extractTexts';
import { answerScope, clientDictatesAnswer, skipsDeliveredAnswers, type DeliveredAnswers } from './deliveredAnswers';
import { checkAnswer, checkInput } from './guardChecks';
import { guardFault } from './guardFault';
import { connectionClosedOutcome } from './connectionCut';
import { withAnswerTokenCap } from './answerTokenCap';
import type { ParsedCompletion } from './parsedCompletion';

/** Where a finished call's record goes. */
export interface CallSink {
  recorder: DecisionRecorder;
  /** Answers delivered with every rule allowing them, so a resent one is known (absent: none remembered). */
  answers?: DeliveredAnswers;
  /** Called with each finished record (token refunds from the engine's usage); must not throw. */
  onFinished?: (record: RequestRecord, ctx: RequestContext) => void;
}

/**
 * One guarded request from its parsed body to its record: what every step after parsing reads
 * (the request's context, the policy version in force, the parsed request, the response) and the
 * few things they do to it (check, call the engine, send headers, finish). The relays and the
 * whole-answer paths take this one object instead of a list of parameters.
 */
export class GuardedCall<P extends ParsedCompletion = ParsedCompletion> {
  readonly record: RequestRecord;
  /** Stops the engine call and the guard runs: the client went away, or a relay stopped the engine. */
  private readonly stop = new AbortEmitter();
  /** The client went away (not a relay stopping the engine): a guard cut short is then no fault. */
  private clientGone = false;
  /** The record was written (finish succeeded once). */
  private recorded = false;
  /** A stream's start was recorded (recordStreamStart), or found not to be needed. */
  private streamStartRecorded = false;
  /** The guard runs' AbortSignal, made on first use (a phase without rules never asks for it). */
  private guardAbort: AbortController | undefined;
  private engineSpan: EngineSpan | undefined;
  /** The content of each answer delivered() was last told of. */
  private answerContents: string[] = [];
  /** Lets the request span end (holdRequestSpan) once the decision is recorded. */
  private readonly releaseSpan: () => void;

  constructor(
    readonly ctx: RequestContext,
    readonly res: ServerResponse,
    /** One policy version from start to end, even if a reload lands meanwhile. */
    readonly runtime: PolicyRuntime,
    readonly parsed: P,
    route: string,
    private readonly sink: CallSink,
  ) {
    // A client that goes away stops the guards and the engine call it was waiting for; one that
    // left while the request was admitted (token counting, a Redis limit) is stopped at once.
    res.on('close', () => {
      if (!res.writableFinished) this.clientLeft();
    });
    if (res.req?.socket?.destroyed) this.clientLeft();
    // The request span stays open until the decision is recorded on it, even if the client leaves first.
    this.releaseSpan = holdRequestSpan();
    const loaded = runtime.loaded;
    this.record = {
      requestId: ctx.requestId,
      clientRequestId: ctx.clientRequestId,
      receivedAt: ctx.receivedAt.toISOString(),
      app: ctx.app,
      keyId: ctx.keyId,
      traceId: trace.getSpanContext(context.active())?.traceId,
      route,
      model: parsed.model,
      stream: parsed.stream,
      policy: { id: loaded.id, version: loaded.version },
      outputs: [],
      action: 'allow',
      status: 200,
      content: { input: inputContent(parsed), output: [] },
      contentCapture: loaded.policy.telemetry?.content_capture ?? 'none',
    };
  }

  get policy(): PolicyFile {
    return this.runtime.loaded.policy;
  }

  /** Aborted when the client goes away, or when a relay stops the engine (window mode on unsafe). */
  get signal(): AbortSignal {
    if (!this.guardAbort) {
      const controller = (this.guardAbort = new AbortController());
      // Every guard run of the request listens on it at once (rules times choices, n up to 128): not a leak.
      setMaxListeners(0, controller.signal);
      if (this.stop.aborted) controller.abort(this.stop.reason);
      else this.stop.once('abort', () => controller.abort(this.stop.reason));
    }
    return this.guardAbort.signal;
  }

  /** Cancels the engine request (window mode stops generation on unsafe). */
  abortUpstream(): void {
    this.stop.abort();
  }

  /** The input guard phase, recorded and timed; a guard fault throws the 503. */
  async checkInput(): Promise<GuardPhase> {
    const phase = await checkInput(this.runtime, this.parsed, this.phaseSignal(this.policy.input), this.ctx.cacheTenant);
    this.record.input = phase;
    this.ctx.timing.guards(phase.durationMs);
    this.failOnGuardFault(phase, 'input');
    return phase;
  }

  /**
   * The output guard phase for one answer (or one window of it). The caller records what passes
   * back with `answersChecked`; a guard fault is recorded here and throws the 503.
   */
  async checkAnswer(answer: AssistantAnswer, choice: number): Promise<GuardPhase & { choice: number }> {
    const phase = await checkAnswer(this.runtime, this.parsed, answer, choice, this.phaseSignal(this.policy.output), this.ctx.cacheTenant);
    if (guardFault(phase.decision)) this.record.outputs.push(phase);
    this.failOnGuardFault(phase, 'output');
    return phase;
  }

  /**
   * Output guard phases that run side by side (the choices of one answer; a stream's last window
   * and its whole answer): every phase is recorded before a guard fault among them throws the 503,
   * so a fault in one never drops the others' verdicts, shadow ones included.
   */
  async checkAnswers(items: readonly (readonly [AssistantAnswer, number])[]): Promise<(GuardPhase & { choice: number })[]> {
    const signal = this.phaseSignal(this.policy.output);
    const phases = await Promise.all(items.map(([answer, choice]) => checkAnswer(this.runtime, this.parsed, answer, choice, signal, this.ctx.cacheTenant)));
    this.answersChecked(phases);
    for (const phase of phases) this.failOnGuardFault(phase, 'output');
    return phases;
  }

  /**
   * Whether an engine's own words in a 4xx (message, code and param, one text) may reach the
   * client: the output rules read them like an answer first, since engines quote the request back
   * (a validation error's `input_value=...`, a model name) and the client would otherwise receive
   * text nothing checked. Recorded like an answer's phase. A block, or a guard fault, withholds all
   * three (the status still goes out): never a 503 for an error the engine already gave.
   */
  async engineMessageMayPass(message: string): Promise<boolean> {
    const phase = await checkAnswer(this.runtime, this.parsed, { content: message, toolCalls: [] }, 0, this.phaseSignal(this.policy.output), this.ctx.cacheTenant);
    this.answersChecked([phase]);
    return phase.decision.action !== 'block';
  }

  /** Output phases that ran side by side (the choices of one answer, or one window): recorded, timed as the longest. */
  answersChecked(phases: (GuardPhase & { choice: number })[]): void {
    // A loop, not push(...phases): a text completion can have 2,048 prompts x 64 choices, past what a spread takes.
    let longest = 0;
    for (const phase of phases) {
      this.record.outputs.push(phase);
      longest = Math.max(longest, phase.durationMs);
    }
    this.ctx.timing.guards(longest);
  }

  /**
   * The answers the client received (or would have), for content capture and token settlement (as
   * delivered texts) and for the delivered-answers memory (their content): every answer of the request
   * at once, so a later call (a stream failing after its record was tried) replaces an earlier one
   * instead of adding the same answers again.
   */
  delivered(answers: readonly AssistantAnswer[]): void {
    // What a client resends as the assistant turn's content: the answer's text, without reasoning, tool calls or item ids.
    this.answerContents = answers.map((a) => a.content);
    if (this.record.content) this.record.content.output = answers.map(deliveredText);
  }

  /** Calls the engine inside its CLIENT span; the timing starts here. */
  callEngine(engine: Engine, operation: string, enginePath: string): Promise<EngineResponse> {
    this.ctx.timing.engineStart();
    const parsed = this.parsed;
    const body = withAnswerTokenCap(parsed.body, parsed.answerTokenField, this.ctx.access?.tokens?.answerCap);
    this.engineSpan = EngineSpan.start(operation, parsed.model, parsed.stream, body);
    return EngineSpan.call(this.engineSpan, () => engine.post(enginePath, body, this.stop));
  }

  /** The status line is about to go out: the verdict (the record's action by default), policy and timing headers. */
  sendHeaders(verdict: VerdictHeader = this.record.action): void {
    setSafetyHeaders(this.res, verdict, this.runtime.ref);
  }

  /**
   * Before a stream's first byte when its decision is not recorded yet (window and off modes record
   * it when the stream ends): a durable `stream_started` record, so a crash mid-stream leaves a
   * trace. Throws (503 audit_unavailable) when the log cannot take it: nothing has gone out yet.
   */
  async recordStreamStart(): Promise<void> {
    if (this.recorded || this.streamStartRecorded) return;
    this.streamStartRecorded = true;
    try {
      await this.sink.recorder.recordStreamStart?.(streamStartOf(this.record));
    } catch (err) {
      this.streamStartRecorded = false;
      throw err;
    }
  }

  /** Completes the record and hands it to the recorder (durable before the answer goes out, for the audit log). */
  finish(status: number, error?: { type: string; message: string }): Promise<void> {
    // One record per request: a failure after the record was written (the answer could not be
    // sent) must not write a second one. A record that failed to be written may be tried again
    // (the error path records the 503 audit_unavailable the client is then told).
    if (this.recorded) return Promise.resolve();
    const record = this.record;
    record.status = status;
    // A stream that failed after its 200 and some checked text went out: the client saw both.
    if (status !== 200 && this.res.headersSent) record.partial = true;
    record.durationMs = this.ctx.timing.elapsedMs();
    if (error) record.error = error;
    // An array, not arguments: a text completion can carry more choices than a call's arguments take.
    record.action = combinedActionOf([record.input?.decision, ...record.outputs.map((o) => o.decision)]);
    this.sink.onFinished?.(record, this.ctx);
    this.engineSpan?.end(record);
    const recorded = this.sink.recorder.record(record).then(() => {
      this.recorded = true;
    });
    recorded.then(this.releaseSpan, this.releaseSpan);
    const answers = this.sink.answers;
    if (!answers || !this.answersToRemember(status, error)) return recorded;
    // Once durable: an answer whose record failed (503 audit_unavailable) never reached the client.
    const scope = answerScope(record.app, record.policy);
    const texts = this.answerContents;
    return recorded.then(() => {
      // The record is durable and the answer allowed: nothing here may turn that into a failure.
      try {
        for (const text of texts) answers.remember(scope, text);
      } catch {
        // A remembered answer only spares a later false block.
      }
    });
  }

  /**
   * Answers the engine wrote in its own words that every rule, output rules included, let through
   * with no error and no block, shadow blocks included (deliveredAnswers.ts). A flag counts as
   * letting through when its rule still reads delivered answers (findings, injection score): a
   * flagged text earlier in a chat (mixed scripts in a pasted document) is flagged again on every
   * later turn, and refusing to remember such requests left the chat no memory at all. A flag of a
   * rule that skips delivered answers (a jailbreak score in flag mode) keeps the answer out: that
   * rule would never read the answer again.
   */
  private answersToRemember(status: number, error: { type: string; message: string } | undefined): boolean {
    const record = this.record;
    if (status !== 200 || error || record.action === 'block' || this.policy.output.length === 0 || record.outputs.length === 0) return false;
    const phases = [...(record.input ? [record.input] : []), ...record.outputs];
    const rules = new Map([...this.policy.input, ...this.policy.output].map((r) => [r.id, r]));
    const keepsOut = (o: RuleOutcome) => {
      if (o.action === 'block' || o.errorType !== undefined) return true;
      const rule = rules.get(o.ruleId);
      return o.action === 'flag' && (!rule || skipsDeliveredAnswers(rule));
    };
    if (phases.some((p) => p.decision.outcomes.some(keepsOut))) return false;
    return !clientDictatesAnswer(record.route, this.parsed.body);
  }

  /** A phase's signal: none without rules, where runGuardPhase runs no guard (guards off: no AbortSignal made). */
  private phaseSignal(rules: readonly unknown[]): AbortSignal | undefined {
    return rules.length > 0 ? this.signal : undefined;
  }

  private clientLeft(): void {
    this.clientGone = true;
    this.stop.abort();
  }

  /**
   * A guard that failed (not one that judged) stops the request as a fault: 503, recorded as such.
   * A check the client's leaving cut short is recorded as 499 client_closed (503 gateway_shutdown
   * when shutdown cut the connection): no guard outage.
   */
  private failOnGuardFault(phase: GuardPhase, direction: 'input' | 'output'): void {
    const fault = guardFault(phase.decision);
    if (!fault) return;
    if (this.clientGone) {
      // No verdict was reached (action error), and no guard failed: the closed connection stopped it.
      this.record.guardFault = { ...fault, errorTypes: [connectionClosedOutcome(this.res).error.type] };
      throw new EngineError('aborted', 'the client closed the connection during the guard check');
    }
    this.record.guardFault = fault;
    throw new GuardUnavailableError(fault, direction, this.record.policy, this.ctx.requestId);
  }
}

/** The request's texts as content capture may keep them: each once (the joined copies are the same texts again). */
function inputContent(parsed: ParsedCompletion): string[] {
  const out: string[] = [];
  for (const t of parsed.inputTexts) if (!isJoinedText(t)) out.push(t.text);
  return out;
}
