/**
 * The main thread's side of the ONNX worker: one worker thread per process hosts every
 * onnxruntime session (all encoder guards and Llama Guard decoders), so inference does not run
 * on the event loop (the exception: a lone short encoder segment, inlineEncoder.ts).
 *
 * - Started lazily by the first session opened; stopped when the last one closes.
 * - Calls are messages with ids; typed arrays move in transfer lists both ways.
 * - The worker is unref'd while idle (it never keeps the process alive by itself) and ref'd
 *   while a call is pending (a script awaiting a result does not exit under it).
 * - Crash (uncaught exception, native abort caught as exit, terminate): every pending call
 *   rejects with an OrtWorkerError (a guard turns it into a `model_error` verdict, and the
 *   policy's on_error applies); the next call starts a new worker and reopens its sessions from
 *   their specs first. Each worker loads a private copy of the native binding
 *   (loadOnnxRuntime.ts), which is what makes a restart possible at all.
 * - Abort: a call given a signal rejects as soon as it fires; decoder loops in the worker stop
 *   at their next step (a single ONNX run cannot be interrupted and finishes unobserved).
 *
 * Worker entry: compiled (dist/), `worker/ortWorker.js` beside this file. From TypeScript
 * sources (jest through ts-jest), a small eval'd bootstrap registers a `.ts` loader built on
 * `typescript.transpileModule` (a devDependency) and requires `worker/ortWorker.ts`.
 */
import * as path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { OpName, Ops, SessionSpec, WireError, WorkerMessage, WorkerRequest } from './ortProtocol';

/** The worker stopped (crashed, exited or was terminated) while calls were pending, or could not start. */
export class OrtWorkerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OrtWorkerError';
  }
}

/** A failure reported by the worker for one call (onnxruntime's error message, a bad session, ...). */
export class OrtCallError extends Error {
  constructor(wire: WireError) {
    super(wire.message);
    this.name = wire.name === 'Error' ? 'OrtCallError' : wire.name;
  }
}

/** How long a stopping worker may take to release its sessions before it is terminated. */
const STOP_GRACE_MS = 10_000;

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
}

/** One started worker and the calls waiting on it. */
class Connection {
  readonly pending = new Map<number, Pending>();
  /** How the worker loaded the native binding, from its `ready` message. */
  binding: string | undefined;
  exited = false;
  stopping = false;
  private lastError: Error | undefined;

  constructor(
    readonly worker: Worker,
    private readonly onExit: (conn: Connection) => void,
  ) {
    worker.unref();
    worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    worker.on('error', (err) => {
      this.lastError = err;
    });
    worker.on('exit', (code) => {
      this.exited = true;
      const reason = this.lastError ? this.lastError.message : this.stopping ? 'stopped' : `exit code ${code}`;
      const error = new OrtWorkerError(`the ONNX worker thread stopped (${reason}); it restarts on the next call`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.onExit(this);
    });
  }

  request<K extends OpName>(id: number, op: K, session: number, args: Ops[K]['args'], transfer: ArrayBuffer[], signal?: AbortSignal): Promise<Ops[K]['result']> {
    if (this.exited) return Promise.reject(new OrtWorkerError('the ONNX worker thread stopped; it restarts on the next call'));
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<Ops[K]['result']>((resolve, reject) => {
      let onAbort: (() => void) | undefined;
      const settle = () => {
        if (onAbort) signal?.removeEventListener('abort', onAbort);
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
      };
      this.pending.set(id, {
        resolve: (v) => {
          settle();
          resolve(v as Ops[K]['result']);
        },
        reject: (e) => {
          settle();
          reject(e);
        },
      });
      if (this.pending.size === 1) this.worker.ref();
      if (signal) {
        onAbort = () => {
          this.post({ id: 0, op: 'cancel', target: id });
          this.pending.get(id)?.reject(abortReason(signal));
        };
        signal.addEventListener('abort', onAbort, { once: true });
      }
      try {
        this.post({ id, op, session, args } as WorkerRequest, transfer);
      } catch (err) {
        // e.g. arguments that cannot be cloned: this call fails, the worker is fine.
        this.pending.get(id)?.reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Asks the worker to release its sessions and end by itself; terminates it only if it has not
   * ended after `graceMs` (stuck in a native call). Holds the process open until it is gone, so
   * a command that closes its guards and returns never exits under a running worker.
   */
  async stop(graceMs = STOP_GRACE_MS): Promise<'clean' | 'forced'> {
    if (this.exited) return 'clean';
    this.stopping = true;
    const gone = new Promise<'gone'>((resolve) => this.worker.once('exit', () => resolve('gone')));
    this.worker.ref();
    this.post({ id: 0, op: 'shutdown' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    try {
      if ((await Promise.race([gone, late])) === 'gone') return 'clean';
      await this.worker.terminate();
      return 'forced';
    } finally {
      clearTimeout(timer);
    }
  }

  post(msg: WorkerRequest, transfer: ArrayBuffer[] = []): void {
    if (this.exited) return;
    this.worker.postMessage(msg, transfer);
  }

  private onMessage(msg: WorkerMessage): void {
    if (msg.type === 'ready') {
      this.binding = msg.binding;
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return; // abandoned (aborted) call
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new OrtCallError(msg.error));
  }
}

interface SessionState {
  spec: SessionSpec;
  /** The worker this session is open in, and the open call (reopened when the worker changes). */
  conn?: Connection;
  opening?: Promise<Ops['open']['result']>;
}

export interface OrtHostStats {
  /** Workers started so far. */
  starts: number;
  /** Workers that stopped without being asked to. */
  crashes: number;
  /** Workers asked to stop that released their sessions and ended by themselves. */
  cleanStops: number;
  /** Workers asked to stop that had to be terminated (still busy after the grace period). */
  forcedStops: number;
  /** Sessions open now. */
  sessions: number;
  /** How the running worker loaded the native binding (`private-copy` or `shared (...)`). */
  binding: string | undefined;
}

export class OrtHost {
  private conn: Connection | undefined;
  private readonly sessions = new Map<number, SessionState>();
  private nextId = 1;
  private readonly counters = { starts: 0, crashes: 0, cleanStops: 0, forcedStops: 0 };

  get stats(): OrtHostStats {
    return { ...this.counters, sessions: this.sessions.size, binding: this.conn?.binding };
  }

  /** Opens a session in the worker (starting it if needed); returns the handle and the model's input / output names. */
  async openSession(spec: SessionSpec): Promise<HostedSession> {
    const id = this.nextId++;
    const state: SessionState = { spec };
    this.sessions.set(id, state);
    try {
      const names = await this.ensureOpen(id, state);
      return new HostedSession(this, id, names.inputNames, names.outputNames);
    } catch (err) {
      await this.closeSession(id);
      throw err;
    }
  }

  /** Runs one operation on an open session; rejects with OrtCallError (the run failed) or OrtWorkerError (the worker died). */
  async call<K extends Exclude<OpName, 'open' | 'close'>>(
    session: number,
    op: K,
    args: Ops[K]['args'],
    transfer: ArrayBuffer[] = [],
    signal?: AbortSignal,
  ): Promise<Ops[K]['result']> {
    const state = this.sessions.get(session);
    if (!state) throw new OrtCallError({ name: 'Error', message: 'the ONNX session is closed' });
    await this.ensureOpen(session, state);
    return this.conn!.request(this.nextId++, op, session, args, transfer, signal);
  }

  async closeSession(session: number): Promise<void> {
    const state = this.sessions.get(session);
    if (!state) return;
    this.sessions.delete(session);
    const conn = this.conn;
    if (conn && state.conn === conn) {
      await state.opening?.catch(() => undefined);
      await conn.request(this.nextId++, 'close', session, {}, []).catch(() => undefined);
    }
    // Nothing left to host: give the memory and threads back (the worker finishes what is
    // running first, see Connection.stop). The next open starts a new worker.
    if (this.sessions.size === 0 && this.conn) {
      const c = this.conn;
      this.conn = undefined;
      if ((await c.stop()) === 'forced') this.counters.forcedStops++;
      else this.counters.cleanStops++;
    }
  }

  /** Test hook: makes the worker throw an uncaught exception, as a crash would; resolves once it is gone. */
  async crashWorkerForTesting(): Promise<void> {
    const conn = this.conn;
    if (!conn) return;
    const gone = new Promise<void>((resolve) => conn.worker.once('exit', () => resolve()));
    conn.post({ id: 0, op: 'crash' });
    await gone;
  }

  private connection(): Connection {
    if (this.conn && !this.conn.exited) return this.conn;
    this.counters.starts++;
    const conn = new Connection(spawnWorker(), (c) => {
      if (!c.stopping) this.counters.crashes++;
      if (this.conn === c) this.conn = undefined;
    });
    this.conn = conn;
    return conn;
  }

  private async ensureOpen(id: number, state: SessionState): Promise<Ops['open']['result']> {
    const conn = this.connection();
    if (state.conn !== conn || !state.opening) {
      state.conn = conn;
      state.opening = conn.request(this.nextId++, 'open', id, { spec: state.spec }, []);
      // A failed open is retried by the next call (the file may be back, the worker restarted).
      state.opening.catch(() => {
        if (state.conn === conn) state.opening = undefined;
      });
    }
    return state.opening;
  }
}

/** A session open in the worker, as the main thread holds it. */
export class HostedSession {
  constructor(
    private readonly host: OrtHost,
    readonly id: number,
    readonly inputNames: readonly string[],
    readonly outputNames: readonly string[],
  ) {}

  call<K extends Exclude<OpName, 'open' | 'close'>>(op: K, args: Ops[K]['args'], transfer: ArrayBuffer[] = [], signal?: AbortSignal): Promise<Ops[K]['result']> {
    return this.host.call(this.id, op, args, transfer, signal);
  }

  close(): Promise<void> {
    return this.host.closeSession(this.id);
  }
}

let shared: OrtHost | undefined;

/** The process's one ONNX host. */
export function ortHost(): OrtHost {
  shared ??= new OrtHost();
  return shared;
}

/**
 * The `.ts` loader for running the worker from sources (tests); compiled builds never use it.
 * Transpiled files are cached on disk by content hash: loading the typescript package costs
 * about a third of a second, paid again by every worker start otherwise.
 */
const TS_BOOTSTRAP = `
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');
const { workerData } = require('node:worker_threads');
const cacheDir = path.join(os.tmpdir(), 'safety-gateway-ts-' + (process.getuid ? process.getuid() : 'user'));
let ts;
function transpile(source, filename) {
  const key = crypto.createHash('sha256').update(workerData.typescript).update('\\0').update(filename).update('\\0').update(source).digest('hex');
  const cached = path.join(cacheDir, key + '.js');
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {}
  ts ??= require(workerData.typescript);
  const out = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true, inlineSourceMap: true },
  }).outputText;
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    const tmp = cached + '.' + process.pid + '.' + Math.random().toString(36).slice(2);
    fs.writeFileSync(tmp, out);
    fs.renameSync(tmp, cached);
  } catch {}
  return out;
}
Module._extensions['.ts'] = function (module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
require(workerData.entry);
`;

function spawnWorker(): Worker {
  const options = { stdout: false, stderr: false } as const;
  if (__filename.endsWith('.js')) {
    try {
      return new Worker(path.join(__dirname, 'worker', 'ortWorker.js'), options);
    } catch (err) {
      throw new OrtWorkerError(`could not start the ONNX worker: ${(err as Error).message}`);
    }
  }
  let typescript: string;
  try {
    typescript = require.resolve('typescript');
  } catch {
    throw new OrtWorkerError('running guards from TypeScript sources needs the typescript package to start the ONNX worker; build with `npm run build` instead');
  }
  return new Worker(TS_BOOTSTRAP, { ...options, eval: true, workerData: { typescript, entry: path.join(__dirname, 'worker', 'ortWorker.ts') } });
}

function abortReason(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new Error('aborted');
}
