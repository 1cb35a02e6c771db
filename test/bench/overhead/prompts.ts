/**
 * Varied chat prompts: every request of a run asks something else, so no verdict cache (per text,
 * per row) can answer for a guard, and every target of the bench gets the same sequence.
 */
const SUBJECTS = ['a birthday party', 'a vegetable garden', 'a trip to Lisbon', 'a chess opening', 'a rainy Sunday', 'a science fair project', 'a job interview', 'a bicycle repair', 'a family recipe', 'a history essay', 'a board game night', 'a marathon plan'];
const ASKS = ['Plan', 'Summarize the key steps of', 'Write three tips for', 'Suggest a checklist for', 'Explain to a child', 'List common mistakes in'];
const DETAILS = ['keeping it short', 'for a beginner', 'with a friendly tone', 'in plain words', 'on a small budget', 'for two people', 'in under an hour', 'with one surprise'];

export function prompt(i: number): string {
  const ask = ASKS[i % ASKS.length];
  const subject = SUBJECTS[Math.floor(i / ASKS.length) % SUBJECTS.length];
  const detail = DETAILS[Math.floor(i / (ASKS.length * SUBJECTS.length)) % DETAILS.length];
  return `${ask} ${subject}, ${detail}. (request ${i})`;
}

export function chatBody(i: number): string {
  return JSON.stringify({ model: 'llama-3.1-405b', messages: [{ role: 'user', content: prompt(i) }], max_tokens: 64 });
}
