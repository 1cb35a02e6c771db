/**
 * The main thread's side of the ONNX workers: a pool of worker threads (one per core by default,
 * gateway config `guards.workers`) hosts every onnxruntime session of the process (all encoder
 * guards and Llama Guard decoders), so inference does not run on the event loop (the exception:
 * a lone short encoder segment, inlineEncoder.ts) and runs on every core at once.
 *
 * - Encoder sessions open in every worker, decoder sessions in the first (see OrtHost); a call
 *   goes to the allowed worker with the fewest calls pending.
 * - Workers start with the first session opened; all stop when the last one closes.
 * - Calls are messages with ids; typed arrays move in transfer lists both ways.
 * - A worker is unref'd while idle (it never keeps the process alive by itself) and ref'd
 *   while a call is pending (a script awaiting a result does not exit under it).
 * - Crash (uncaught exception, native abort caught as exit, terminate): every call pending in
 *   that worker rejects with an OrtWorkerError (a guard turns it into a `model_error` verdict, and
 *   the policy's on_error applies); the next call routed there starts a new worker and reopens
 *   its sessions from their specs first. Each worker loads a private copy of the native binding
 *   (loadOnnxRuntime.ts), which is what lets several workers, and restarts, share one process.
 * - Stop: a `shutdown` message, never terminate() first (see Connection.stop).
 * - Abort: a call given a signal rejects as soon as it fires; decoder loops in the worker stop
 *   at their next step (a single ONNX run cannot be interrupted and finishes unobserved).
 *
 * Worker entry: compiled (dist/), `worker/ortWorker.js` beside this file. From TypeScript
 * sources (jest through ts-jest), a small eval'd bootstrap registers a `.ts` loader built on
 * `typescript.transpileModule` (a devDependency) and requires `worker/ortWorker.ts`.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
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

/** Every worker thread not yet ended, across all hosts of the process. */
const liveConnections = new Set<Connection>();

/**
 * Worker threads that may be inside a native onnxruntime call now (a call pending, or asked to stop
 * and still finishing one). A process that exits under one aborts (onnxruntime-node throws a C++
 * Napi::Error that nothing catches): a forced exit ends with SIGKILL instead (gateway/cli/serveCommand.ts).
 */
export function onnxWorkersBusy(): number {
  let busy = 0;
  for (const conn of liveConnections) if (conn.posted.size > 0 || conn.stopping) busy++;
  return busy;
}

/** One started worker and the calls waiting on it. */
class Connection {
  readonly pending = new Map<number, Pending>();
  /** Calls posted to the worker and not answered yet, cancelled ones included (a cancel lands between model steps). */
  readonly posted = new Set<number>();
  /** How the worker loaded the native binding, from its `ready` message. */
  binding: string | undefined;
  exited = false;
  stopping = false;
  private lastError: Error | undefined;
  /** Calls routed here that wait for their session to open (not posted yet). */
  private reserved = 0;

  constructor(
    readonly worker: Worker,
    private readonly onExit: (conn: Connection) => void,
  ) {
    worker.unref();
    liveConnections.add(this);
    worker.on('message', (msg: WorkerMessage) => this.onMessage(msg));
    worker.on('error', (err) => {
      this.lastError = err;
    });
    worker.on('exit', (code) => {
      this.exited = true;
      liveConnections.delete(this);
      const reason = this.lastError ? this.lastError.message : this.stopping ? 'stopped' : `exit code ${code}`;
      const error = new OrtWorkerError(`the ONNX worker thread stopped (${reason}); it restarts on the next call`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
      this.posted.clear();
      this.onExit(this);
    });
  }

  /** Calls pending here, posted or about to be: what the pool balances on. */
  get load(): number {
    return this.pending.size + this.reserved;
  }

  /** Counts a call routed here before it is posted; returns the release. */
  reserve(): () => void {
    this.reserved++;
    let done = false;
    return () => {
      if (!done) this.reserved--;
      done = true;
    };
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
        this.posted.add(id);
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
    this.posted.delete(msg.id);
    const p = this.pending.get(msg.id);
    if (!p) return; // abandoned (aborted) call
    if (msg.ok) p.resolve(msg.result);
    else p.reject(new OrtCallError(msg.error));
  }
}

/** Pool size when nothing configures it: one worker per core (see defaultPoolSize). */
const MAX_DEFAULT_WORKERS = 8;

/** One worker per core, at most 8: each runs one ONNX call at a time, so N workers keep N cores busy. */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(MAX_DEFAULT_WORKERS, os.availableParallelism()));
}

/** One place in the pool: the worker running there now (none until a call needs it, or after it stopped). */
interface Slot {
  index: number;
  conn?: Connection;
}

interface SessionState {
  spec: SessionSpec;
  /** The model file as first opened (fileIdentity): a restarted worker must reopen the same weights. */
  identity: string;
  /** Per connection: the open call (a restarted worker is a new connection and reopens the session). */
  opened: Map<Connection, Promise<Ops['open']['result']>>;
}

export interface OrtHostStats {
  /** Workers started so far (each worker of the pool counts). */
  starts: number;
  /** Workers that stopped without being asked to. */
  crashes: number;
  /** Workers asked to stop that released their sessions and ended by themselves. */
  cleanStops: number;
  /** Workers asked to stop that had to be terminated (still busy after the grace period). */
  forcedStops: number;
  /** Sessions open now. */
  sessions: number;
  /** How the first running worker loaded the native binding (`private-copy` or `shared (...)`). */
  binding: string | undefined;
  /** Workers the pool may run (encoder sessions open in every one of them). */
  poolSize: number;
  /** Workers running now. */
  workers: number;
  /** Calls each slot of the pool has run so far (how evenly batches spread). */
  callsPerWorker: number[];
}

/**
 * A pool of ONNX worker threads. Each session opens in every worker (encoders) or in the first
 * one (decoders: a Llama Guard decoder is large, and its KV-cache loop stays where it started),
 * and each call goes to the allowed worker with the fewest calls pending, so the batches of one
 * long input, and of concurrent requests, run on all cores at once. onnxruntime-node runs a
 * session synchronously on its thread: one worker is one core's worth of inference.
 */
export class OrtHost {
  private readonly slots: Slot[] = [];
  private size = defaultPoolSize();
  private readonly sessions = new Map<number, SessionState>();
  private nextId = 1;
  private turn = 0;
  private readonly counters = { starts: 0, crashes: 0, cleanStops: 0, forcedStops: 0 };
  private calls: number[] = [];

  get stats(): OrtHostStats {
    const running = this.slots.filter((s) => s.conn && !s.conn.exited);
    return {
      ...this.counters,
      sessions: this.sessions.size,
      binding: running[0]?.conn?.binding,
      poolSize: this.size,
      workers: running.length,
      callsPerWorker: [...this.calls],
    };
  }

  /** Workers the pool runs; encoder guards size their concurrent batches by it. */
  get poolSize(): number {
    return this.size;
  }

  /**
   * Sets the pool size (gateway config `guards.workers`). Takes effect for calls from now on:
   * sessions open lazily in a new worker; surplus workers finish their calls and stop.
   */
  configure(options: { workers?: number }): void {
    if (options.workers === undefined) return;
    if (!Number.isInteger(options.workers) || options.workers < 1) throw new Error(`the ONNX worker pool needs at least one worker, got ${options.workers}`);
    this.size = options.workers;
    for (const slot of this.slots.splice(this.size)) void this.stopSlot(slot);
  }

  /** Opens a session in the worker(s) it runs in (starting them if needed); returns the handle and the model's input / output names. */
  async openSession(spec: SessionSpec): Promise<HostedSession> {
    const id = this.nextId++;
    const state: SessionState = { spec, identity: fileIdentity(spec.file), opened: new Map() };
    this.sessions.set(id, state);
    try {
      // Opened everywhere up front: a bad file fails here, and no first call pays for an open.
      const names = await Promise.all(this.allowedSlots(spec).map((slot) => this.ensureOpen(id, state, this.connection(slot))));
      return new HostedSession(this, id, names[0]!.inputNames, names[0]!.outputNames);
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
    const slot = this.leastBusy(this.allowedSlots(state.spec));
    const conn = this.connection(slot);
    // Counted before the open is awaited, so calls made in one turn spread over the workers.
    const reserved = conn.reserve();
    try {
      await this.ensureOpen(session, state, conn);
    } finally {
      reserved();
    }
    this.calls[slot.index] = (this.calls[slot.index] ?? 0) + 1;
    return conn.request(this.nextId++, op, session, args, transfer, signal);
  }

  async closeSession(session: number): Promise<void> {
    const state = this.sessions.get(session);
    if (!state) return;
    this.sessions.delete(session);
    await Promise.all(
      [...state.opened].map(async ([conn, opening]) => {
        if (conn.exited) return;
        await opening.catch(() => undefined);
        await conn.request(this.nextId++, 'close', session, {}, []).catch(() => undefined);
      }),
    );
    // Nothing left to host: give the memory and threads back (each worker finishes what is
    // running first, see Connection.stop). The next open starts new workers.
    if (this.sessions.size === 0) await Promise.all(this.slots.map((slot) => this.stopSlot(slot)));
  }

  /**
   * Test hook: makes the busiest worker throw an uncaught exception, as a crash would; resolves
   * once it is gone. `duringCall`: the worker crashes as its next call starts, so that call is
   * lost (within 5 s; after that, at once); otherwise at once, busy or not.
   */
  async crashWorkerForTesting(options: { duringCall?: boolean } = {}): Promise<void> {
    const running = () => this.slots.filter((s) => s.conn && !s.conn.exited);
    if (running().length === 0) return;
    // A worker with a call in flight, when there is one within a second: crashing one between two
    // calls failed nothing, and a test waiting for a failed call saw its check finish on the
    // other worker (hence `duringCall`).
    for (let waited = 0; waited < 1000 && !running().some((s) => s.conn!.load > 0); waited++) await new Promise((r) => setTimeout(r, 1));
    const conn = running().reduce((a, b) => (b.conn!.load > a.conn!.load ? b : a)).conn!;
    const gone = new Promise<void>((resolve) => conn.worker.once('exit', () => resolve()));
    conn.post({ id: 0, op: 'crash', ...(options.duringCall ? { duringCall: true } : {}) });
    if (options.duringCall) {
      // No further call may come to this worker: then crash it as it is, after a while.
      const timer = setTimeout(() => conn.post({ id: 0, op: 'crash' }), 5000);
      await gone;
      clearTimeout(timer);
    } else await gone;
  }

  private async stopSlot(slot: Slot): Promise<void> {
    const c = slot.conn;
    slot.conn = undefined;
    if (!c || c.exited) return;
    if ((await c.stop()) === 'forced') this.counters.forcedStops++;
    else this.counters.cleanStops++;
  }

  /** The slots a session may run in: all of them for encoders, the first for decoders. */
  private allowedSlots(spec: SessionSpec): Slot[] {
    const count = spec.kind === 'decoder' ? 1 : this.size;
    while (this.slots.length < count) this.slots.push({ index: this.slots.length });
    return this.slots.slice(0, count);
  }

  /** The slot with the fewest calls pending; ties go round-robin. */
  private leastBusy(slots: Slot[]): Slot {
    const start = this.turn++ % slots.length;
    let best = slots[start]!;
    let bestLoad = best.conn && !best.conn.exited ? best.conn.load : 0;
    for (let k = 1; k < slots.length; k++) {
      const slot = slots[(start + k) % slots.length]!;
      const load = slot.conn && !slot.conn.exited ? slot.conn.load : 0;
      if (load < bestLoad) {
        best = slot;
        bestLoad = load;
      }
    }
    return best;
  }

  private connection(slot: Slot): Connection {
    if (slot.conn && !slot.conn.exited) return slot.conn;
    this.counters.starts++;
    const conn = new Connection(spawnWorker(), (c) => {
      if (!c.stopping) this.counters.crashes++;
      if (slot.conn === c) slot.conn = undefined;
      for (const state of this.sessions.values()) state.opened.delete(c);
    });
    slot.conn = conn;
    return conn;
  }

  private ensureOpen(id: number, state: SessionState, conn: Connection): Promise<Ops['open']['result']> {
    let opening = state.opened.get(conn);
    if (!opening) {
      // A worker that restarted reopens the file by its path. Replaced on disk since the policy
      // loaded it, it would score with other weights than the tokenizer, labels, the other workers
      // and the audited model fingerprint: refused until a reload loads it as a new guard.
      const now = fileIdentity(state.spec.file);
      opening =
        now === state.identity
          ? conn.request(this.nextId++, 'open', id, { spec: state.spec }, [])
          : Promise.reject(new OrtCallError({ name: 'Error', message: `${state.spec.file} changed on disk since it was loaded; reload the policy to use the new model` }));
      state.opened.set(conn, opening);
      // A failed open is retried by the next call (the file may be back, the worker restarted).
      const failed = opening;
      failed.catch(() => {
        if (state.opened.get(conn) === failed) state.opened.delete(conn);
      });
    }
    return opening;
  }
}

/** Size, modification time and inode of the model file and of any external-data file beside it ('-' for one that cannot be read). */
function fileIdentity(file: string): string {
  return [file, `${file}_data`, `${file}.data`]
    .map((f) => {
      try {
        const st = fs.statSync(f);
        return `${st.size}:${st.mtimeMs}:${st.ino}`;
      } catch {
        return '-';
      }
    })
    .join('|');
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

/** The process's one ONNX host (its worker pool). */
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
