import { EngineError } from '../../engine/errors';
import { contextOf, setSafetyHeaders } from '../requestContext';
import { AnswerAccumulator } from './answerAccumulator';
import { endStreamWithError, engineEvents, SSE_HEADERS, write, type EngineEvent, type RelayInput } from './relayStream';

/**
 * window: the answer is checked every `window_tokens` engine tokens (one chunk that carries text
 * is one token, as vLLM and TGI stream), each check re-reading `overlap_tokens` already-checked
 * tokens so an unsafe phrase split across windows is still seen whole. A token is any text the
 * chunk carries (content, reasoning, refusal, tool-call names and arguments, logprob tokens,
 * unknown members), so none of it is released unchecked. Only events whose text passed a check
 * are released. On unsafe: a content_filter chunk, [DONE], and the upstream request is aborted.
 */
export async function relayWindowed(input: RelayInput): Promise<void> {
  const { res, runtime, record } = input;
  const ctx = contextOf(res);
  const { window_tokens: windowTokens, overlap_tokens: overlapTokens } = runtime.loaded.policy.streaming;
  const accumulator = new AnswerAccumulator();
  const pending: { event: EngineEvent; tokenEnd: number }[] = [];
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

  /** Checks tokens (checkedTokens - overlap, upTo]; true when they passed. */
  const check = async (upTo: number): Promise<boolean> => {
    const from = Math.max(0, checkedTokens - overlapTokens);
    const phase = await input.checkAnswer(accumulator.window(from, upTo), 0);
    record.outputs.push(phase);
    ctx.guardMs += phase.durationMs;
    checkedTokens = upTo;
    return phase.decision.action !== 'block';
  };

  const block = async () => {
    input.abortUpstream?.();
    record.content?.output.push(accumulator.answer(0).content);
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
    for await (const event of engineEvents(input.upstream, accumulator, input.adapter)) {
      if (!engineCounted) {
        engineCounted = true;
        ctx.engineMs += performance.now() - input.engineStarted;
      }
      if (event.done) sawDone = true;
      pending.push({ event, tokenEnd: accumulator.textEvents });
      if (accumulator.textEvents - checkedTokens >= windowTokens) {
        if (!(await check(accumulator.textEvents))) return await block();
        await release(checkedTokens);
      }
    }
    if (!sawDone) throw new EngineError('bad_gateway', 'the engine stream ended without [DONE]');
    record.engine = accumulator.engineSummary(input.engineStarted);
    if (accumulator.textEvents > checkedTokens || checkedTokens === 0) {
      if (!(await check(accumulator.textEvents))) return await block();
    }
    record.content?.output.push(accumulator.answer(0).content);
    await input.finish(200);
    await release(Number.POSITIVE_INFINITY);
    res.end();
  } catch (err) {
    if (!headersSent) throw err;
    await endStreamWithError(input, err);
  }
}
