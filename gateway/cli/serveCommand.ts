import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config';
import { startGateway } from '../server';

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
    signalled ??= signal;
  };
  const handlers = { SIGTERM: () => onSignal('SIGTERM'), SIGINT: () => onSignal('SIGINT') };
  process.once('SIGTERM', handlers.SIGTERM);
  process.once('SIGINT', handlers.SIGINT);
  let gateway;
  try {
    gateway = await startGateway({ config, log });
  } catch (err) {
    process.off('SIGTERM', handlers.SIGTERM);
    process.off('SIGINT', handlers.SIGINT);
    log(`safety-gateway: cannot start: ${(err as Error).message}`);
    return 1;
  }
  const running = gateway;
  await new Promise<void>((resolve) => {
    onSignal = (signal: string) => {
      log(`${signal}: draining in-flight requests (up to ${config.shutdown_grace_s}s)...`);
      void running.shutdown().then(() => {
        log('stopped');
        resolve();
      });
    };
    if (signalled) onSignal(signalled);
  });
  return 0;
}
