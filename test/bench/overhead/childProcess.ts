import { spawn, type ChildProcess } from 'node:child_process';

/** A server of the bench in a process of its own, and the base URL it announced. */
export interface BenchChild {
  name: string;
  url: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Starts `node ARGS`, waits for the line that names its URL (`listening URL` from the bench's
 * own servers, `safety-gateway listening on URL` from the gateway, on stdout or stderr), and
 * fails with what the process said if it exits or stays silent first.
 */
export function startChild(name: string, args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<BenchChild> {
  const child = spawn(process.execPath, args, { env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let said = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${name} did not start within ${options.timeoutMs ?? 120_000} ms:\n${said.slice(-2000)}`)), options.timeoutMs ?? 120_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      said += chunk.toString('utf8');
      const match = /listening (?:on )?(http:\/\/[^\s)]+)/.exec(said);
      if (!match) return;
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onData);
      // Keep draining its output, so a chatty child never blocks on a full pipe.
      child.stdout?.resume();
      child.stderr?.resume();
      const url = match[1].replace(/\/v1$/, '');
      resolve({ name, url, process: child, stop: () => stopChild(child) });
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => fail(new Error(`${name} exited (${code}) before it listened:\n${said.slice(-2000)}`)));
  });
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
