import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/**
 * A policy file whose only guard is Llama Guard on an OpenAI-compatible server (a fake on
 * loopback in tests): `unsafe-prompt` on the input, `unsafe-answer` on the output (unless
 * `output: false`), both at 0.5; `guard` adds members to the guard's spec, `streaming` sets the
 * streaming section (its lines, indented as under `streaming:`).
 */
export function remoteLlamaGuardPolicy(baseUrl: string, model: string, options: { guard?: Record<string, string | number>; streaming?: string[]; output?: boolean } = {}): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'sg-remote-policy-')), 'remote.yaml');
  const extra = Object.entries(options.guard ?? {}).map(([k, v]) => `    ${k}: ${v}\n`).join('');
  const output = options.output === false ? '' : 'output:\n  - id: unsafe-answer\n    guard: llama_guard\n    threshold: 0.5\n';
  const streaming = options.streaming ? `streaming:\n${options.streaming.map((l) => `  ${l}\n`).join('')}` : '';
  writeFileSync(
    file,
    `id: remote-guarded
guards:
  llama_guard:
    type: llama_guard
    backend: openai
    model: ${model}
    base_url: ${baseUrl}
${extra}input:
  - id: unsafe-prompt
    guard: llama_guard
    threshold: 0.5
${output}${streaming}`,
  );
  return file;
}
