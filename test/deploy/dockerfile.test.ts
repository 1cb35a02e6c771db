import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { runCli } from '../support/cliProcess';
import { FIXTURE_POLICY, startHarness } from '../support/gatewayHarness';
import { envOf, finalStage, parseDockerfile, ROOT, type DockerInstruction } from './deployFiles';
import { imageCopies, repoPathOf } from './deployedPolicy';
import { configFrom, gatewayReads, namesTheGatewayReads } from './gatewayEnv';

/**
 * The container image without a Docker engine: the Dockerfile's instructions read as Docker reads
 * them and checked against what they refer to (the config schema, the CLI, the repository, the
 * .dockerignore), and its health check and command run for real against this checkout.
 */
const instructions = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
const runtime = finalStage(instructions);
const one = (keyword: string): DockerInstruction => {
  const found = runtime.filter((i) => i.keyword === keyword);
  expect(found).toHaveLength(1);
  return found[0];
};
const imageEnv = envOf(runtime);
const dockerIgnored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8')
  .split('\n')
  .map((l) => l.trim())
  .filter((l) => l && !l.startsWith('#'));
/** What COPY takes from the build context (not from another stage), in every stage or in the `build` stage alone. */
const sourcesOf = (list: DockerInstruction[]) => list.filter((i) => i.keyword === 'COPY' && !i.flags.from).flatMap((i) => i.args.split(/\s+/).slice(0, -1));
const copiedSources = sourcesOf(instructions);
const buildStart = instructions.findIndex((i) => i.keyword === 'FROM' && / AS build$/.test(i.args));
const buildEnd = instructions.findIndex((i, at) => at > buildStart && i.keyword === 'FROM');
const buildStageSources = sourcesOf(instructions.slice(buildStart, buildEnd === -1 ? undefined : buildEnd));

function typeScriptFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : typeScriptFiles(full);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [full] : [];
  });
}

/** The file a relative import names, as TypeScript resolves it (undefined: not a file of this repository). */
function resolveImport(dir: string, spec: string): string | undefined {
  const base = path.resolve(dir, spec);
  return [`${base}.ts`, path.join(base, 'index.ts'), base, `${base}.json`].find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
}

describe('Dockerfile', () => {
  test('multi-stage on Node 20 (Debian bookworm slim), as package.json engines asks', () => {
    const from = instructions.filter((i) => i.keyword === 'FROM');
    expect(from.length).toBeGreaterThanOrEqual(2);
    const arg = instructions.find((i) => i.keyword === 'ARG' && i.args.startsWith('NODE_IMAGE='));
    const image = arg?.args.split('=')[1];
    expect(image).toMatch(/^node:20(\.\d+)*-bookworm-slim$/);
    for (const f of from) expect(f.args).toMatch(/^\$\{NODE_IMAGE\} AS \w+$/);
    const engines = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
    expect(engines).toMatch(/^>=20\./);
    // The runtime takes the compiled output of the stage that runs `npm run build`.
    const build = instructions.slice(instructions.findIndex((i) => i.keyword === 'FROM' && / AS build$/.test(i.args)));
    expect(build.some((i) => i.keyword === 'RUN' && i.args.includes('npm run build'))).toBe(true);
    const workdir = build.find((i) => i.keyword === 'WORKDIR')?.args;
    expect(runtime.some((i) => i.keyword === 'COPY' && i.flags.from === 'build' && i.args.startsWith(`${workdir}/dist `))).toBe(true);
  });

  test('runs as a numeric non-root user (so Kubernetes runAsNonRoot can verify it)', () => {
    const [uid, gid] = one('USER').args.split(':');
    expect(Number(uid)).toBeGreaterThan(0);
    expect(Number(gid)).toBeGreaterThan(0);
  });

  test('every variable it sets is one the gateway (or Node) reads, and the exposed port is the configured one', () => {
    const read = namesTheGatewayReads();
    for (const name of Object.keys(imageEnv)) expect({ name, read: name === 'NODE_ENV' || gatewayReads(name, read) }).toEqual({ name, read: true });
    const config = configFrom(imageEnv);
    expect(one('EXPOSE').args).toBe(String(config.port));
    // A container listens beyond loopback, where the gateway then insists on API keys.
    expect(config.host).toBe('0.0.0.0');
  });

  test('copies only what exists and .dockerignore lets through; leaves out what is built, local or secret', () => {
    for (const must of ['.git', 'node_modules', 'dist', '.audit', 'deploy']) expect(dockerIgnored).toContain(must);
    expect(copiedSources.length).toBeGreaterThan(5);
    for (const source of copiedSources) {
      expect({ source, exists: existsSync(path.join(ROOT, source)) }).toEqual({ source, exists: true });
      const excludedBy = dockerIgnored.filter((p) => !p.includes('*') && (source === p || source.startsWith(`${p}/`)));
      expect({ source, excludedBy }).toEqual({ source, excludedBy: [] });
    }
  });

  test('the build stage holds every file its sources import (docker build runs tsc on what that stage copied, and failed when it did not)', () => {
    expect(buildStageSources.length).toBeGreaterThan(3);
    const inImage = (rel: string) =>
      buildStageSources.some((s) => rel === s || rel.startsWith(`${s}/`)) && !dockerIgnored.some((p) => !p.includes('*') && (rel === p || rel.startsWith(`${p}/`)));
    const include = (JSON.parse(readFileSync(path.join(ROOT, 'tsconfig.build.json'), 'utf8')) as { include: string[] }).include;
    const missing: string[] = [];
    for (const file of include.flatMap((dir) => typeScriptFiles(path.join(ROOT, dir)))) {
      const from = path.relative(ROOT, file);
      if (!inImage(from)) continue; // left out of the image, so not compiled there
      for (const [, spec] of readFileSync(file, 'utf8').matchAll(/(?:from|import\(?|require\()\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const target = resolveImport(path.dirname(file), spec);
        if (target && !inImage(path.relative(ROOT, target))) missing.push(`${from} imports ${spec}`);
      }
    }
    expect(missing).toEqual([]);
  });

  test('the image holds the bundled models the default policy loads', () => {
    const defaultPolicy = '/app/policies/default.yaml';
    const local = repoPathOf(defaultPolicy);
    expect(local && existsSync(local)).toBe(true);
    const policy = parse(readFileSync(local!, 'utf8')) as { guards: Record<string, { model: string }> };
    for (const guard of Object.values(policy.guards)) {
      const model = repoPathOf(path.posix.resolve(path.posix.dirname(defaultPolicy), guard.model));
      expect(model && statSync(path.join(model, 'model.onnx')).size).toBeGreaterThan(1_000_000);
    }
    expect(imageCopies().some((c) => c.image === '/app/guards/models')).toBe(true);
  });

  test('entrypoint and command in exec form: node is PID 1 and the command is the CLI`s serve', async () => {
    const entrypoint = one('ENTRYPOINT').exec;
    const cmd = one('CMD').exec;
    expect(entrypoint?.[0]).toBe('node');
    expect(cmd).toEqual(['serve']);
    expect(existsSync(repoPathOf(entrypoint![1]) ?? '')).toBe(true);
    const help = await runCli(['--help']);
    expect(help.stdout).toMatch(new RegExp(`^\\s+${cmd![0]}\\s`, 'm'));
    const stop = runtime.find((i) => i.keyword === 'STOPSIGNAL');
    expect(stop === undefined || stop.args === 'SIGTERM').toBe(true);
  });

  describe('the health check, run as Docker runs it', () => {
    const check = () => one('HEALTHCHECK');
    /** Its exit status (the gateway answers from this process, so never a synchronous spawn). */
    const run = async (port: number): Promise<number | null> => {
      const [command, ...args] = check().exec!;
      expect(command).toBe('node');
      const child = spawn(process.execPath, args, { env: { ...process.env, PORT: String(port) }, stdio: 'ignore' });
      return (await once(child, 'exit'))[0] as number | null;
    };

    test('exec form on GET /readyz, with a start period for model loading', () => {
      expect(check().exec?.join(' ')).toContain('/readyz');
      expect(check().flags['start-period']).toMatch(/^\d+s$/);
    });

    test('healthy when ready; unhealthy when the engine is unreachable or nothing listens', async () => {
      const ready = await startHarness();
      const unready = await startHarness({ engineUrl: 'http://127.0.0.1:9/v1' });
      try {
        expect(await run(ready.gateway.port)).toBe(0);
        expect(await run(unready.gateway.port)).toBe(1);
      } finally {
        await ready.close();
        await unready.close();
      }
      expect(await run(ready.gateway.port)).toBe(1);
    });
  });

  describe("the image's command line, with the image's environment", () => {
    let engine: DevEngine;
    beforeAll(async () => {
      engine = await startDevEngine({ tokenDelayMs: 0 });
    });
    afterAll(async () => engine.close());

    test('SIGTERM reaches the gateway: the in-flight request is answered, then it exits 0', async () => {
      const [command, ...entry] = one('ENTRYPOINT').exec!;
      expect(command).toBe('node');
      const argv = [repoPathOf(entry[0])!, ...entry.slice(1), ...one('CMD').exec!, '--policy', FIXTURE_POLICY, '--port', '0'];
      // Loopback and a scratch audit directory: this machine is not a container.
      const env = { ...process.env, ...imageEnv, HOST: '127.0.0.1', SAFETY_AUDIT_DIR: mkdtempSync(path.join(tmpdir(), 'sg-audit-')), ENGINE_URL: engine.baseUrl };
      const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      const exited = once(child, 'exit');
      while (!/listening on (http:\/\/\S+)/.test(stderr)) await new Promise((r) => setTimeout(r, 20));
      const url = /listening on (http:\/\/\S+)/.exec(stderr)![1];
      await fetch(`${engine.url}/dev/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reply: 'answered after SIGTERM', delay_ms: 800 }) });
      const inFlight = fetch(`${url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content: 'hello' }] }) });
      while (engine.stats.requests === 0) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGTERM');
      const res = await inFlight;
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: { message: { content: string } }[] }).choices[0].message.content).toBe('answered after SIGTERM');
      expect((await exited)[0]).toBe(0);
      expect(stderr).toContain('SIGTERM: draining');
    });
  });
});
