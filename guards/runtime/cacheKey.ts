/** Cache keys name the model, how the text is scored, and a hash of the text (never the text itself). */
import { createHash } from 'node:crypto';

export function textCacheKey(model: string, kind: string, normalizedText: string): string {
  const digest = createHash('sha256').update(normalizedText, 'utf8').digest('hex');
  return `${model}\u0000${kind}\u0000${digest}`;
}
