/**
 * Short encoder runs on the main thread. A run in the ONNX worker pays two thread wake-ups and
 * the hand-offs around them, about 0.15-0.3 ms on this project's 2-core machines: a sixth of a
 * 16-token Prompt Guard check with the bundled model, half of one with a tiny model. A lone
 * segment that this thread has been measured to score within a budget (default 2 ms, under
 * the few milliseconds a tokenizer slice may hold the event loop) therefore runs here, on a
 * second session of the same file. Longer segments, and every batch of several segments (what
 * concurrent requests make, and where the worker's core working beside this one pays), go to
 * the worker as before.
 *
 * The budget is turned into a length once, at load: single rows of growing width are timed on
 * this thread and the widest whose median run fits becomes `maxTokens`. A second session
 * doubles the model's memory, so large models (Meta's 86M Prompt Guard is 1.1 GB) never run
 * inline. Anything that stops a session from running here (no private copy of the native
 * binding, a test runner's foreign V8 context) leaves every run in the worker; `reason` says why.
 */
import * as fs from 'node:fs';
import type * as Ort from 'onnxruntime-node';
import { packRows } from './batchLayout';
import { EncoderRunner } from './encoderRunner';
import { type LoadedRuntime, loadOnnxRuntime } from './loadOnnxRuntime';

export interface InlineEncoderOptions {
  file: string;
  sessionOptions: Record<string, unknown>;
  padId: number;
  /** Runs measured to take at most this long go inline; 0 turns inline runs off. */
  budgetMs: number;
  /** Skips the measurement: a lone row of at most this many tokens goes inline. */
  maxTokens?: number;
  /** Files larger than this never get a second session. */
  maxModelBytes?: number;
  /** Ids of a minimal row ([CLS] [SEP]); calibration rows are this frame widened with its first id. */
  frame: readonly number[];
  /** The model's window: the widest row calibration tries. */
  maxLength: number;
}

export const INLINE_BUDGET_MS = 2;
export const INLINE_MAX_MODEL_BYTES = 64 * 1024 * 1024;
const CALIBRATION_WIDTHS = [8, 16, 32, 64, 128, 256, 512];
const CALIBRATION_RUNS = 7;

let mainRuntime: LoadedRuntime | Error | undefined;

function runtimeHere(): LoadedRuntime {
  if (mainRuntime === undefined) {
    try {
      mainRuntime = loadOnnxRuntime({ privateOnly: true });
    } catch (err) {
      mainRuntime = err instanceof Error ? err : new Error(String(err));
    }
  }
  if (mainRuntime instanceof Error) throw mainRuntime;
  return mainRuntime;
}

export type InlineOutputs = Awaited<ReturnType<EncoderRunner['encode']>>['outputs'];

export class InlineEncoder {
  /** The run in progress: close() waits for it, so a session is never released under a run. */
  private running: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly runner: EncoderRunner,
    /** A lone row of at most this many tokens runs here. */
    readonly maxTokens: number,
  ) {}

  /** An inline encoder, or the reason there is none (inline runs off, file too large, no fit). */
  static async open(options: InlineEncoderOptions): Promise<{ encoder?: InlineEncoder; reason: string }> {
    if (!(options.budgetMs > 0) && options.maxTokens === undefined) return { reason: 'inline runs are off (budget 0)' };
    if (options.maxTokens !== undefined && options.maxTokens <= 0) return { reason: 'inline runs are off (maxTokens 0)' };
    const size = modelBytes(options.file);
    const limit = options.maxModelBytes ?? INLINE_MAX_MODEL_BYTES;
    if (size > limit) return { reason: `the model is ${mb(size)} MB; a second session is kept only for models up to ${mb(limit)} MB` };
    let session: Ort.InferenceSession | undefined;
    try {
      const { ort } = runtimeHere();
      session = await ort.InferenceSession.create(options.file, options.sessionOptions as Ort.InferenceSession.SessionOptions);
      const runner = new EncoderRunner(ort, session, options.padId);
      const maxTokens = options.maxTokens ?? (await calibrate(runner, options));
      if (maxTokens === 0) {
        await session.release();
        return { reason: `no run fits the ${options.budgetMs} ms budget on this thread` };
      }
      // A fixed length skips the measurement, not the proof that runs work on this thread.
      if (options.maxTokens !== undefined) await runner.encode(packRows([[...options.frame]]));
      return { encoder: new InlineEncoder(runner, maxTokens), reason: `a lone segment of up to ${maxTokens} tokens runs on the main thread` };
    } catch (err) {
      await session?.release().catch(() => undefined);
      return { reason: `inline runs unavailable: ${(err as Error).message.split('\n')[0]}` };
    }
  }

  /** Runs rows on this thread (synchronous inside onnxruntime, deferred once by setImmediate). */
  async run(rows: readonly number[][]): Promise<InlineOutputs> {
    const run = this.runner.encode(packRows(rows));
    this.running = run.catch(() => undefined);
    return (await run).outputs;
  }

  async close(): Promise<void> {
    await this.running;
    await this.runner.session.release();
  }
}

/** The widest single row whose median run time fits the budget, or 0 when none does. */
async function calibrate(runner: EncoderRunner, options: InlineEncoderOptions): Promise<number> {
  const filler = options.frame[0] ?? options.padId;
  let fits = 0;
  for (const width of CALIBRATION_WIDTHS) {
    if (width > options.maxLength) break;
    const row = [...options.frame.slice(0, 1), ...new Array<number>(Math.max(0, width - options.frame.length)).fill(filler), ...options.frame.slice(1)];
    await runner.encode(packRows([row])); // warm-up: the first run at a new shape plans its memory
    const times: number[] = [];
    for (let i = 0; i < CALIBRATION_RUNS; i++) {
      const started = performance.now();
      await runner.encode(packRows([row]));
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    if (times[CALIBRATION_RUNS >> 1] > options.budgetMs) break;
    fits = width;
  }
  return fits;
}

/** The ONNX file plus the external-data file Optimum writes beside large ones (`model.onnx_data`). */
function modelBytes(file: string): number {
  let bytes = fs.statSync(file).size;
  for (const external of [`${file}_data`, `${file}.data`]) {
    try {
      bytes += fs.statSync(external).size;
    } catch {
      // none
    }
  }
  return bytes;
}

function mb(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(0);
}
