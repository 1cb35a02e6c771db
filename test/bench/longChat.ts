import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startDevEngine } from '../../engine/devEngine/server';
import { countTokensSync } from '../../gateway/access/tokens/llama3Tokens';
import { loadRecords, splitLookup } from '../../gateway/cli/eval/dataset';
import { datasetFilesIn } from '../../gateway/cli/eval/dataFiles';
import { packageRoot } from '../../gateway/paths';

/**
 * npm run bench:long-chat: a benign chat grown the way a client grows one, to ~120K Llama 3 tokens,
 * through `safety-gateway serve` (npm start's command: default policy, bundled models) in front of
 * the dev engine. Each turn the dev engine answers with a benign-chat test answer and the client
 * resends the whole history with the next user turn: every third one pastes a doc-carriers test
 * document, the others are benign-chat test prompts (../shared/data, test split). A refused turn
 * is dropped, as a user would rephrase (the chat is given up after 10 in a row; any other error
 * ends it). Prints each turn (status, tokens, guard ms) and a summary: whether the last, ~120K-token
 * turn was answered in full (exit 1 if not), and guard time of turn 20 against turn 1.
 * LONG_CHAT_TOKENS (120000), LONG_CHAT_DATA (../shared/data).
 */
const TARGET = Number(process.env.LONG_CHAT_TOKENS ?? 120_000);
/** Refusals in a row after which the chat is given up (a history text that trips a rule every time). */
const MAX_REFUSED_IN_A_ROW = 10;
const START_TIMEOUT_MS = 120_000;
const DATA = path.resolve(process.env.LONG_CHAT_DATA ?? path.join(packageRoot(), '..', 'shared', 'data'));

interface Turn {
  turn: number;
  status: number;
  tokens: number;
  guardMs: number;
  verdict: string | null;
  finish?: string;
  rule?: string;
}

function serve(engineUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const auditDir = mkdtempSync(path.join(os.tmpdir(), 'sg-long-chat-'));
  const child = spawn(process.execPath, [path.join(packageRoot(), 'bin', 'safety-gateway.js'), 'serve', '--port', '0', '--engine-url', engineUrl], {
    env: { ...process.env, SAFETY_AUDIT_DIR: auditDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let said = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not listen within ${START_TIMEOUT_MS} ms: ${said.slice(-1000)}`));
    }, START_TIMEOUT_MS);
    const onData = (d: Buffer) => {
      said += d.toString('utf8');
      const m = /listening on (http:\/\/[^\s)]+)/.exec(said);
      if (!m) return;
      clearTimeout(timer);
      resolve({ child, url: m[1].replace(/\/v1\/?$/, '').replace(/\/$/, '') });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code}): ${said.slice(-1000)}`));
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(DATA)) throw new Error(`no shared data at ${DATA} (LONG_CHAT_DATA)`);
  const records = loadRecords(datasetFilesIn(DATA));
  // Every dataset is already in `records`: the split rule's cross-set check sees them all.
  const { splitOf } = splitLookup(records, undefined);
  const test = records.filter((r) => splitOf(r) === 'test');
  const prompts = test.filter((r) => r.dataset === 'benign-chat' && r.role === 'user' && r.label === 'safe').map((r) => r.text);
  const answers = test.filter((r) => r.dataset === 'benign-chat' && r.role === 'assistant').map((r) => r.text);
  const documents = test.filter((r) => r.dataset === 'doc-carriers' && r.label === 'benign' && r.text.length > 1500).map((r) => r.text);
  if (!prompts.length || !answers.length || !documents.length) throw new Error(`no benign-chat prompts, answers or doc-carriers documents in the test split under ${DATA}`);
  const engine = await startDevEngine();
  const gateway = await serve(engine.baseUrl);
  const messages: { role: 'user' | 'assistant'; content: string }[] = [];
  const turns: Turn[] = [];
  let tokens = 0;
  let refusedInARow = 0;
  try {
    for (let i = 0; tokens < TARGET && refusedInARow < MAX_REFUSED_IN_A_ROW; i++) {
      const user = i % 3 === 2 ? `Here is a document I am working with; please keep it in mind.\n\n${documents[(i * 7) % documents.length]}` : prompts[(i * 37) % prompts.length];
      messages.push({ role: 'user', content: user });
      // A turn refused on input never reaches the engine: clear its reply, so answers stay in step.
      await fetch(`${engine.url}/dev/reset`, { method: 'POST' });
      await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: answers[(i * 53) % answers.length] }) });
      const res = await fetch(`${gateway.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'llama-3.1-405b', messages, max_tokens: 4096 }) });
      const body = (await res.json()) as { choices?: { message: { content: string }; finish_reason: string }[]; error?: { code?: string; safety?: { rule_id?: string } } };
      const turn: Turn = {
        turn: i + 1,
        status: res.status,
        tokens: messages.reduce((n, m) => n + countTokensSync(m.content), 0),
        guardMs: Number(res.headers.get('x-guard-duration-ms')),
        verdict: res.headers.get('x-safety-verdict'),
        finish: body.choices?.[0]?.finish_reason,
        rule: body.error?.safety?.rule_id,
      };
      turns.push(turn);
      process.stdout.write(`${JSON.stringify(turn)}\n`);
      if (answered(turn)) {
        messages.push({ role: 'assistant', content: body.choices![0].message.content });
        tokens = turn.tokens;
        refusedInARow = 0;
      } else if (res.status === 400 && body.error?.code === 'content_policy_violation') {
        messages.pop();
        refusedInARow++;
      } else {
        throw new Error(`turn ${i + 1}: HTTP ${res.status} ${JSON.stringify(body).slice(0, 500)}`);
      }
    }
  } finally {
    gateway.child.kill('SIGTERM');
    await engine.close();
  }
  const last = turns[turns.length - 1];
  if (!last) throw new Error('no turn was sent');
  const refusedBy: Record<string, number> = {};
  for (const t of turns) if (!answered(t)) refusedBy[t.rule ?? String(t.status)] = (refusedBy[t.rule ?? String(t.status)] ?? 0) + 1;
  process.stdout.write(
    `\nlong chat: ${turns.length} turns, last ${last.tokens} tokens answered ${last.status} with ${last.guardMs} ms of guards; ` +
      `turn 1 ${turns[0].guardMs} ms, turn 20 ${turns[19]?.guardMs ?? 'n/a'} ms of guards; refused and dropped: ${JSON.stringify(refusedBy)}\n`,
  );
  if (!answered(last) || last.tokens < TARGET) process.exitCode = 1;
}

/** Answered in full: an output block comes back as 200 with the refusal text, and does not count. */
function answered(turn: Turn): boolean {
  return turn.status === 200 && turn.verdict !== 'block' && turn.finish !== 'content_filter';
}

void main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
