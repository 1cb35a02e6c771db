import path from 'node:path';
import { startDevEngine } from '../../engine/devEngine/server';
import { GatewayConfig } from '../../gateway/config';
import { packageRoot } from '../../gateway/paths';
import type { DecisionRecorder, RequestRecord } from '../../gateway/record/requestRecord';
import { startGateway } from '../../gateway/server';
import { summarize, table } from './stats';

/**
 * bench:guards (f): a growing chat through the real gateway (default policy, bundled models, dev
 * engine with scripted answers): each turn resends the whole history, as chat clients do. Guard
 * time per turn comes from the decision records (input phase, and input + output); a second
 * gateway then gets turn 20's conversation cold (nothing cached), which is what every turn would
 * cost without reuse. BENCH_CHAT_TURNS (20), BENCH_CHAT_ROUNDS (3 conversations, medians).
 */
const TURNS = Number(process.env.BENCH_CHAT_TURNS ?? 20);
const ROUNDS = Number(process.env.BENCH_CHAT_ROUNDS ?? 3);

const WORDS = (
  'plan trip city museum train hotel budget food walk river market evening morning ticket friend family price open close visit ' +
  'garden history bridge coffee lunch dinner route weather rain sun map guide old new small large quiet busy north south day week'
).split(' ');

function sentences(n: number, seed: number): string {
  let state = seed >>> 0;
  const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
  const out: string[] = [];
  for (let s = 0; s < n; s++) {
    const k = 8 + (next() % 10);
    const words = Array.from({ length: k }, () => WORDS[(next() >>> 8) % WORDS.length]!);
    out.push(`${words[0]![0]!.toUpperCase()}${words.join(' ').slice(1)}.`);
  }
  return out.join(' ');
}

class Records implements DecisionRecorder {
  readonly all: RequestRecord[] = [];
  async record(record: RequestRecord): Promise<void> {
    this.all.push(record);
  }
}

interface TurnCost {
  input: number;
  total: number;
  textsFromCache: number;
}

function costOf(record: RequestRecord): TurnCost {
  const input = record.input?.durationMs ?? 0;
  const output = record.outputs.reduce((n, o) => n + o.durationMs, 0);
  const textsFromCache = (record.input?.verdicts ?? []).reduce((n, v) => n + (v.verdict.cacheHits?.texts ?? 0), 0);
  return { input, total: input + output, textsFromCache };
}

export async function growingChatSection(): Promise<void> {
  const root = packageRoot();
  const policy = path.join(root, 'policies', 'default.yaml');
  const engine = await startDevEngine({ tokenDelayMs: 0 });
  const records = new Records();
  const coldRecords = new Records();
  const config = GatewayConfig.parse({ port: 0, policy, engine: { url: engine.baseUrl } });
  const gateway = await startGateway({ config, recorder: records, watchPolicies: false });
  const script = async (reply: string) => {
    await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply }) });
  };
  const send = async (url: string, messages: { role: string; content: string }[]) => {
    const res = await fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', max_tokens: 256, messages }) });
    const body = (await res.json()) as { choices?: { message: { content: string } }[] };
    if (res.status !== 200) throw new Error(`turn answered ${res.status}: ${JSON.stringify(body).slice(0, 200)}`);
    return body.choices![0]!.message.content;
  };
  const perTurn: TurnCost[][] = Array.from({ length: TURNS }, () => []);
  const cold: TurnCost[] = [];
  let historyChars = 0;
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const messages: { role: string; content: string }[] = [{ role: 'system', content: 'You are a helpful travel assistant. Keep answers practical.' }];
      for (let t = 0; t < TURNS; t++) {
        messages.push({ role: 'user', content: `${sentences(4 + (t % 3), round * 1000 + t)} What do you suggest?` });
        await script(sentences(10, round * 1000 + t + 500));
        messages.push({ role: 'assistant', content: await send(gateway.url, messages) });
        perTurn[t]!.push(costOf(records.all[records.all.length - 1]!));
      }
      historyChars = messages.reduce((n, m) => n + m.content.length, 0);
      // Turn 20's request on a gateway that has cached nothing: the cost of a turn without reuse.
      const fresh = await startGateway({ config, recorder: coldRecords, watchPolicies: false });
      try {
        await script(sentences(10, 99));
        await send(fresh.url, messages.slice(0, -1));
        cold.push(costOf(coldRecords.all[coldRecords.all.length - 1]!));
      } finally {
        await fresh.shutdown(1000);
      }
    }
  } finally {
    await gateway.shutdown(1000);
    await engine.close();
  }
  const med = (xs: number[]) => summarize(xs).p50;
  const rows = [0, 1, 4, 9, 14, TURNS - 1]
    .filter((t, i, all) => t < TURNS && all.indexOf(t) === i)
    .map((t) => [String(t + 1), med(perTurn[t]!.map((c) => c.input)).toFixed(1), med(perTurn[t]!.map((c) => c.total)).toFixed(1), med(perTurn[t]!.map((c) => c.textsFromCache)).toFixed(0)]);
  rows.push([`${TURNS}, cold (nothing cached)`, med(cold.map((c) => c.input)).toFixed(1), med(cold.map((c) => c.total)).toFixed(1), '0']);
  const first = med(perTurn[0]!.map((c) => c.total));
  const last = med(perTurn[TURNS - 1]!.map((c) => c.total));
  const firstIn = med(perTurn[0]!.map((c) => c.input));
  const lastIn = med(perTurn[TURNS - 1]!.map((c) => c.input));
  console.log(`\n# (f) a growing chat: guard time per turn through the gateway (default policy, bundled models), median of ${ROUNDS} conversations\n`);
  console.log(`- each turn resends the whole history (a system prompt, then user turns of 4-6 sentences and answers of 10); turn ${TURNS}'s history is ${historyChars} characters`);
  console.log('- input = the input guard phase; total = input + output phases (the answer is checked once, it is new every turn); texts from cache = texts whose verdict was reused, all input rules together\n');
  console.log(table(['turn', 'input guards ms', 'input + output ms', 'texts from cache'], rows));
  console.log(
    `\n- turn ${TURNS} / turn 1: input ${(lastIn / firstIn).toFixed(2)}, total ${(last / first).toFixed(2)} (target <= 1.5); turn ${TURNS} cold / cached: total ${(med(cold.map((c) => c.total)) / last).toFixed(2)}`,
  );
}
