/**
 * The ONNX worker thread: the one place in the process where onnxruntime-node is loaded. It
 * hosts every session (encoder classifiers and Llama Guard decoders) and runs the heavy loops
 * (padding, ONNX runs, float16 widening, the whole KV-cache decoding loop), so the main
 * thread's event loop only posts ids and receives small results. Started by ../ortHost.ts;
 * see ../../README.md ("ONNX worker").
 */
import { parentPort } from 'node:worker_threads';
import type * as Ort from 'onnxruntime-node';
import { DecoderRunner } from '../../llamaGuard/onnx/workerLoop';
import type { OpName, Ops, SessionSpec, WorkerMessage, WorkerRequest } from '../ortProtocol';
import { EncoderRunner } from '../encoderRunner';
import { loadOnnxRuntime } from '../loadOnnxRuntime';

const port = parentPort;
if (!port) throw new Error('ortWorker must run in a worker thread');

const { ort, binding } = loadOnnxRuntime();
const sessions = new Map<number, Promise<EncoderRunner | DecoderRunner>>();
/** Calls running now, and those of them the main thread cancelled. */
const active = new Set<number>();
const cancelled = new Set<number>();
let shuttingDown = false;
/** Resolves the shutdown's wait once the last running call has ended. */
let onIdle: (() => void) | undefined;

class Cancelled extends Error {
  constructor() {
    super('cancelled by the caller');
    this.name = 'Cancelled';
  }
}

port.on('message', (msg: WorkerRequest) => {
  if (msg.op === 'cancel') {
    if (active.has(msg.target)) cancelled.add(msg.target);
    return;
  }
  if (msg.op === 'shutdown') {
    shuttingDown = true;
    void shutdown();
    return;
  }
  if (shuttingDown) {
    post({ type: 'result', id: msg.id, ok: false, error: { name: 'Error', message: 'the ONNX worker is shutting down' } });
    return;
  }
  if (msg.op === 'crash') {
    // `duringCall`: as the next call starts, so that call is surely lost, as a real crash loses one
    // (a call running now may still post its result before a crash scheduled now).
    if (msg.duringCall) crashOnNextCall = true;
    else crashSoon();
    return;
  }
  if (crashOnNextCall) {
    active.add(msg.id);
    crashSoon();
    return;
  }
  void handle(msg);
});
post({ type: 'ready', binding });

/** Test hook state: crash as the next call starts (see the `crash` op). */
let crashOnNextCall = false;

function crashSoon(): void {
  setImmediate(() => {
    throw new Error('simulated crash of the ONNX worker (test hook)');
  });
}

function post(msg: WorkerMessage, transfer: ArrayBuffer[] = []): void {
  try {
    port!.postMessage(msg, transfer);
  } catch {
    // A buffer that cannot be moved (e.g. one onnxruntime still owns): send copies instead.
    port!.postMessage(msg);
  }
}

type Call = Exclude<WorkerRequest, { op: 'cancel' } | { op: 'shutdown' } | { op: 'crash' }>;

/**
 * Ends the thread at a safe point: waits for the calls already running, releases the sessions,
 * then closes the port so the event loop empties and the thread exits by itself. Terminating it
 * from outside instead can stop it inside a native call, which aborts the whole process
 * (onnxruntime-node throws a C++ Napi::Error that nothing catches).
 */
async function shutdown(): Promise<void> {
  if (active.size > 0) await new Promise<void>((resolve) => (onIdle = resolve));
  const runners = [...sessions.values()];
  sessions.clear();
  for (const runner of runners) await (await runner.catch(() => undefined))?.session.release().catch(() => undefined);
  port!.close();
}

async function handle(msg: Call): Promise<void> {
  active.add(msg.id);
  const cancel = () => {
    if (cancelled.has(msg.id)) throw new Cancelled();
  };
  try {
    const result = await dispatch(msg, cancel);
    post({ type: 'result', id: msg.id, ok: true, result }, transferList(result));
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ type: 'result', id: msg.id, ok: false, error: { name: e.name, message: e.message } });
  } finally {
    active.delete(msg.id);
    if (active.size === 0) onIdle?.();
    cancelled.delete(msg.id);
  }
}

async function dispatch(msg: Call, cancel: () => void): Promise<Ops[OpName]['result']> {
  switch (msg.op) {
    case 'open': {
      const opening = open(msg.args.spec);
      sessions.set(msg.session, opening);
      try {
        const runner = await opening;
        return { inputNames: [...runner.session.inputNames], outputNames: [...runner.session.outputNames] };
      } catch (err) {
        sessions.delete(msg.session);
        throw err;
      }
    }
    case 'close': {
      const runner = sessions.get(msg.session);
      sessions.delete(msg.session);
      if (runner) await (await runner.catch(() => undefined))?.session.release();
      return null;
    }
    case 'encode':
      return (await runnerOf(msg.session, EncoderRunner)).encode(msg.args);
    case 'forward':
      return (await runnerOf(msg.session, DecoderRunner)).forwardChunks(msg.args, cancel);
    case 'generate':
      return (await runnerOf(msg.session, DecoderRunner)).generate(msg.args, cancel);
    case 'classify':
      return (await runnerOf(msg.session, DecoderRunner)).classify(msg.args, cancel);
  }
}

async function open(spec: SessionSpec): Promise<EncoderRunner | DecoderRunner> {
  const session = await ort.InferenceSession.create(spec.file, spec.sessionOptions as Ort.InferenceSession.SessionOptions);
  if (spec.kind === 'encoder') return new EncoderRunner(ort, session, spec.padId ?? 0);
  if (!spec.decoder) throw new Error('a decoder session needs its KV-cache shape');
  return new DecoderRunner(ort, session, spec.decoder);
}

async function runnerOf<T extends EncoderRunner | DecoderRunner>(id: number, kind: abstract new (...args: never[]) => T): Promise<T> {
  const runner = await sessions.get(id);
  if (!runner) throw new Error(`no open ONNX session ${id} in the worker`);
  if (!(runner instanceof kind)) throw new Error(`ONNX session ${id} is not a ${kind.name}`);
  return runner;
}

/** Below this, copying a typed array costs less than moving its buffer. */
const TRANSFER_MIN_BYTES = 64 * 1024;

/** The buffers of every large typed array in a result, moved to the main thread instead of copied. */
function transferList(result: unknown): ArrayBuffer[] {
  const buffers = new Set<ArrayBuffer>();
  const visit = (v: unknown): void => {
    if (ArrayBuffer.isView(v)) {
      const whole = v.buffer instanceof ArrayBuffer && v.byteOffset === 0 && v.byteLength === v.buffer.byteLength;
      if (whole && v.byteLength >= TRANSFER_MIN_BYTES) buffers.add(v.buffer as ArrayBuffer);
    } else if (Array.isArray(v)) {
      v.forEach(visit);
    } else if (v && typeof v === 'object') {
      Object.values(v).forEach(visit);
    }
  };
  visit(result);
  return [...buffers];
}
