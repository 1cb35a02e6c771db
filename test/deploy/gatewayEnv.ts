import { loadConfig, type GatewayConfig } from '../../gateway/config';
import { contentSalt } from '../../gateway/telemetry/contentCapture';

/**
 * The environment variable names the gateway reads, found by running its own code on an
 * environment that records every name asked for (no list kept by hand to drift): the config
 * loader (gateway/config.ts and the access variables it applies) and the audit's content salt.
 * OpenTelemetry's SDK reads the standard OTEL_* names itself.
 */
export function namesTheGatewayReads(): Set<string> {
  const asked = new Set<string>();
  const env = new Proxy({} as NodeJS.ProcessEnv, {
    get(_target, name) {
      if (typeof name === 'string') asked.add(name);
      return undefined;
    },
  });
  loadConfig({ flags: {}, env });
  contentSalt(env);
  return asked;
}

/** Whether a deployment may set `name` for the gateway: a name it reads, or a standard OTEL_* one. */
export function gatewayReads(name: string, read: ReadonlySet<string>, policyKeyEnvs: readonly string[] = []): boolean {
  return read.has(name) || name.startsWith('OTEL_') || policyKeyEnvs.includes(name);
}

/** The config the gateway builds from a deployment's environment (and the config file it names). */
export function configFrom(env: Record<string, string>): GatewayConfig {
  return loadConfig({ flags: {}, env: { ...env } });
}
