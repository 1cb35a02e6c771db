import { parseArgs } from 'node:util';
import { displayPath, type CliIo } from './io';
import { judgeCase, type CaseOutcome } from './judgeCase';
import { openHolder } from './openHolder';
import { messagesOf, runConversation } from './runConversation';
import { renderTable } from './table';

/**
 * `policy test FILE [--policy ID]`: runs the `tests:` cases of every policy in the set (or of one)
 * against the real guards, prints a table, exits 1 on any failure. A case with an answer, under
 * `streaming.mode: window`, must hold whole and streamed (window by window, as the gateway checks a stream).
 */
export async function testCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { policy: { type: 'string' } }, allowPositionals: true, strict: true });
  if (positionals.length !== 1) {
    io.err('usage: safety-gateway policy test FILE [--policy ID]\n');
    return 2;
  }
  const holder = await openHolder(positionals[0], io);
  if (!holder) return 1;
  try {
    const runtimes = holder.all().filter((r) => values.policy === undefined || r.loaded.id === values.policy);
    if (runtimes.length === 0) {
      io.err(`no policy \`${values.policy}\` in ${positionals[0]}; policies: ${holder.all().map((r) => r.loaded.id).join(', ')}\n`);
      return 2;
    }
    const rows: { policy: string; outcome: CaseOutcome }[] = [];
    for (const runtime of runtimes) {
      for (const test of runtime.loaded.policy.tests) {
        // An answer is judged whole and, under window mode, as a stream of it is checked.
        const result = await runConversation(runtime, { messages: messagesOf(test), answer: test.answer, streamed: true });
        rows.push({ policy: runtime.loaded.id, outcome: judgeCase(test, result) });
      }
    }
    if (rows.length === 0) {
      io.out(`no test cases in ${runtimes.map((r) => displayPath(io, r.loaded.file)).join(', ')}: add a \`tests:\` list (see policies/README.md)\n`);
      return 1;
    }
    const manyPolicies = new Set(rows.map((r) => r.policy)).size > 1;
    const headers = [...(manyPolicies ? ['POLICY'] : []), 'RESULT', 'TEST', 'EXPECTED', 'GOT', 'RULE', 'DETAIL'];
    io.out(
      renderTable(
        headers,
        rows.map(({ policy, outcome: o }) => [...(manyPolicies ? [policy] : []), o.passed ? 'pass' : 'FAIL', o.name, o.expected, o.actual, o.rule ?? '-', o.detail]),
      ),
    );
    const failed = rows.filter((r) => !r.outcome.passed).length;
    const tested = runtimes.filter((r) => rows.some((row) => row.policy === r.loaded.id)).map((r) => r.ref);
    io.out(`\n${rows.length - failed} passed, ${failed} failed (${tested.join(', ')})\n`);
    return failed ? 1 : 0;
  } finally {
    await holder.close();
  }
}
