import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createEngine } from '../engine/upstreams';
import { startDevEngine, type DevEngine } from '../engine/devEngine/server';
import { assertListenAllowed, createAccessLayer } from './access/accessLayer';
import { createApp } from './app';
import { startDecisionRecording } from './audit/decisionRecording';
import type { GatewayConfig } from './config';
import { onClientError } from './access/hardening/clientErrors';
import { httpServerOptions } from './access/hardening/serverOptions';
import { continueOnFirstRead, refuseUnknownExpectations } from './access/hardening/expectContinue';
import { defaultPolicyFile } from './paths';
import { guardSettingsFrom } from './pipeline/runtime/guardSettings';
import { guardReadinessCheck } from './pipeline/runtime/guardHealth';
import { startMetricsListener } from './routes/metricsListener';
import { PolicyHolder } from './pipeline/runtime/policyRuntime';
import { startReviewMount } from './review/reviewMount';
import { markCutByShutdown } from './pipeline/connectionCut';
import { refuseConnect } from './access/hardening/connectMethod';
import { rejectionOf, reportRejection } from './access/rejections';
import { UnauthenticatedError } from './access/auth/authenticate';
import type { DecisionRecorder } from './record/requestRecord';
import { InFlightCalls } from './pipeline/inFlightCalls';
import { unloadedAssignments } from './access/auth/policyAssignments';

/** The last part of the grace period (at most a quarter of it) that cut-off requests get to write their records. */
const RECORD_DRAIN_MS = 5000;
/** While draining, how long a connection whose answer ended waits for a last request before it closes. */
const DRAIN_KEEP_ALIVE_MS = 2000;
/** What the end of the grace period keeps for the audit log to close (its summaries, its shutdown checkpoint, its lock). */
const AUDIT_CLOSE_MS = 1000;
/** How long the start's one look at the engine waits (as /readyz's does). */
const ENGINE_PROBE_MS = 2000;

export interface RunningGateway {
  url: string;
  port: number;
  policies: PolicyHolder;
  devEngine?: DevEngine;
  /** Where GET /metrics is served when `metrics.port` is set (otherwise on `url`). */
  metricsUrl?: string;
  /** Stops accepting, lets in-flight requests and streams finish (up to the grace period), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  config: GatewayConfig;
  /** Default: the audit log + OpenTelemetry (config `audit`, `telemetry`); tests pass their own. */
  recorder?: DecisionRecorder;
  log?: (line: string) => void;
  /** Hot reload of the policy files (default true): a valid change is swapped in, an invalid one reported and ignored. */
  watchPolicies?: boolean;
}

/** Server bootstrap: policy and guards loaded first, then the engine, then the listener. */
export async function startGateway({ config, recorder, log = () => undefined, watchPolicies = true }: StartOptions): Promise<RunningGateway> {
  // First: refuses an open gateway on a reachable address before anything is loaded.
  assertListenAllowed(config);
  // What has started so far, closed in reverse if a later step fails (a port in use, a bad
  // audit dir): a failed start must not leave guards, timers, clients or the audit lock behind.
  const started: (() => Promise<void>)[] = [];
  try {
    return await startParts({ config, recorder, log, watchPolicies }, started);
  } catch (err) {
    for (const close of started.reverse()) await close().catch(() => undefined);
    throw err;
  }
}

async function startParts(
  { config, recorder, log, watchPolicies }: Required<Omit<StartOptions, 'recorder'>> & Pick<StartOptions, 'recorder'>,
  started: (() => Promise<void>)[],
): Promise<RunningGateway> {
  const policies = new PolicyHolder({ ...guardSettingsFrom(config.guards), log, longestRequestMs: config.engine.total_timeout_ms });
  started.push(() => policies.close());
  const policyFile = config.policy ?? defaultPolicyFile();
  // An invalid policy set stops the start here (PolicyError lists every problem with its location).
  const runtime = await policies.loadFile(policyFile);
  log(`policy ${runtime.ref} from ${policyFile}; guards: ${[...runtime.guards.keys()].join(', ') || '(none)'}`);
  for (const [name, guard] of runtime.guards) {
    const where = guard.describeRuntime?.();
    if (where) log(`  ${name}: ${where}`);
  }
  const perApp = policies.all().slice(1).map((r) => r.ref);
  if (perApp.length > 0) log(`per-app policies: ${perApp.join(', ')}`);
  if (watchPolicies) policies.watch();

  let devEngine: DevEngine | undefined;
  // Every replica listed under `upstreams` with no `url` is the same pool: never the dev engine
  // beside real replicas. A replica without a key of its own uses the engine's (ENGINE_API_KEY).
  const replicas = config.engine.upstreams.map((u) => ({ url: u.url, apiKey: u.api_key ?? config.engine.api_key }));
  const primary = config.engine.url ? { url: config.engine.url, apiKey: config.engine.api_key } : replicas.shift();
  let engineUrl = primary?.url;
  if (!engineUrl) {
    const dev = await startDevEngine({ tokenDelayMs: 5 });
    started.push(() => dev.close());
    devEngine = dev;
    engineUrl = dev.baseUrl;
    log('WARNING: no ENGINE_URL set: answers come from the built-in DEV ENGINE, a deterministic stand-in, NOT a language model.');
    log(`         dev engine listening on ${devEngine.baseUrl}; set ENGINE_URL=http://<vllm-host>:8000/v1 for a real engine.`);
  }
  const engine = createEngine({
    upstreams: [{ url: engineUrl, apiKey: primary?.apiKey }, ...replicas],
    connectTimeoutMs: config.engine.connect_timeout_ms,
    firstByteTimeoutMs: config.engine.first_byte_timeout_ms,
    idleTimeoutMs: config.engine.idle_timeout_ms,
    totalTimeoutMs: config.engine.total_timeout_ms,
    maxAnswerBytes: config.engine.max_answer_bytes,
    retries: config.engine.retries,
    healthIntervalMs: config.engine.health_interval_ms,
    healthPath: config.engine.health_path,
    log,
  });
  started.push(() => engine.close());
  if (replicas.length) log(`engine: ${replicas.length + 1} upstreams, round-robin with failover before the first byte`);

  const recording = recorder ? undefined : await startDecisionRecording(config, log);
  if (recording) started.push(() => recording.close());
  const access = createAccessLayer(config, log);
  // Keys assigned a policy no loaded file defines fail closed; say so now and after every reload.
  const checkAssignments = () => {
    for (const line of unloadedAssignments(access.assignedPolicies(), new Set(policies.all().map((p) => p.loaded.id)))) log(`WARNING: ${line}`);
  };
  checkAssignments();
  access.onKeysReload(checkAssignments);
  const stopWatchingAssignments = policies.onReload((outcome) => {
    if (outcome.status === 'reloaded') checkAssignments();
  });
  started.push(async () => {
    stopWatchingAssignments();
  });
  started.push(() => access.close());
  const decisionRecorder = recorder ?? recording!.recorder;
  // A refused admin key on /review is a 401 like the API's: audited as unauthenticated.
  const review = config.review.enabled
    ? startReviewMount(config, log, async (req, res, reason) => {
        const rejection = rejectionOf(new UnauthenticatedError(reason), req, res, access.clientOf(req));
        if (rejection) await reportRejection(decisionRecorder, rejection);
      })
    : undefined;
  if (review) started.push(async () => review.close());
  const metricsListener = config.metrics.port === undefined ? undefined : await startMetricsListener(config, decisionRecorder);
  if (metricsListener) started.push(() => metricsListener.close());
  log(metricsLine(config, access.keysEnabled, metricsListener?.url));
  const inFlight = new InFlightCalls();
  const app = createApp({
    inFlight,
    policies,
    engine,
    recorder: decisionRecorder,
    bodyLimitBytes: config.limits.body_bytes,
    deliveredAnswers: config.guards.delivered_answers,
    access,
    readinessChecks: [
      // A draining replica leaves the load balancer's rotation at once, whatever else is fine.
      () => (stopping ? 'draining: the gateway is shutting down' : undefined),
      ...(recording?.readinessChecks ?? []),
      guardReadinessCheck(policies, { failures: config.guards.unready_after_failures, probeTimeoutMs: config.guards.probe_timeout_ms }),
    ],
    telemetry: recording?.telemetry,
    metrics: { apiKey: config.metrics.api_key, servedElsewhere: !!metricsListener },
    review: review?.router,
  });
  const server = http.createServer(httpServerOptions(config.limits), app);
  server.keepAliveTimeout = config.limits.keep_alive_timeout_ms;
  server.on('clientError', onClientError);
  continueOnFirstRead(server);
  refuseUnknownExpectations(server);
  refuseConnect(server);
  const sockets = new Set<Socket>();
  const busy = new WeakMap<Socket, number>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    busy.set(socket, 0);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    busy.set(socket, (busy.get(socket) ?? 0) + 1);
    res.on('close', () => busy.set(socket, (busy.get(socket) ?? 1) - 1));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log(`safety-gateway listening on ${url} (engine ${devEngine ? 'DEV STAND-IN' : redactUrl(engineUrl)})`);
  // A mistyped ENGINE_URL otherwise shows only as 503s to clients and in /readyz: say it here once, without delaying the start.
  if (!devEngine) {
    void engine.ping(ENGINE_PROBE_MS).then((ok) => {
      if (!ok && !stopping) log(`WARNING: the engine at ${redactUrl(engineUrl)} did not answer its health check within ${ENGINE_PROBE_MS / 1000} s (GET /models, or engine.health_path): guarded requests get 503 engine_unavailable until it does; /readyz reports it`);
    });
  }

  let stopping: Promise<void> | undefined;
  /** Waits for `work` at most `ms` (never below zero); the timer never holds the process. */
  const within = async (work: Promise<unknown>, ms: number): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([work.catch(() => undefined), new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, ms)).unref()))]);
    clearTimeout(timer);
  };
  const shutdown = (graceMs = config.shutdown_grace_s * 1000) => {
    stopping ??= (async () => {
      const deadline = Date.now() + graceMs;
      // The end of the grace period is for requests cut off then to record their outcome.
      const recordMs = Math.min(RECORD_DRAIN_MS, graceMs / 4);
      // Idle keep-alive connections close now; busy ones close once their response ends.
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) if (!busy.get(socket)) socket.end();
      // Before the app's own listener: a route that answers at once (/healthz, a 404) has sent its
      // headers by the time a later listener runs, and setHeader would throw out of the parser.
      server.prependListener('request', (_req, res) => res.setHeader('connection', 'close'));
      // Answers under way leave their connection idle when they end: it closes after
      // DRAIN_KEEP_ALIVE_MS, time for a client already sending on it to be answered (with
      // connection: close), not after the 65 s that would hold the shutdown to its grace period.
      server.keepAliveTimeout = Math.min(server.keepAliveTimeout, DRAIN_KEEP_ALIVE_MS);
      const timer = setTimeout(() => {
        for (const socket of sockets) {
          // Their requests' records say the gateway cut them, not the client.
          markCutByShutdown(socket);
          socket.destroy();
        }
      }, graceMs - recordMs);
      await closed;
      clearTimeout(timer);
      await engine.close().catch(() => undefined);
      // Requests whose sockets were just destroyed record their outcome now: the audit log must still be open.
      const left = await inFlight.drain(Math.max(0, deadline - Date.now()));
      if (left > 0) log(`shutdown: ${left} requests had not recorded their outcome by the end of the grace period; their records may be missing`);
      await access.close();
      await devEngine?.close();
      // The guards stop while the audit log is open (a call they end still records its outcome), but
      // only for what the grace period leaves less a moment for the log: a guard model run can
      // outlast it (a native call nothing interrupts), and a process ended meanwhile left no
      // shutdown checkpoint and a held lock (a deploy read as a crash).
      const guardsStopped = policies.close();
      await within(guardsStopped, deadline - Date.now() - AUDIT_CLOSE_MS);
      // The audit log writes its shutdown checkpoint and gives its lock back as it closes.
      await recording?.close();
      await within(guardsStopped, deadline - Date.now());
      await metricsListener?.close();
      review?.close();
    })();
    return stopping;
  };
  return { url, port, policies, devEngine, metricsUrl: metricsListener?.url, shutdown };
}

/** The start-up line on who may read GET /metrics. */
function metricsLine(config: GatewayConfig, keysEnabled: boolean, separateUrl: string | undefined): string {
  if (separateUrl) return `metrics: GET ${separateUrl}/metrics only${config.metrics.api_key ? ' (metrics key required)' : ' (open on loopback)'}`;
  if (config.metrics.api_key) return 'metrics: GET /metrics needs the metrics key (Authorization: Bearer <metrics.api_key>)';
  if (keysEnabled) return 'metrics: GET /metrics is closed (API keys are on): set metrics.api_key or SAFETY_METRICS_KEY for scrapers, or metrics.port for a loopback port';
  return 'metrics: GET /metrics is open (no API keys: loopback only)';
}

/** Engine URLs may carry credentials; logs get scheme, host and path only. */
function redactUrl(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
