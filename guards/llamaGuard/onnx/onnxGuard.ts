/** Llama Guard 3 on a local ONNX decoder, as a Guard. */
import type { Guard, GuardRequest, Verdict } from '../../types';
import { errorVerdict } from '../../types';
import { nextTurn } from '../../runtime/yield';
import { classifyPromptIds } from './classify';
import { type LlamaGuardOnnxModel, loadLlamaGuardOnnxModel, modelNameOf } from './localModel';
import { DEFAULT_MAX_NEW_TOKENS, DEFAULT_TIMEOUT_MS, type LlamaGuardOnnxOptions } from '../options';
import { knownCategoryCodes, promptCategories } from '../categories';
import { parseAssessment } from '../parse';
import { renderPrompt } from '../prompt';
import { extraReadingChars } from '../readApart';
import { type CheckOutcome, runCheck } from '../run';
import { conversationChars, timeoutFor } from '../../runtime/timeoutBudget';
import type { GuardRole, GuardTurn } from '../turns';

export function createLlamaGuardOnnx(options: LlamaGuardOnnxOptions): Guard {
  const model = modelNameOf(options);
  const maxNewTokens = options.maxNewTokens ?? DEFAULT_MAX_NEW_TOKENS;
  const ctx = { guard: options.name, model, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, system: options.systemTurns ?? 'as_user' };
  let loading: Promise<LlamaGuardOnnxModel> | undefined;
  let loaded: LlamaGuardOnnxModel | undefined;

  async function classify(m: LlamaGuardOnnxModel, turns: GuardTurn[], role: GuardRole, signal: AbortSignal): Promise<CheckOutcome> {
    const prompt = renderPrompt({
      variant: options.variant,
      role,
      turns,
      categories: options.categories,
      excludedCategories: options.excludedCategories,
    });
    // Tokenizing runs on the event loop: take a turn of its own, in turn with other checks.
    await nextTurn();
    signal.throwIfAborted();
    const ids = m.encode(prompt);
    const maxPrompt = options.maxPromptTokens ?? (m.maxPositionEmbeddings ? m.maxPositionEmbeddings - maxNewTokens : Infinity);
    if (ids.length > maxPrompt) {
      return { kind: 'error', error: { type: 'bad_input', message: `prompt is ${ids.length} tokens, over the limit of ${maxPrompt}` } };
    }
    const result = await classifyPromptIds(m.decoder, m.tokens, ids, maxNewTokens, signal);
    if (result.stoppedBy === 'limit') {
      // A Llama Guard answer is a few tokens; one that never ends is not an answer, and a truncated
      // category list would read as a valid but wrong one.
      return {
        kind: 'assessed',
        assessment: { ok: false, error: `no end of answer within ${maxNewTokens} generated tokens` },
        pUnsafe: result.pUnsafe,
      };
    }
    const assessment = parseAssessment(m.decode(result.generated), options.excludedCategories, knownCategoryCodes(options.variant, options.categories), promptCategories(options.variant, options.categories, options.excludedCategories).keyOf);
    return { kind: 'assessed', assessment, pUnsafe: result.pUnsafe };
  }

  return {
    name: options.name,
    model,
    load(): Promise<void> {
      loading ??= loadLlamaGuardOnnxModel(options).then((m) => {
        loaded = m;
        return m;
      });
      // A failed load may be retried (e.g. after the operator fixes the directory).
      loading.catch(() => {
        loading = undefined;
      });
      return loading.then(() => undefined);
    },
    check(request: GuardRequest): Promise<Verdict> {
      const m = loaded;
      if (!m) return Promise.resolve(errorVerdict(options.name, model, { type: 'unavailable', message: 'model not loaded (call load() first)' }, 0));
      const timeoutMs = timeoutFor({ baseMs: ctx.timeoutMs, per1kTokensMs: options.timeoutPer1kTokensMs, maxMs: options.maxTimeoutMs }, conversationChars(request.conversation) + extraReadingChars(request.conversation ?? [], request.direction));
      return runCheck({ ...ctx, timeoutMs }, request, (turns, role, signal) => classify(m, turns, role, signal));
    },
    async close(): Promise<void> {
      const m = loaded;
      loaded = undefined;
      loading = undefined;
      if (m) await m.close();
    },
  };
}
