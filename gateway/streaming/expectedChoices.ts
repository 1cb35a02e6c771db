/**
 * Pure: how many answers the engine will stream for a forwarded chat or text-completion body.
 * A text completion answers each prompt of a prompt list, `n` times each (vLLM and OpenAI
 * interleave them by `index`), so a list of two prompts streams two answers even without `n`.
 * Window mode checks one answer as it grows; anything more is checked whole (buffer).
 */
export function expectedChoices(body: Readonly<Record<string, unknown>>): number {
  const perPrompt = typeof body.n === 'number' && Number.isInteger(body.n) && body.n > 1 ? body.n : 1;
  const prompts = Array.isArray(body.prompt) ? Math.max(1, body.prompt.length) : 1;
  return prompts * perPrompt;
}

/**
 * Pure: the first answer index beyond what the request asked for, if the engine sent one. Every
 * answer is checked (one guard run each) and relayed, so an engine answering `n: 1` with hundreds
 * of choices would multiply the guards' work and the client's reading: a broken answer (502).
 */
export function unaskedChoice(indexes: Iterable<number>, body: Readonly<Record<string, unknown>>): number | undefined {
  const expected = expectedChoices(body);
  for (const index of indexes) if (index >= expected) return index;
  return undefined;
}
