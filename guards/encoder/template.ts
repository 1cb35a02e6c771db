/**
 * config.json `text_template` ({"user": "User: {text}"}) wraps the classified text. Segments
 * of a long text each get the whole template, so every segment reads like what the model was
 * trained on: the prefix and suffix are tokenized once, on their own, and placed inside the
 * [CLS] ... [SEP] frame around each chunk. Whitespace next to {text} is dropped because the
 * Metaspace tokenizer already starts the text's first word with a word marker.
 */

export interface TemplateParts {
  prefix: string;
  suffix: string;
}

export function splitTemplate(template: string | undefined): TemplateParts {
  if (!template) return { prefix: '', suffix: '' };
  const at = template.indexOf('{text}');
  if (at < 0) throw new Error(`text_template "${template}" has no {text} placeholder`);
  return { prefix: template.slice(0, at).trimEnd(), suffix: template.slice(at + '{text}'.length).trim() };
}
