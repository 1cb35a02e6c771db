import { parseArgs } from 'node:util';
import { startDevEngine } from '../../engine/devEngine/server';

export async function devEngineCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { port: { type: 'string', default: process.env.PORT ?? '8000' }, host: { type: 'string', default: '127.0.0.1' }, 'token-delay-ms': { type: 'string', default: '5' } },
    strict: true,
  });
  const engine = await startDevEngine({ port: Number(values.port), host: values.host, tokenDelayMs: Number(values['token-delay-ms']) });
  process.stderr.write(`dev engine (a deterministic stand-in, NOT a language model) on ${engine.baseUrl}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await engine.close();
  return 0;
}
