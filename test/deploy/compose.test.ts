import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadPolicySet } from '../../policies/policySet';
import { composeEnv, composeVolume, DEPLOY, interpolate, interpolateAll, readYaml, ROOT, type Json } from './deployFiles';
import { localDeployPolicy } from './deployedPolicy';
import { configFrom, gatewayReads, namesTheGatewayReads } from './gatewayEnv';
import { composeValidator } from './schemas';

/**
 * deploy/compose.yaml without a Docker engine: valid against the compose-spec JSON Schema, and
 * every place where it meets the gateway agrees with the gateway's own schemas (config, policy),
 * with the files it mounts, and with the other services' settings (nginx, the Collector,
 * Prometheus, vLLM).
 */
const compose = readYaml(path.join(DEPLOY, 'compose.yaml'));
const services = compose.services as Record<string, Json>;
/** What an operator's deploy/.env supplies (compose refuses to start without the required ones). */
const DOT_ENV = { ENGINE_API_KEY: 'engine-key', LLAMA_GUARD_API_KEY: 'guard-key', SAFETY_CONTENT_SALT: 'salt', HF_TOKEN: 'hf' };
const GATEWAYS = ['gateway-1', 'gateway-2'];

const command = (service: string) => (services[service].command as string[]).map((a) => interpolate(String(a), DOT_ENV));
const flag = (service: string, name: string) => {
  const args = command(service);
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const mounts = (service: string) => ((services[service].volumes ?? []) as string[]).map(composeVolume);
/** The host path (in this checkout) behind a container path of `service`, through its bind mounts. */
const hostPath = (service: string, containerPath: string) => {
  const mount = mounts(service)
    .filter((m) => m.source.startsWith('.') && (containerPath === m.target || containerPath.startsWith(`${m.target}/`)))
    .sort((a, b) => b.target.length - a.target.length)[0];
  return mount && path.join(DEPLOY, mount.source, path.posix.relative(mount.target, containerPath));
};
const gatewayEnv = (service: string) => Object.fromEntries(Object.entries(composeEnv(services[service])).map(([k, v]) => [k, interpolate(v, DOT_ENV)]));
/** The config a replica runs with: its environment, the config file it mounts, the image's own environment beneath. */
const replicaConfig = (service: string) => {
  const env = gatewayEnv(service);
  return configFrom({ ...env, SAFETY_CONFIG: hostPath(service, env.SAFETY_CONFIG)! });
};
const policy = readYaml(path.join(DEPLOY, 'policies', 'policy.yaml')) as { guards: Record<string, Json> };

describe('deploy/compose.yaml', () => {
  test('is valid against the compose-spec schema (and the check can fail)', () => {
    const validate = composeValidator();
    // As `docker compose config` does: variables first, then the schema.
    const resolved = interpolateAll(compose, DOT_ENV);
    expect(validate(resolved)).toEqual([]);
    const broken = structuredClone(resolved) as { services: Record<string, Json> };
    broken.services.lb.restart_policy = 'always';
    (broken.services.redis.healthcheck as Json).interval = 'every five seconds';
    const problems = validate(broken);
    expect(problems.some((p) => p.includes('restart_policy'))).toBe(true);
    expect(problems.some((p) => p.includes('/services/redis/healthcheck/interval') && p.includes('format'))).toBe(true);
  });

  test('has the whole topology', () => {
    expect(Object.keys(services).sort()).toEqual(['engine', 'gateway-1', 'gateway-2', 'lb', 'llama-guard', 'otel-collector', 'otel-files-init', 'prometheus', 'prompt-guard', 'redis'].sort());
    expect(services.lb.image).toMatch(/^nginx:/);
    expect(services.redis.image).toMatch(/^redis:/);
    expect(services['otel-collector'].image).toMatch(/^otel\/opentelemetry-collector-contrib:\d/);
    expect(services.prometheus.image).toMatch(/^prom\/prometheus:v\d/);
    expect(services['prompt-guard'].image).toMatch(/^ghcr\.io\/huggingface\/text-embeddings-inference:/);
    for (const g of GATEWAYS) expect(services[g].build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
    expect(existsSync(path.join(DEPLOY, '..', 'Dockerfile'))).toBe(true);
    // Every named volume a service uses is declared.
    const declared = Object.keys(compose.volumes as Json);
    for (const name of Object.keys(services)) for (const m of mounts(name)) if (!m.source.startsWith('.')) expect(declared).toContain(m.source);
  });

  test('the replicas: only variables the gateway reads, and a config that loads from the mounted file', () => {
    const read = namesTheGatewayReads();
    const keyEnvs = Object.values(policy.guards).map((g) => g.api_key_env).filter((v): v is string => typeof v === 'string');
    for (const g of GATEWAYS) {
      for (const name of Object.keys(gatewayEnv(g))) expect({ name, read: gatewayReads(name, read, keyEnvs) }).toEqual({ name, read: true });
      for (const name of keyEnvs) expect(Object.keys(gatewayEnv(g))).toContain(name);
      const config = replicaConfig(g);
      expect(config.host).toBe('0.0.0.0');
      // The policy is mounted as a directory (edits reach the watcher), read-only, and is the kit's policy.
      const policyDir = mounts(g).find((m) => m.target === path.posix.dirname(config.policy!));
      expect(policyDir).toMatchObject({ source: './policies', readOnly: true });
      expect(hostPath(g, config.policy!)).toBe(path.join(DEPLOY, 'policies', 'policy.yaml'));
      expect(statSync(hostPath(g, path.posix.dirname(config.keys.file!))!).isDirectory()).toBe(true);
      // Longer than the drain, so SIGTERM's drain is never cut short by SIGKILL.
      expect(parseInt(String(services[g].stop_grace_period), 10)).toBeGreaterThan(config.shutdown_grace_s);
    }
    // Each replica its own audit volume at the image's audit directory (one writer per log).
    const dockerfile = readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const auditDir = /SAFETY_AUDIT_DIR=(\S+)/.exec(dockerfile)![1];
    const auditVolumes = GATEWAYS.map((g) => mounts(g).find((m) => m.target === auditDir)?.source);
    expect(new Set(auditVolumes).size).toBe(2);
    expect(auditVolumes.every((v) => v && !v.startsWith('.'))).toBe(true);
    // One Prometheus series per replica.
    const instances = GATEWAYS.map((g) => /service\.instance\.id=([^,]+)/.exec(gatewayEnv(g).OTEL_RESOURCE_ATTRIBUTES)?.[1]);
    expect(new Set(instances).size).toBe(2);
  });

  test('nginx balances over both replicas on their configured port and does not buffer streams', () => {
    const nginx = readFileSync(path.join(DEPLOY, 'compose', 'nginx.conf'), 'utf8');
    expect(mounts('lb').find((m) => m.target === '/etc/nginx/nginx.conf')?.source).toBe('./compose/nginx.conf');
    const servers = [...nginx.matchAll(/^\s*server\s+([\w.-]+):(\d+)/gm)].map((m) => `${m[1]}:${m[2]}`);
    expect(servers.sort()).toEqual(GATEWAYS.map((g) => `${g}:${replicaConfig(g).port}`).sort());
    expect(nginx).toMatch(/proxy_buffering off;/);
    const listen = /listen\s+(\d+);/.exec(nginx)![1];
    expect(String((services.lb.ports as string[])[0])).toMatch(new RegExp(`:${listen}$`));
    // The body limit lets the gateway's own 413 through.
    expect(Number(/client_max_body_size\s+(\d+)m;/.exec(nginx)![1]) * 1024 * 1024).toBeGreaterThan(replicaConfig('gateway-1').limits.body_bytes);
    expect(replicaConfig('gateway-1').trust_proxy).toBe(1);
  });

  test('the gateways reach the engine, Redis and the Collector where compose runs them', () => {
    const config = replicaConfig('gateway-1');
    const engine = new URL(config.engine.url!);
    expect(engine.hostname).toBe('engine');
    expect(engine.port).toBe(flag('engine', '--port'));
    expect(gatewayEnv('gateway-1').ENGINE_API_KEY).toBe(flag('engine', '--api-key'));
    expect(config.rate_limits.store).toBe('redis');
    expect(new URL(config.rate_limits.redis_url!).hostname).toBe('redis');
    const otlp = new URL(gatewayEnv('gateway-1').OTEL_EXPORTER_OTLP_ENDPOINT);
    expect(otlp.hostname).toBe('otel-collector');
    expect(gatewayEnv('gateway-1').OTEL_EXPORTER_OTLP_PROTOCOL).toBe('http/protobuf');
    const collector = readYaml(path.join(DEPLOY, 'compose', 'otel-collector.yaml')) as { receivers: { otlp: { protocols: { http: { endpoint: string } } } } };
    expect(collector.receivers.otlp.protocols.http.endpoint.split(':')[1]).toBe(otlp.port);
  });

  test('vLLM serves Llama 3.1 405B Instruct FP8 with TP=8 and tool calling, on GPUs Llama Guard does not use', () => {
    expect(flag('engine', '--model')).toBe('meta-llama/Llama-3.1-405B-Instruct-FP8');
    expect(flag('engine', '--tensor-parallel-size')).toBe('8');
    expect(command('engine')).toContain('--enable-auto-tool-choice');
    expect(flag('engine', '--tool-call-parser')).toBe('llama3_json');
    const gpus = (service: string) => ((((services[service].deploy as Json).resources as Json).reservations as Json).devices as { device_ids: string[] }[])[0].device_ids;
    expect(gpus('engine')).toHaveLength(8);
    expect(gpus('llama-guard').filter((id) => gpus('engine').includes(id))).toEqual([]);
    // The recipe an operator reads runs the same model with the same flags.
    const recipe = readFileSync(path.join(ROOT, 'engine', 'recipes', 'vllm-llama-3.1-405b.md'), 'utf8');
    const block = /vllm serve meta-llama\/Llama-3\.1-405B-Instruct-FP8[^`]*/.exec(recipe)?.[0] ?? '';
    for (const f of ['--tensor-parallel-size 8', '--enable-auto-tool-choice', '--tool-call-parser llama3_json']) expect(block.replace(/\\\n\s*/g, ' ')).toContain(f);
  });

  test('the policy asks the llama-guard service for the model it serves, with its key, and loads', () => {
    const guard = policy.guards.llama_guard;
    expect(guard.backend).toBe('openai');
    const url = new URL(String(guard.base_url));
    expect(url.hostname).toBe('llama-guard');
    expect(url.port).toBe(flag('llama-guard', '--port'));
    expect(guard.model).toBe(flag('llama-guard', '--model'));
    expect(gatewayEnv('gateway-1')[String(guard.api_key_env)]).toBe(flag('llama-guard', '--api-key'));
    // The whole policy loads (its guard servers moved to test hostnames).
    expect(loadPolicySet(localDeployPolicy({ llamaGuard: 'http://llama-guard.test:8000/v1', promptGuard: 'http://prompt-guard.test:80' })).main.id).toBe('gateway');
  });

  test('the Collector exports metrics to Prometheus and every signal to files; Prometheus scrapes it and loads the rules', () => {
    const collectorArgs = command('otel-collector');
    const configPath = collectorArgs.find((a) => a.startsWith('--config='))!.slice('--config='.length);
    expect(hostPath('otel-collector', configPath)).toBe(path.join(DEPLOY, 'compose', 'otel-collector.yaml'));
    const collector = readYaml(path.join(DEPLOY, 'compose', 'otel-collector.yaml')) as {
      receivers: Json;
      processors: Json;
      exporters: Record<string, Json>;
      service: { pipelines: Record<string, { receivers: string[]; processors: string[]; exporters: string[] }> };
    };
    const { pipelines } = collector.service;
    expect(Object.keys(pipelines).sort()).toEqual(['logs', 'metrics', 'traces']);
    for (const p of Object.values(pipelines)) {
      for (const r of p.receivers) expect(Object.keys(collector.receivers)).toContain(r);
      for (const x of p.processors) expect(Object.keys(collector.processors)).toContain(x);
      for (const e of p.exporters) expect(Object.keys(collector.exporters)).toContain(e);
      expect(p.exporters.some((e) => e.startsWith('file'))).toBe(true);
    }
    expect(pipelines.metrics.exporters).toContain('prometheus');
    const exporterPort = String(collector.exporters.prometheus.endpoint).split(':')[1];

    const prometheus = readYaml(path.join(DEPLOY, 'compose', 'prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; honor_labels?: boolean; static_configs: { targets: string[] }[] }[] };
    const gatewayJob = prometheus.scrape_configs.find((j) => j.static_configs[0].targets.includes(`otel-collector:${exporterPort}`));
    // honor_labels keeps each replica's own job and instance labels.
    expect(gatewayJob?.honor_labels).toBe(true);
    const rulesDir = path.posix.dirname(prometheus.rule_files[0]);
    const rulesHost = hostPath('prometheus', rulesDir)!;
    const pattern = new RegExp(`^${path.posix.basename(prometheus.rule_files[0]).replace(/\./g, '\\.').replace('*', '.*')}$`);
    expect(readdirSync(rulesHost).filter((f) => pattern.test(f))).toEqual(['safety-gateway.rules.yml']);
    expect(hostPath('prometheus', '/etc/prometheus/prometheus.yml')).toBe(path.join(DEPLOY, 'compose', 'prometheus.yml'));
  });

  test('the policy asks the prompt-guard service (text-embeddings-inference) for Prompt Guard 2, which starts with the gateways', () => {
    const guard = policy.guards.prompt_guard;
    expect(guard.backend).toBe('tei');
    // Recorded with every verdict: the model the service serves.
    expect(guard.model).toBe(flag('prompt-guard', '--model-id'));
    expect(guard.model).toBe('meta-llama/Llama-Prompt-Guard-2-86M');
    const url = new URL(String(guard.url));
    expect(url.hostname).toBe('prompt-guard');
    expect(url.port || (url.protocol === 'http:' ? '80' : '443')).toBe(flag('prompt-guard', '--port'));
    expect(url.pathname).toBe('/');
    // A key, if the policy names one, is one the replicas have and the server checks.
    if (guard.api_key_env !== undefined) expect(gatewayEnv('gateway-1')[String(guard.api_key_env)]).toBe(flag('prompt-guard', '--api-key'));
    else expect(flag('prompt-guard', '--api-key')).toBeUndefined();
    // The gateway splits over-long segments itself; TEI must refuse them, not cut them.
    expect(command('prompt-guard')).not.toContain('--auto-truncate');
    // Up by default (no profile), with a health check on TEI's /health at its port, and started with the gateways.
    expect(services['prompt-guard'].profiles).toBeUndefined();
    const check = (services['prompt-guard'].healthcheck as { test: string[] }).test.join(' ');
    expect(check).toContain(`/dev/tcp/127.0.0.1/${flag('prompt-guard', '--port')}`);
    expect(check).toContain('GET /health');
    for (const g of GATEWAYS) expect((services[g].depends_on as Json)['prompt-guard']).toEqual({ condition: 'service_started' });
  });
});
