import { parseArgs } from 'node:util';
import { startDevEngine } from '../../engine/devEngine/server';

export async function devEngineCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: process.env.PORT ?? '8000' }, host: { type: 'string', default: '127.0.0.1' }, 'token-delay-ms': { type: 'string', default: '5' } },
    strict: true,
  });
  const port = Number(values.port);
  const tokenDelayMs = Number(values['token-delay-ms']);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    process.stderr.write(`safety-gateway dev-engine: --port must be a port number 0-65535 (got "${values.port}")\n`);
    return 2;
  }
  if (values.host.trim() === '') {
    // Node reads an empty host as every interface.
    process.stderr.write('safety-gateway dev-engine: --host needs an interface address, e.g. 127.0.0.1\n');
    return 2;
  }
  if (!/^\d+$/.test(values['token-delay-ms'])) {
    process.stderr.write(`safety-gateway dev-engine: --token-delay-ms must be a whole number of milliseconds (got "${values['token-delay-ms']}")\n`);
    return 2;
  }
  const engine = await startDevEngine({ port, host: values.host, tokenDelayMs });
  process.stderr.write(`dev engine (a deterministic stand-in, NOT a language model) on ${engine.baseUrl}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await engine.close();
  return 0;
}
