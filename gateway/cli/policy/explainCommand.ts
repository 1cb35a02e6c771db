import { parseArgs } from 'node:util';
import { z } from 'zod';
import { TestMessage } from '../../../policies/schema';
import { UnknownPolicyError } from '../../pipeline/runtime/policyRuntime';
import { explainReport } from './explainReport';
import { displayPath, type CliIo } from './io';
import { openHolder } from './openHolder';
import { runConversation } from './runConversation';

const USAGE = 'usage: safety-gateway policy explain FILE (--prompt TEXT | --conversation JSON) [--answer TEXT [--whole-only]] [--policy ID] [--json]\n';

/**
 * `policy explain FILE --prompt TEXT`: runs one prompt or conversation (and optionally an answer)
 * through the real guards and shows every rule's guard score against its threshold and the rule
 * that decides. `--json` prints the decision records instead.
 */
export async function explainCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { prompt: { type: 'string' }, conversation: { type: 'string' }, answer: { type: 'string' }, 'whole-only': { type: 'boolean' }, policy: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length !== 1 || (values.prompt === undefined) === (values.conversation === undefined)) {
    io.err(USAGE);
    return 2;
  }
  let messages: TestMessage[];
  if (values.conversation !== undefined) {
    const parsed = parseConversation(values.conversation);
    if (typeof parsed === 'string') {
      io.err(`--conversation: ${parsed}\n${USAGE}`);
      return 2;
    }
    messages = parsed;
  } else {
    messages = [{ role: 'user', content: values.prompt ?? '' }];
  }
  const holder = await openHolder(positionals[0], io);
  if (!holder) return 1;
  try {
    let runtime;
    try {
      runtime = holder.current(values.policy);
    } catch (err) {
      if (!(err instanceof UnknownPolicyError)) throw err;
      io.err(`no policy \`${values.policy}\` in ${positionals[0]}; policies: ${holder.all().map((r) => r.loaded.id).join(', ')}\n`);
      return 2;
    }
    // --whole-only: the answer checked whole only (one check per window of a long answer takes a while).
    const result = await runConversation(runtime, { messages, answer: values.answer, streamed: !values['whole-only'] });
    if (values.json) {
      // A guard fault is `error` here as in the gateway's answer (503) and audit record.
      io.out(`${JSON.stringify({ policy: runtime.ref, action: result.fault ? 'error' : result.action, ...(result.fault ? { fault: result.fault } : {}), input: result.input, output: result.output ?? null, ...(result.streamed ? { streamed: { action: result.streamed.phase.decision.action, window: result.streamed.window, tokens: result.streamed.tokens, output: result.streamed.phase } } : {}) }, null, 2)}\n`);
    } else {
      io.out(explainReport(runtime.ref, displayPath(io, runtime.loaded.file), runtime.loaded.policy, result, values.answer !== undefined));
    }
    return 0;
  } finally {
    await holder.close();
  }
}

/** Pure: `--conversation` as messages, or what is wrong with it. */
export function parseConversation(text: string): TestMessage[] | string {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'not valid JSON; give a list like [{"role":"user","content":"hi"}]';
  }
  const parsed = z.array(TestMessage).min(1).safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    return `${issue.path.join('.') || 'the list'}: ${issue.message}`;
  }
  return parsed.data;
}
