import { parseEnvKeys } from './auth/envKeys';

/**
 * Environment variables for keys and rate limits, merged into the raw config before validation:
 * SAFETY_KEYS_FILE, SAFETY_API_KEYS (hashed on the spot), REDIS_URL (switches the store to Redis).
 * Returns problems to report; never a secret in them.
 */
export function applyAccessEnv(merged: Record<string, unknown>, env: NodeJS.ProcessEnv): string[] {
  const problems: string[] = [];
  const section = (name: string) => {
    const value = merged[name];
    const obj = value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
    merged[name] = obj;
    return obj;
  };
  if (env.SAFETY_KEYS_FILE) section('keys').file = env.SAFETY_KEYS_FILE;
  if (env.SAFETY_API_KEYS) {
    try {
      const keys = section('keys');
      keys.inline = [...(Array.isArray(keys.inline) ? keys.inline : []), ...parseEnvKeys(env.SAFETY_API_KEYS)];
    } catch (err) {
      problems.push((err as Error).message);
    }
  }
  if (env.REDIS_URL) {
    const limits = section('rate_limits');
    limits.store = 'redis';
    limits.redis_url = env.REDIS_URL;
  }
  return problems;
}
