import type { EngineResponse } from '../../engine/client';
import { sendJson, sendJsonBytes } from '../routes/httpResponses';
import type { ValidatedRequest } from './requestSchemas';
import { EngineError } from '../../engine/errors';
import { unaskedChoice } from '../streaming/expectedChoices';
import { relayStream } from '../streaming/relayStream';
import type { CompletionAdapter } from './adapters';
import { parseEngineJson, readEngineBody } from './engineAnswer';
import type { GuardedCall } from './guardedCall';
import type { GuardedEndpoint } from './guardedEndpoint';

type ChoicesRequest = Extract<ValidatedRequest, { kind: 'chat' | 'text' }>;

/** A choices-shaped endpoint (chat, text completions) as a guarded endpoint: the stream relays, or the whole answer below. */
export function completionEndpoint<V extends ChoicesRequest>(adapter: CompletionAdapter<V>): GuardedEndpoint<V> {
  return {
    route: adapter.route,
    enginePath: adapter.enginePath,
    operation: adapter.operation,
    inputParam: adapter.operation === 'chat' ? 'messages' : 'prompt',
    validate: (body) => adapter.validate(body),
    extract: (validated, fields) => adapter.extract(validated, fields),
    parse: (body, fields) => adapter.parse(body, fields),
    respond: (call, upstream) => (call.parsed.stream ? relayStream(call, upstream, adapter) : respondWhole(call, upstream, adapter)),
  };
}

/** Not streamed: the whole answer is read, every choice checked, and sent as the engine sent it, or with the blocked choices replaced. */
async function respondWhole(call: GuardedCall, upstream: EngineResponse, adapter: CompletionAdapter<ChoicesRequest>): Promise<void> {
  const raw = await readEngineBody(upstream);
  call.ctx.timing.engineAnswered();
  const json = parseEngineJson(raw);
  // Not a completion (`null`, an array, `tool_calls: {}`, ...): adapter.answers throws EngineError (502).
  const context = { model: call.parsed.model };
  const answers = adapter.answers(json, context);
  call.record.engine = {
    durationMs: call.ctx.timing.sinceEngineStart(),
    id: typeof json.id === 'string' ? json.id : undefined,
    model: typeof json.model === 'string' ? json.model : undefined,
    usage: json.usage as Record<string, unknown> | undefined,
    finishReasons: finishReasons(json),
  };
  if (unaskedChoice(answers.keys(), call.parsed.body) !== undefined) throw new EngineError('bad_gateway', 'the engine sent more answers than the request asked for');
  call.delivered([...answers.values()]);
  const phases = await call.checkAnswers([...answers.entries()].map(([i, a]) => [a, i] as const));
  const blocked = new Set(phases.filter((p) => p.decision.action === 'block').map((p) => p.choice));
  await call.finish(200);
  call.sendHeaders();
  if (blocked.size === 0) {
    // Passed answers go back exactly as the engine sent them.
    sendJsonBytes(call.res, 200, raw);
    return;
  }
  adapter.blockChoices(json, blocked, call.policy.refusals.output, context);
  sendJson(call.res, 200, json);
}

function finishReasons(json: Record<string, unknown>): string[] {
  const choices = json.choices;
  if (!Array.isArray(choices)) return [];
  return choices.map((c: { finish_reason?: unknown }) => c?.finish_reason).filter((r): r is string => typeof r === 'string');
}
