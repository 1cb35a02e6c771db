import { EngineError } from '../../engine/errors';
import { contextOf, setSafetyHeaders } from '../requestContext';
import { AnswerAccumulator, type StreamChunk } from './answerAccumulator';
import { endStreamWithError, engineEvents, SSE_HEADERS, write, type RelayInput } from './relayStream';
import type { SseEvent } from './sseParser';

type Event = SseEvent & { chunk?: StreamChunk; done?: boolean };

/**
 * window: the answer is checked every `window_tokens` engine tokens (one content chunk is one
 * token, as vLLM and TGI stream), each check re-reading `overlap_tokens` already-checked tokens so
 * an unsafe phrase split across windows is still seen whole. Only text that passed a check is
 * released. On unsafe: a content_filter chunk, [DONE], and the upstream request is aborted.
 */
export async function relayWindowed(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const { window_tokens: windowTokens, overlap_tokens: overlapTokens } = runtime.loaded.policy.streaming;
  const accumulator = new AnswerAccumulator();
  const pending: { event: Event; tokenEnd: number }[] = [];
  const pieces: string[] = [];
  let checkedTokens = 0;
  let headersSent = false;
  let engineCounted = false;

  const release = async (upTo: number) => {
    if (!headersSent) {
      headersSent = true;
      setSafetyHeaders(res, record.action, runtime.ref);
      res.writeHead(200, SSE_HEADERS);
    }
    while (pending.length && pending[0].tokenEnd <= upTo) await write(res, pending.shift()!.event.raw);
  };

  /** Checks tokens [checkedTokens - overlap, upTo); true when they passed. */
  const check = async (upTo: number): Promise<boolean> => {
    const from = Math.max(0, checkedTokens - overlapTokens);
    const text = pieces.slice(from, upTo).join('');
    const phase = await input.checkAnswer({ content: text, toolCalls: [] }, 0);
    record.outputs.push(phase);
    ctx.guardMs += phase.durationMs;
    checkedTokens = upTo;
    return phase.decision.action !== 'block';
  };

  const block = async () => {
    input.abortUpstream?.();
    record.content?.output.push(pieces.join(''));
    await input.finish(200);
    // Headers already sent carry the verdict at their time; the audit record carries the block.
    if (!headersSent) {
      headersSent = true;
      setSafetyHeaders(res, record.action, runtime.ref);
      res.writeHead(200, SSE_HEADERS);
    }
    await write(res, `data: ${JSON.stringify(input.adapter.contentFilterChunk(accumulator.meta, 0, runtime.loaded.policy.refusals.output))}\n\n`);
    res.end('data: [DONE]\n\n');
  };

  try {
    let sawDone = false;
    for await (const event of engineEvents(input.upstream, accumulator)) {
      if (!engineCounted) {
        engineCounted = true;
        ctx.engineMs += performance.now() - input.engineStarted;
      }
      const delta = event.chunk?.choices?.[0];
      // Tool-call argument fragments count as tokens too, so they are never released unchecked.
      const piece = delta?.delta?.content ?? delta?.text ?? delta?.delta?.tool_calls?.map((c) => c.function?.arguments ?? '').join('');
      if (typeof piece === 'string' && piece.length > 0) pieces.push(piece);
      if (event.done) sawDone = true;
      pending.push({ event, tokenEnd: pieces.length });
      if (pieces.length - checkedTokens >= windowTokens) {
        if (!(await check(pieces.length))) return await block();
        await release(checkedTokens);
      }
    }
    if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
    record.engine = accumulator.engineSummary(input.engineStarted);
    const toolCallsUnchecked = accumulator.answer(0).toolCalls.length > 0;
    if (pieces.length > checkedTokens || toolCallsUnchecked || checkedTokens === 0) {
      if (!(await check(pieces.length))) return await block();
    }
    record.content?.output.push(pieces.join(''));
    await input.finish(200);
    await release(Number.POSITIVE_INFINITY);
    res.end();
  } catch (err) {
    if (!headersSent) throw err;
    await endStreamWithError(input, err);
  }
}
