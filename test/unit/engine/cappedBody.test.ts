import { PassThrough, Readable } from 'node:stream';
import { CappedBody } from '../../../engine/cappedBody';
import { EngineError } from '../../../engine/errors';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('CappedBody: the engine body under engine.max_answer_bytes', () => {
  test('passes the body through, chunk by chunk', async () => {
    const body = Readable.from([Buffer.from('ab'), Buffer.from('cd'), Buffer.from('e')], { objectMode: false });
    expect((await readAll(new CappedBody(body, 5))).toString()).toBe('abcde');
  });

  test('over the cap: EngineError bad_gateway, and the body is destroyed', async () => {
    const body = Readable.from([Buffer.from('abc'), Buffer.from('def')], { objectMode: false });
    const err = await readAll(new CappedBody(body, 5)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect((err as EngineError).failure).toBe('bad_gateway');
    expect((err as EngineError).message).toBe('the engine answer is larger than the limit of 5 bytes (engine.max_answer_bytes)');
    expect(body.destroyed).toBe(true);
  });

  test("the body's error reaches the reader, also when it came before the first read", async () => {
    const failing = new PassThrough();
    const capped = new CappedBody(failing, 100);
    failing.write('x');
    const boom = new Error('reset');
    setImmediate(() => failing.destroy(boom));
    await expect(readAll(capped)).rejects.toBe(boom);

    const early = new PassThrough();
    early.on('error', () => undefined);
    early.destroy(boom);
    await new Promise((r) => setImmediate(r));
    await expect(readAll(new CappedBody(early, 100))).rejects.toBe(boom);
  });

  test('a body closed before its end is a premature close', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    setImmediate(() => body.destroy());
    await expect(readAll(capped)).rejects.toMatchObject({ code: 'ERR_STREAM_PREMATURE_CLOSE' });
  });

  test('a reader that stops early destroys the body', async () => {
    const body = new PassThrough();
    body.write('first');
    const capped = new CappedBody(body, 100);
    for await (const _ of capped) break;
    await new Promise((r) => setImmediate(r));
    expect(body.destroyed).toBe(true);
  });

  test('backpressure: the body is paused while the reader is behind, and resumed as it reads', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 10 * 1024 * 1024);
    const chunk = Buffer.alloc(64 * 1024, 1);
    capped.once('readable', () => undefined);
    for (let i = 0; i < 8; i++) body.write(chunk);
    body.end();
    await new Promise((r) => setImmediate(r));
    expect(body.isPaused()).toBe(true);
    capped.removeAllListeners('readable');
    expect((await readAll(capped)).length).toBe(8 * chunk.length);
  });
});
