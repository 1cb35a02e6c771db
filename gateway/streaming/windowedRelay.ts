import type { EngineResponse } from '../../engine/client';
import { EngineError } from '../../engine/errors';
import type { CompletionAdapter } from '../pipeline/adapters';
import type { GuardedCall } from '../pipeline/guardedCall';
import { AnswerAccumulator } from './answerAccumulator';
import { countedUsageChunk } from './blockUsage';
import { usageAfterBlock } from './chunkEnvelope';
import { deliveredText } from '../pipeline/extractTexts';
import { engineEvents, type EngineEvent } from './engineEvents';
import { HeldEvents } from './heldEvents';
import { REFUSAL_SEPARATOR } from './refusalSeparator';
import { openSse, write } from './sseWrite';
import { endStreamWithError } from './streamError';
import { checkedReleaser, windowSettings, WindowChecks } from './windowChecks';

/**
 * window: the answer is checked every `window_tokens` engine tokens (one chunk that carries text
 * is one token, as vLLM and TGI stream), each check re-reading `overlap_tokens` already-checked
 * tokens so an unsafe phrase split across windows is still seen whole. A token is any text the
 * chunk carries (content, reasoning, refusal, tool-call names and arguments, logprob tokens,
 * unknown members), so none of it is released unchecked. Only events whose text passed a check
 * are released; at the end the whole answer is checked too (windowChecks.ts). On unsafe: a content_filter chunk, [DONE], and the upstream request is aborted.
 */
export async function relayWindowed(call: GuardedCall, upstream: EngineResponse, adapter: CompletionAdapter): Promise<void> {
  const { res, record } = call;
  const timing = call.ctx.timing;
  const accumulator = new AnswerAccumulator({ model: call.parsed.model });
  const pending = new HeldEvents<EngineEvent>();
  const checks = new WindowChecks(
    { get textEvents() { return accumulator.textEvents; }, window: (checked, to, overlap) => accumulator.window(checked, to, overlap), whole: () => accumulator.answer(0) },
    { check: (answers) => call.checkAnswers(answers.map((a) => [a, 0] as const)) },
    windowSettings(call.policy.streaming),
  );

  /** Text events released so far (the refusal after a block starts a paragraph of its own when any were). */
  let releasedTo = 0;
  const release = async (upTo: number) => {
    await openSse(call);
    for (const { event, tokenEnd } of pending.releaseUpTo(upTo)) {
      await write(res, event.raw);
      releasedTo = Math.max(releasedTo, tokenEnd);
    }
  };

  // A window that passed goes out once text after it arrives (WindowChecks.releasable).
  const releaseChecked = checkedReleaser(checks, release);
  const block = async () => {
    call.abortUpstream();
    // The checked windows reached the client: the record (and the token settlement) counts an answer.
    record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered([accumulator.answer(0)]);
    // Checked text reached the client before the block: the record says so (a reviewer reading `block` would think none did).
    if (releasedTo > 0) record.partial = true;
    await call.finish(200);
    // Headers already sent carry the verdict at their time; the audit record carries the block.
    await openSse(call);
    const refusal = releasedTo > 0 ? `${REFUSAL_SEPARATOR}${call.policy.refusals.output}` : call.policy.refusals.output;
    await write(res, `data: ${JSON.stringify(adapter.contentFilterChunk(accumulator.writableMeta, 0, refusal))}\n\n`);
    // The engine's usage chunk (stream_options.include_usage), already here when the end checks block, still follows;
    // without it (the engine was stopped first) the gateway's count of it.
    const usage =
      usageAfterBlock(
        pending.held().map((event) => event.chunk),
        accumulator,
      ) ?? (call.parsed.includeUsage ? await countedUsageChunk(accumulator.writableMeta, adapter.route, call.parsed.body, deliveredText(accumulator.answer(0)), call.ctx.access?.tokens) : undefined);
    if (usage) await write(res, usage);
    res.end('data: [DONE]\n\n');
  };

  let holdingCalls = false;
  try {
    let sawDone = false;
    for await (const event of engineEvents(upstream, accumulator, adapter)) {
      timing.engineAnswered();
      // Windows read one answer: a second choice the request did not ask for would be checked
      // mixed with the first, so the stream stops before any of it is released.
      if (accumulator.choiceIndexes().some((i) => i !== 0)) {
        call.abortUpstream();
        throw new EngineError('bad_gateway', 'the engine streamed more than the one answer the request asked for');
      }
      if (event.done) sawDone = true;
      pending.push(event, accumulator.textEvents);
      // From the first tool-call piece on, nothing goes out before the end checks: a call released
      // whole is one a client runs (the SDK's runTools runs every call of the final message, a
      // blocked one's too), and a later window can still block. Calls are run only once complete,
      // so holding them costs no wait a client would see.
      holdingCalls ||= carriesCall(event);
      if (!holdingCalls) await releaseChecked();
      if (checks.due() && !(await checks.checkWindow())) return await block();
    }
    if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
    record.engine = accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    if (!(await checks.checkEnd())) return await block();
    call.delivered([accumulator.answer(0)]);
    await call.finish(200);
    await release(Number.POSITIVE_INFINITY);
    res.end();
  } catch (err) {
    if (!res.headersSent) throw err;
    // Text went out before the failure: the record keeps what the engine sent, as a block's does.
    record.engine ??= accumulator.engineSummary(timing.engineStartedAt ?? timing.startedAt);
    call.delivered([accumulator.answer(0)]);
    await endStreamWithError(call, err);
  }
}

/** Whether a chunk carries a tool call's piece (or a legacy function call's). */
function carriesCall(event: EngineEvent): boolean {
  return event.chunk?.choices.some((c) => {
    const delta = c.delta as { tool_calls?: unknown[] | null; function_call?: unknown } | null | undefined;
    return (delta?.tool_calls?.length ?? 0) > 0 || (delta?.function_call !== undefined && delta?.function_call !== null);
  }) ?? false;
}
