import { createHash } from 'node:crypto';
import { hasLocalModel, modelFingerprint } from './modelFingerprint';
import type { GuardSpec, PolicyFile } from './schema';

/**
 * Version = content hash of the resolved policy (after `extends` and defaults; a local model by
 * its files' fingerprint, not its path), so the same rules on the same models always carry the
 * same version, a change in an inherited file changes the version of every policy built on it,
 * and a model replaced on disk is a new version. Test cases do not change what the gateway does, so they
 * are left out: adding a test never looks like a new policy in the audit log.
 */
export function policyVersion(policy: Omit<PolicyFile, 'extends' | 'policies'>, modelOf: (spec: GuardSpec) => string | undefined = localModelIdentity): string {
  const { tests: _tests, ...enforced } = policy;
  // A local model counts by what is in its directory, not by where it is (modelFingerprint.ts).
  const guards = Object.fromEntries(Object.entries(enforced.guards).map(([name, spec]) => [name, { ...spec, model: modelOf(spec) ?? spec.model, ...tokenizerIdentity(spec) }]));
  return createHash('sha256').update(canonicalJson({ ...enforced, guards })).digest('hex').slice(0, 12);
}

/** A local model's fingerprint (`files:<hash>`), or undefined for a served model or an unreadable directory. */
export function localModelIdentity(spec: GuardSpec): string | undefined {
  if (!hasLocalModel(spec)) return undefined;
  const fingerprint = modelFingerprint(spec.model);
  return fingerprint === undefined ? undefined : `files:${fingerprint}`;
}

/** A remote Prompt Guard's local tokenizer folder counts by its files too (`{ tokenizer: 'files:<hash>' }`), or nothing. */
export function tokenizerIdentity(spec: GuardSpec): { tokenizer?: string } {
  if (spec.type !== 'prompt_guard' || !spec.tokenizer) return {};
  const fingerprint = modelFingerprint(spec.tokenizer);
  return fingerprint === undefined ? {} : { tokenizer: `files:${fingerprint}` };
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
