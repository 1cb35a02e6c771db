/**
 * What the fuzz properties accept as an answer: valid JSON in OpenAI's shape, or well-formed SSE
 * (every event terminated by a blank line, `data: [DONE]` last, every data payload JSON).
 */
export interface Answer {
  status: number;
  contentType: string;
  body: string;
}

export function problemsWith(answer: Answer): string[] {
  const problems: string[] = [];
  if (answer.status >= 500 && answer.status !== 502 && answer.status !== 503 && answer.status !== 504) problems.push(`status ${answer.status}`);
  if (/text\/event-stream/.test(answer.contentType)) {
    if (answer.status !== 200) problems.push(`SSE with status ${answer.status}`);
    problems.push(...sseProblems(answer.body));
    return problems;
  }
  if (!/application\/json/.test(answer.contentType)) return [...problems, `content type ${answer.contentType || '(none)'}`];
  let json: unknown;
  try {
    json = JSON.parse(answer.body);
  } catch {
    return [...problems, 'body is not JSON'];
  }
  if (answer.status >= 400) {
    const error = (json as { error?: { message?: unknown; type?: unknown } }).error;
    if (typeof error?.message !== 'string' || typeof error?.type !== 'string') problems.push('error not in OpenAI shape');
    if (/at .*\.(ts|js):\d+/.test(answer.body)) problems.push('stack trace');
  }
  return problems;
}

export function sseProblems(body: string): string[] {
  const problems: string[] = [];
  if (!/(\r\n|\r|\n)(\r\n|\r|\n)$/.test(body)) problems.push('stream does not end with a blank line');
  const events = body.split(/(?:\r\n|\r|\n){2}/).filter((e) => e.length > 0);
  const data = events
    .map((event) => {
      const lines = event.split(/\r\n|\r|\n/).filter((l) => l.startsWith('data:'));
      return lines.length ? lines.map((l) => l.slice(5).replace(/^ /, '')).join('\n') : undefined;
    })
    .filter((d): d is string => d !== undefined);
  if (data[data.length - 1] !== '[DONE]') problems.push('last data is not [DONE]');
  if (data.indexOf('[DONE]') !== data.length - 1) problems.push('data after [DONE]');
  for (const d of data.slice(0, -1)) {
    try {
      JSON.parse(d);
    } catch {
      problems.push(`data that is not JSON: ${d.slice(0, 40)}`);
      break;
    }
  }
  return problems;
}
