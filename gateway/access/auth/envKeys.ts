import { hashApiKey } from './apiKey';
import { APP_ID, KEY_HASH, type InlineKey } from './keysConfig';

/**
 * SAFETY_API_KEYS: `app=key[,app=key...]` for deployments whose platform injects secrets as
 * environment variables. Each key is hashed here, at load, and only the hash is kept; a value may
 * also be a hash already (`app=sha256:<hex>`). Errors never echo a key.
 */
export function parseEnvKeys(value: string): InlineKey[] {
  const keys: InlineKey[] = [];
  value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .forEach((pair, i) => {
      const eq = pair.indexOf('=');
      const app = eq > 0 ? pair.slice(0, eq).trim() : '';
      const key = eq > 0 ? pair.slice(eq + 1).trim() : '';
      if (!APP_ID.test(app) || key.length === 0) throw new Error(`SAFETY_API_KEYS entry ${i + 1} is not app=key (app ids are letters, digits, . _ -)`);
      if (key.length < 16 && !KEY_HASH.test(key)) throw new Error(`SAFETY_API_KEYS entry ${i + 1} (app ${app}): the key is too short; use at least 16 random characters (safety-gateway keys add makes good ones)`);
      keys.push({ app, hash: KEY_HASH.test(key) ? key : hashApiKey(key) });
    });
  return keys;
}
