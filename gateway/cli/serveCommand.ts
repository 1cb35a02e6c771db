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
  let gateway;
  try {
    gateway = await startGateway({ config, log });
  } catch (err) {
    log(`safety-gateway: cannot start: ${(err as Error).message}`);
    return 1;
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      log(`${signal}: draining in-flight requests (up to ${config.shutdown_grace_s}s)...`);
      void gateway.shutdown().then(() => {
        log('stopped');
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}
