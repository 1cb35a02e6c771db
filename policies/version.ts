import { createHash } from 'node:crypto';
import type { PolicyFile } from './schema';

/**
 * Version = content hash of the resolved policy (after `extends`, defaults and model paths), so
 * the same rules always carry the same version and a change in an inherited file changes the
 * version of every policy built on it. Test cases do not change what the gateway does, so they
 * are left out: adding a test never looks like a new policy in the audit log.
 */
export function policyVersion(policy: Omit<PolicyFile, 'extends' | 'policies'>): string {
  const { tests: _tests, ...enforced } = policy;
  return createHash('sha256').update(canonicalJson(enforced)).digest('hex').slice(0, 12);
}

/** JSON with sorted keys and no undefined members: equal data, equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}
