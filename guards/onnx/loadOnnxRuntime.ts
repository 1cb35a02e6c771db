/**
 * Loads onnxruntime-node in the calling thread (the ONNX worker; the main thread too when short
 * encoder runs go inline, see inlineEncoder.ts) with a private copy of its native binding.
 *
 * Why: onnxruntime-node 1.21's binding (`onnxruntime_binding.node`) keeps per-thread state
 * (the Tensor constructor, the env) in process-wide statics. Two threads sharing one loaded
 * copy crash the process ("Entering the V8 API without proper locking"), and once the thread
 * that loaded it ends, the file cannot be loaded again in this process ("Module did not
 * self-register"), so a crashed worker could never be replaced. A byte copy of the binding
 * under another path is a separate shared object to the dynamic loader, with its own statics:
 * each worker gets one. libonnxruntime itself stays shared (its API is thread-safe); the copy's
 * directory links to it so the binding's `$ORIGIN` run path finds it.
 *
 * If the copy cannot be made or loaded (no writable temp dir, noexec mount), the shared file
 * is loaded instead, which works as long as this is the only thread that ever loads it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';

export interface LoadedRuntime {
  ort: typeof Ort;
  /** `private-copy` or `shared (<why the copy failed>)`, for diagnostics. */
  binding: string;
}

interface NodeModule {
  filename: string;
  loaded: boolean;
  exports: unknown;
  paths: string[];
}
interface ModuleStatic {
  new (id: string, parent?: unknown): NodeModule;
  _cache: Record<string, NodeModule>;
}

export function bindingDirectory(): string {
  const main = require.resolve('onnxruntime-node'); // <pkg>/dist/index.js
  return path.join(path.dirname(main), '..', 'bin', 'napi-v3', process.platform, process.arch);
}

/**
 * `privateOnly`: throw instead of falling back to the shared file. The main thread asks for this:
 * a worker that fell back to the shared file must stay its only user.
 */
export function loadOnnxRuntime(options: { privateOnly?: boolean } = {}): LoadedRuntime {
  let binding = 'private-copy';
  try {
    preloadPrivateBinding(bindingDirectory());
  } catch (err) {
    if (options.privateOnly) throw new Error(`no private copy of the onnxruntime binding: ${(err as Error).message}`);
    binding = `shared (${(err as Error).message})`;
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ort = require('onnxruntime-node') as typeof Ort;
  return { ort, binding };
}

/** Puts a private copy of the binding into this thread's module cache under the original's name. */
function preloadPrivateBinding(binDir: string): void {
  const original = fs.realpathSync(path.join(binDir, 'onnxruntime_binding.node'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sg-ort-'));
  try {
    for (const name of fs.readdirSync(binDir)) {
      if (name !== 'onnxruntime_binding.node') fs.symlinkSync(fs.realpathSync(path.join(binDir, name)), path.join(dir, name));
    }
    const copy = path.join(dir, 'onnxruntime_binding.node');
    fs.copyFileSync(original, copy);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const Module = require('node:module') as ModuleStatic;
    const mod = new Module(original);
    mod.filename = original;
    mod.paths = [];
    process.dlopen(mod as unknown as { exports: unknown }, copy);
    mod.loaded = true;
    Module._cache[original] = mod;
  } finally {
    // Mapped already; the files are not needed any more.
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
