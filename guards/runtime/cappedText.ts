import type { Readable } from 'node:stream';

/** A guard server's answer was larger than any real answer could be. */
export class AnswerTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the answer is larger than ${maxBytes} bytes`);
    this.name = 'AnswerTooLarge';
  }
}

/**
 * Reads a response body as UTF-8 text, at most `maxBytes`: a broken server or proxy that sends
 * hundreds of megabytes must cost one guard error, not the gateway's memory (the check's deadline
 * bounds time, not bytes). Past the cap the body is destroyed and AnswerTooLarge thrown.
 */
export async function readCappedText(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    total += bytes.length;
    if (total > maxBytes) {
      body.destroy();
      throw new AnswerTooLarge(maxBytes);
    }
    chunks.push(bytes);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
