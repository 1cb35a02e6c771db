import { PassThrough, Readable } from 'node:stream';
import { CappedBody } from '../../../engine/cappedBody';
import { EngineError } from '../../../engine/errors';
import { StreamPace } from '../../../engine/streamPace';

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

describe('CappedBody.firstChunk: waiting for a stream to begin without taking anything from its reader', () => {
  test('resolves on the first chunk, and the reader still gets every byte', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    const waited = capped.firstChunk();
    setTimeout(() => {
      body.write('data: 1\n\n');
      body.end('data: [DONE]\n\n');
    }, 20);
    await waited;
    expect((await readAll(capped)).toString()).toBe('data: 1\n\ndata: [DONE]\n\n');
  });

  test('resolves on a body that ends empty (what is wrong with it is the reader\'s to say)', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    setImmediate(() => body.end());
    await capped.firstChunk();
    expect((await readAll(capped)).length).toBe(0);
  });

  test("rejects with the body's failure before the first chunk, as an EngineError (a cut: nothing was read)", async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    setImmediate(() => body.destroy(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' })));
    const err = await capped.firstChunk().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EngineError);
    expect(err).toMatchObject({ failure: 'bad_gateway', cut: true, code: 'UND_ERR_SOCKET' });
  });

  test("rejects with the pace's timeout when nothing comes", async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    capped.keepPace(new StreamPace(30, 1000, (err) => capped.destroy(err)));
    await expect(capped.firstChunk()).rejects.toMatchObject({ failure: 'timeout', stage: 'first_byte' });
    expect(body.destroyed).toBe(true);
  });
});

describe('StreamPace through CappedBody: the first chunk within its budget, then no long silence', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  test('a silence after the first chunk longer than the idle timeout fails the body with an idle timeout', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 1000);
    // The first chunk's budget (60 s) is far longer than the idle timeout: from the first chunk on, the idle timeout counts.
    capped.keepPace(new StreamPace(60_000, 60, (err) => capped.destroy(err)));
    body.write('a');
    const read = readAll(capped).catch((e: unknown) => e);
    // An unref'd timer: it must not keep the test worker alive once the read settled.
    const stillOpen = new Promise((r) => setTimeout(r, 3000, 'still open').unref());
    expect(await Promise.race([read, stillOpen])).toMatchObject({ failure: 'timeout', stage: 'idle' });
  });

  test('chunks that keep coming within the idle timeout pass, however long the whole takes', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 1000);
    capped.keepPace(new StreamPace(1000, 80, (err) => capped.destroy(err)));
    const read = readAll(capped);
    for (let i = 0; i < 8; i++) {
      body.write(String(i));
      await sleep(25);
    }
    body.end();
    expect((await read).toString()).toBe('01234567');
  });

  test("time the reader spends behind (backpressure) is not the engine's silence", async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 10 * 1024 * 1024);
    let failed: unknown;
    capped.keepPace(new StreamPace(1000, 40, (err) => {
      failed = err;
      capped.destroy(err);
    }));
    const chunk = Buffer.alloc(64 * 1024, 1);
    capped.once('readable', () => undefined);
    for (let i = 0; i < 4; i++) body.write(chunk);
    body.end();
    // The reader reads nothing for far longer than the idle timeout: the body sits paused behind it.
    await sleep(200);
    expect(failed).toBeUndefined();
    capped.removeAllListeners('readable');
    expect((await readAll(capped)).length).toBe(4 * chunk.length);
  });

  test('the timer stops with the body: nothing fires after it ended', async () => {
    const body = new PassThrough();
    const capped = new CappedBody(body, 100);
    let failed: unknown;
    capped.keepPace(new StreamPace(30, 30, (err) => (failed = err)));
    body.end('x');
    await readAll(capped);
    await sleep(80);
    expect(failed).toBeUndefined();
  });
});
