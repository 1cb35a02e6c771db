import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { preloadTokenizer } from '../access/tokens/llama3Tokens';
import { startGateway } from '../server';
import { onnxWorkersBusy } from '../../guards/onnx/ortHost';
import { shutdownTelemetry } from '../telemetry/telemetrySdk';

export async function serveCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      'engine-url': { type: 'string' },
      policy: { type: 'string' },
      config: { type: 'string' },
    },
    strict: true,
  });
  const log = (line: string) => process.stderr.write(`${line}\n`);
  let config;
  try {
    config = loadConfig({ flags: values, env: process.env });
  } catch (err) {
    if (err instanceof ConfigError) {
      log(`safety-gateway: ${err.message}`);
      return 2;
    }
    throw err;
  }
  // Signals are handled from the start: one that arrives while the gateway is still starting
  // (or right after it logged that it listens) stops it cleanly once it is up.
  let signalled: string | undefined;
  let onSignal: (signal: string) => void = (signal) => {
    // A second signal while still starting (models loading): the operator wants out now.
    if (signalled) process.exit(130);
    signalled = signal;
  };
  const handlers = { SIGTERM: () => onSignal('SIGTERM'), SIGINT: () => onSignal('SIGINT') };
  // Kept for the whole run (not once): a second Ctrl-C or SIGTERM during the drain would otherwise
  // get node's default and end the process at once, losing in-flight records and leaving the audit lock.
  process.on('SIGTERM', handlers.SIGTERM);
  process.on('SIGINT', handlers.SIGINT);
  let gateway;
  try {
    // The Llama 3 vocabulary loads synchronously (about a second): here, before the gateway listens,
    // rather than inside the first long request, which held every other request and stream that long.
    preloadTokenizer();
    gateway = await startGateway({ config, log });
  } catch (err) {
    process.off('SIGTERM', handlers.SIGTERM);
    process.off('SIGINT', handlers.SIGINT);
    log(`safety-gateway: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const running = gateway;
  const graceMs = config.shutdown_grace_s * 1000;
  await new Promise<void>((resolve) => {
    let draining = false;
    let repeats = 0;
    onSignal = (signal: string) => {
      if (draining) {
        // A third one: the operator means it (records of requests still in flight may be lost).
        if (++repeats >= 2) forceExit(130, log);
        log(`${signal}: already draining (up to ${config.shutdown_grace_s}s); the process exits when it is done (once more to exit now)`);
        return;
      }
      draining = true;
      log(`${signal}: draining in-flight requests (up to ${config.shutdown_grace_s}s)...`);
      const deadline = Date.now() + graceMs;
      let stopped = false;
      // The process is gone by the end of the grace period whatever is left running (an OTLP
      // exporter retrying into a lost collector keeps re-arming its timers). Unref'd: a clean
      // stop exits on its own, sooner.
      hardExit(graceMs, () => {
        log(stopped ? 'stopped; exiting with work still pending (telemetry exporters)' : `shutdown did not finish within ${config.shutdown_grace_s}s: exiting now`);
        forceExit(stopped ? 0 : 1, log);
      });
      const plan = shutdownPlan(graceMs);
      void running
        .shutdown(plan.drainMs)
        .catch((err: unknown) => log(`shutdown: ${(err as Error)?.message ?? String(err)}`))
        .then(() => shutdownTelemetry(Math.max(100, Math.min(plan.telemetryMs, deadline - Date.now() - plan.marginMs))))
        .then(() => {
          stopped = true;
          log('stopped');
          // Anything still holding the event loop now is an exporter's retry: do not wait for it.
          hardExit(Math.min(1000, Math.max(0, deadline - Date.now())), () => forceExit(0, log));
          resolve();
        });
    };
    if (signalled) onSignal(signalled);
  });
  process.off('SIGTERM', handlers.SIGTERM);
  process.off('SIGINT', handlers.SIGINT);
  return 0;
}

/**
 * Pure: how the grace period is shared: in-flight requests and streams get most of it, then the
 * OpenTelemetry SDK is flushed and shut down (bounded), with a margin before the hard exit.
 */
export function shutdownPlan(graceMs: number): { drainMs: number; telemetryMs: number; marginMs: number } {
  const reserve = Math.min(5000, graceMs / 4);
  // A collector that is down never answers a flush: waiting longer than a few seconds buys nothing.
  return { drainMs: Math.max(0, graceMs - reserve), telemetryMs: 5000, marginMs: Math.min(250, reserve / 4) };
}

/**
 * Ends the process now. Under a guard model run still inside onnxruntime (a worker thread Node
 * cannot stop mid-call), process.exit aborts the process (SIGABRT, a core dump, a C++ message):
 * SIGKILL then, which ends it as cleanly as the situation allows (exit status 137).
 */
function forceExit(code: number, log: (line: string) => void): void {
  if (onnxWorkersBusy() > 0) {
    log('a guard model run is still inside onnxruntime, which an exit would abort in: ending with SIGKILL');
    process.kill(process.pid, 'SIGKILL');
    return;
  }
  process.exit(code);
}

function hardExit(afterMs: number, exit: () => void): void {
  setTimeout(exit, afterMs).unref();
}
