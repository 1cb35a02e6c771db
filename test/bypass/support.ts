import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FIXTURES } from '../support/gatewayHarness';

const ROOT = path.join(__dirname, '..', '..');
export const DEFAULT_POLICY = path.join(ROOT, 'policies', 'default.yaml');

/**
 * The shipped default policy (its rules and sources exactly), with the tiny fixture models in
 * place of the bundled ones: their verdicts are set by marker words (zzjailbreak, zzinject ->
 * Prompt Guard; zzsN -> unsafe content, category SN), so "the text reached a guard" shows as a
 * block. `edit` changes the YAML further (e.g. the streaming mode).
 */
export function defaultPolicyWithFixtureModels(edit: (yaml: string) => string = (y) => y): string {
  const yaml = readFileSync(DEFAULT_POLICY, 'utf8')
    .replace(/model: \.\.\/guards\/models\/prompt-guard-small/, `model: ${path.join(FIXTURES, 'models', 'prompt-guard-v1-tiny')}`)
    .replace(/model: \.\.\/guards\/models\/content-guard-small/, `model: ${path.join(FIXTURES, 'models', 'content-guard-tiny')}`);
  if (/guards\/models\//.test(yaml)) throw new Error('default.yaml names a model this helper does not swap: update it');
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-bypass-'));
  const file = path.join(dir, 'default-fixtures.yaml');
  writeFileSync(file, edit(yaml));
  return file;
}

/** Replaces the policy's whole `streaming:` block (whatever the shipped default is). */
const streaming = (block: string) => (yaml: string) => {
  const edited = yaml.replace(/^streaming:\n(?: {2}.*(?:\n|$))*/m, `streaming:\n${block}\n`);
  if (edited === yaml) throw new Error('no streaming block in the policy: update test/bypass/support.ts');
  return edited;
};
export const bufferMode = streaming('  mode: buffer');
export const windowMode = (windowTokens: number) => streaming(`  mode: window\n  window_tokens: ${windowTokens}\n  overlap_tokens: 1`);
export const offMode = streaming('  mode: off');

/** A chat answer the engine might send, with extra members in the message and the choice. */
export function chatAnswer(message: Record<string, unknown>, choice: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'chatcmpl-b', object: 'chat.completion', created: 1, model: 'dev', choices: [{ index: 0, message: { role: 'assistant', ...message }, logprobs: null, finish_reason: 'stop', ...choice }], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } };
}

/** SSE events of a streamed chat answer: a role chunk, one chunk per delta, a finish chunk, [DONE]. */
export function chatEvents(deltas: Record<string, unknown>[], choiceExtras: Record<string, unknown>[] = []): string[] {
  const chunk = (delta: Record<string, unknown>, extra: Record<string, unknown> = {}, finish: string | null = null) =>
    `data: ${JSON.stringify({ id: 'chatcmpl-s1', object: 'chat.completion.chunk', created: 1, model: 'dev', choices: [{ index: 0, delta, logprobs: null, finish_reason: finish, ...extra }] })}`;
  return [chunk({ role: 'assistant', content: '' }), ...deltas.map((d, i) => chunk(d, choiceExtras[i])), chunk({}, {}, 'stop'), 'data: [DONE]'];
}

/** The data payloads of an SSE body. */
export function ssePayloads(text: string): string[] {
  return text
    .split(/\n\n/)
    .map((block) => block.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5).trimStart()).join('\n'))
    .filter((d) => d.length > 0);
}

/** A Responses answer the engine might send: the response object around these output items. */
export function responseAnswer(output: Record<string, unknown>[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id: 'resp_b', object: 'response', created_at: 1, status: 'completed', model: 'dev', error: null, incomplete_details: null, output, usage: { input_tokens: 1, output_tokens: 1, total_tokens: 2 }, ...extra };
}

/** SSE events of a streamed Responses answer: response.created, these events, response.completed, numbered, as OpenAI names them. */
export function responseStream(events: Record<string, unknown>[], output: Record<string, unknown>[] = []): string[] {
  const opening = responseAnswer([], { status: 'in_progress', usage: null });
  const all = [{ type: 'response.created', response: opening }, ...events, { type: 'response.completed', response: responseAnswer(output) }];
  return all.map((e, i) => `event: ${String(e.type)}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}`);
}

/** The JSON payloads of a Responses SSE body. */
export function responsePayloads(text: string): Record<string, unknown>[] {
  return ssePayloads(text).map((p) => JSON.parse(p) as Record<string, unknown>);
}
