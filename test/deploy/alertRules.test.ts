import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startDevEngine, type DevEngine } from '../../engine/devEngine/server';
import { hashApiKey } from '../../gateway/access/auth/apiKey';
import type { ReloadOutcome } from '../../gateway/pipeline/runtime/policyRuntime';
import { startGateway, type RunningGateway } from '../../gateway/server';
import { shutdownTelemetry } from '../../gateway/telemetry/telemetrySdk';
import { FIXTURE_POLICY } from '../support/gatewayHarness';
import { DEPLOY, readYaml } from './deployFiles';
import { configFrom } from './gatewayEnv';
import { parseSamples, type Sample } from './prometheusText';

/**
 * The alert rules (deploy/alerts/*.rules.yml) refer to metrics and labels that exist: a real
 * gateway with API keys and a rate limit gets allowed, blocked, unauthenticated (401) and
 * rate-limited (429) requests, a request whose key assigns a policy id the gateway has not loaded
 * (503 policy_unavailable) and a rejected policy edit, and every safety_* metric and every label
 * the rules select or group by is then on its GET /metrics. Each rule has a severity, a summary
 * and a runbook section that exists.
 */
interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; runbook: string };
}
const RULES = path.join(DEPLOY, 'alerts', 'safety-gateway.rules.yml');
const rules = (readYaml(RULES) as { groups: { name: string; rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
const APP_KEY = 'sk-alerts-app-key-0123456789abcdef';
const METRICS_KEY = 'sk-alerts-metrics-key-0123456789ab';
/** A key (of its own app) that assigns a policy id the gateway never loads: 503 policy_unavailable. */
const ORPHAN_KEY = 'sk-alerts-orphan-key-0123456789abc';
const GHOST_POLICY = 'alerts-ghost-policy';

/** Labels Prometheus (or a histogram's buckets, or the Collector's own metrics) adds, not the gateway. */
const NOT_FROM_THE_GATEWAY = new Set(['le', 'instance', 'job', 'exporter']);

/** Metric names (safety_*) and the label names a PromQL expression selects on or groups by. */
function referenced(expr: string): { metrics: string[]; labels: string[] } {
  // Label names may start with safety_ too: selectors and groupings are cut out first.
  const bare = expr.replace(/\{[^}]*\}/g, ' ').replace(/\b(?:by|without)\s*\([^)]*\)/g, ' ');
  const metrics = [...new Set(bare.match(/\bsafety_[a-z0-9_]+/g) ?? [])];
  const selectors = [...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)/g)].map((x) => x[1]));
  const grouping = [...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()).filter(Boolean));
  return { metrics, labels: [...new Set([...selectors, ...grouping])].filter((l) => l !== '__name__' && !NOT_FROM_THE_GATEWAY.has(l)) };
}

describe('alert rules', () => {
  let engine: DevEngine;
  let gateway: RunningGateway;
  let samples: Sample[];

  beforeAll(async () => {
    for (const name of Object.keys(process.env)) if (name.startsWith('OTEL_')) delete process.env[name];
    engine = await startDevEngine({ tokenDelayMs: 0 });
    const dir = mkdtempSync(path.join(tmpdir(), 'sg-alerts-'));
    const policyFile = path.join(dir, 'policy.yaml');
    writeFileSync(policyFile, `id: alerts\nextends: ${FIXTURE_POLICY}\n`);
    const configFile = path.join(dir, 'gateway.yaml');
    writeFileSync(
      configFile,
      `port: 0\nhost: 127.0.0.1\npolicy: ${policyFile}\nengine:\n  url: ${engine.baseUrl}\nrate_limits:\n  defaults:\n    requests_per_minute: 3\naudit:\n  dir: ${path.join(dir, 'audit')}\n` +
        `keys:\n  inline:\n    - app: alerts-orphan\n      hash: ${hashApiKey(ORPHAN_KEY)}\n      policy: ${GHOST_POLICY}\n`,
    );
    const config = configFrom({ SAFETY_CONFIG: configFile, SAFETY_API_KEYS: `alerts=${APP_KEY}`, SAFETY_METRICS_KEY: METRICS_KEY });
    gateway = await startGateway({ config });

    const chat = (content: string, key: string | null = APP_KEY) =>
      fetch(`${gateway.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
        body: JSON.stringify({ model: 'dev', messages: [{ role: 'user', content }] }),
      }).then(async (res) => {
        await res.arrayBuffer();
        return res.status;
      });
    expect(await chat('hello there')).toBe(200);
    expect(await chat('zzjailbreak now')).toBe(400);
    expect(await chat('hello again', null)).toBe(401);
    expect(await chat('one more')).toBe(200);
    expect(await chat('over the limit')).toBe(429);
    expect(await chat('no policy for me', ORPHAN_KEY)).toBe(503);

    const rejected = new Promise<ReloadOutcome>((resolve) => {
      const stop = gateway.policies.onReload((o) => {
        stop();
        resolve(o);
      });
    });
    writeFileSync(policyFile, 'id: [unclosed\n');
    expect((await rejected).status).toBe('rejected');

    const metrics = await fetch(`${gateway.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
    expect(metrics.status).toBe(200);
    samples = parseSamples(await metrics.text());
  });
  afterAll(async () => {
    await gateway?.shutdown(1000);
    await shutdownTelemetry();
    await engine?.close();
  });

  test('each rule: a unique name, a severity, a summary, a runbook section that exists', () => {
    expect(rules.length).toBeGreaterThanOrEqual(10);
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
    const runbook = readFileSync(path.join(DEPLOY, 'README.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^#{1,6}\s+(.+)$/gm)].map((m) => m[1].trim().toLowerCase().replace(/[^a-z0-9 _-]/g, '').replace(/ /g, '-')));
    for (const rule of rules) {
      expect(['critical', 'warning', 'info']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      const [file, anchor] = rule.annotations.runbook.split('#');
      expect(file).toBe('deploy/README.md');
      expect({ alert: rule.alert, anchor, exists: anchors.has(anchor) }).toEqual({ alert: rule.alert, anchor, exists: true });
      if (rule.for) expect(rule.for).toMatch(/^\d+[smh]$/);
    }
  });

  test('every safety_* metric a rule reads is on GET /metrics, with every label the rule uses', () => {
    const names = new Set(samples.map((s) => s.name));
    const used = rules.map((r) => ({ alert: r.alert, ...referenced(r.expr) }));
    // The 401, 429 and 503 policy_unavailable counters, the latency histogram, the queue and in-flight gauges are all used.
    const all = new Set(used.flatMap((u) => u.metrics));
    for (const m of ['safety_auth_rejections_total', 'safety_rate_limit_rejections_total', 'safety_policy_unavailable_rejections_total', 'safety_request_duration_seconds_bucket', 'safety_guard_queue_wait_seconds_bucket', 'safety_requests_in_flight']) expect(all).toContain(m);
    for (const { alert, metrics, labels } of used) {
      for (const metric of metrics) expect({ alert, metric, exposed: names.has(metric) }).toEqual({ alert, metric, exposed: true });
      if (metrics.length === 0) continue;
      const carried = new Set(samples.filter((s) => metrics.includes(s.name)).flatMap((s) => Object.keys(s.labels)));
      for (const label of labels) expect({ alert, label, carried: carried.has(label) }).toEqual({ alert, label, carried: true });
    }
  });

  test("every label a rule's summary names survives its aggregation", () => {
    for (const rule of rules) {
      const kept = [...rule.expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) => m[1].split(',').map((s) => s.trim()));
      if (kept.length === 0) continue;
      for (const label of [...rule.annotations.summary.matchAll(/\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)/g)].map((m) => m[1])) {
        expect({ alert: rule.alert, label, kept: kept.includes(label) }).toEqual({ alert: rule.alert, label, kept: true });
      }
    }
  });

  test('the policy_unavailable refusal is counted under the app and the policy id its key assigns, which the alert names', () => {
    const rule = rules.find((r) => r.alert === 'SafetyGatewayPolicyUnavailable');
    expect(rule?.labels.severity).toBe('critical');
    expect(rule?.annotations.summary).toContain('{{ $labels.safety_app }}');
    expect(rule?.annotations.summary).toContain('{{ $labels.gen_ai_security_policy_id }}');
    const counted = samples.filter((s) => s.name === 'safety_policy_unavailable_rejections_total');
    expect(counted).toEqual([
      expect.objectContaining({ labels: expect.objectContaining({ safety_app: 'alerts-orphan', gen_ai_security_policy_id: GHOST_POLICY, http_route: '/v1/chat/completions' }), value: 1 }),
    ]);
  });

  test('the metric check can fail: a misspelt metric or label is found out', () => {
    const names = new Set(samples.map((s) => s.name));
    expect(names.has(referenced('rate(safety_request_duration_second_count[5m])').metrics[0])).toBe(false);
    const carried = new Set(samples.filter((s) => s.name === 'safety_requests_total').flatMap((s) => Object.keys(s.labels)));
    expect(carried.has(referenced('sum by (gen_ai_security_verdict) (rate(safety_requests_total[5m]))').labels[0])).toBe(false);
  });
});
