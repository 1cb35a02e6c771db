/**
 * Which special-token ids wrap each segment ([CLS] ... [SEP] for BERT/DeBERTa), read from
 * tokenizer.json's post-processor, the same place the Python tokenizer takes them from, so a
 * model with different ids or markers needs no code change.
 */

export interface SegmentFrame {
  /** Ids placed before the text of every segment (e.g. [CLS]). */
  prefix: number[];
  /** Ids placed after it (e.g. [SEP]). */
  suffix: number[];
  /** Id for padded positions. */
  padId: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Looks a special token's id up among tokenizer.json's added_tokens. */
export function addedTokenId(tokenizerJson: Json, content: string): number | undefined {
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  for (const t of added) {
    if (isObject(t) && t.content === content && typeof t.id === 'number') return t.id;
  }
  return undefined;
}

/** The content strings of every added token marked special (e.g. [CLS], [SEP], [PAD], [MASK]). */
export function specialTokenContents(tokenizerJson: Json): string[] {
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  return added.filter((t): t is Json => isObject(t) && t.special === true && typeof t.content === 'string').map((t) => t.content as string);
}

function tokenName(config: Json, key: string): string | undefined {
  const v = config[key];
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content; // AddedToken-shaped entries
  return undefined;
}

function frameFromProcessor(processor: unknown): { prefix: number[]; suffix: number[] } | undefined {
  if (!isObject(processor)) return undefined;
  switch (processor.type) {
    case 'TemplateProcessing': {
      const single = Array.isArray(processor.single) ? processor.single : [];
      const specials = isObject(processor.special_tokens) ? processor.special_tokens : {};
      const prefix: number[] = [];
      const suffix: number[] = [];
      let seenSequence = false;
      for (const item of single) {
        if (!isObject(item)) continue;
        if (isObject(item.Sequence)) {
          seenSequence = true;
          continue;
        }
        if (isObject(item.SpecialToken) && typeof item.SpecialToken.id === 'string') {
          const entry = specials[item.SpecialToken.id];
          const ids = isObject(entry) && Array.isArray(entry.ids) ? entry.ids.filter((x): x is number => typeof x === 'number') : [];
          if (ids.length === 0) throw new Error(`tokenizer.json post_processor names special token ${item.SpecialToken.id} but gives it no ids.`);
          (seenSequence ? suffix : prefix).push(...ids);
        }
      }
      return { prefix, suffix };
    }
    case 'BertProcessing':
    case 'RobertaProcessing': {
      const cls = processor.cls;
      const sep = processor.sep;
      if (Array.isArray(cls) && Array.isArray(sep) && typeof cls[1] === 'number' && typeof sep[1] === 'number') {
        return { prefix: [cls[1]], suffix: [sep[1]] };
      }
      return undefined;
    }
    case 'Sequence': {
      const list = Array.isArray(processor.processors) ? processor.processors : [];
      for (const p of list) {
        const frame = frameFromProcessor(p);
        if (frame) return frame;
      }
      return undefined;
    }
    default:
      return undefined;
  }
}

/**
 * The segment frame: the post-processor's single-sequence template when there is one, else
 * tokenizer_config's cls_token / sep_token; the pad id from tokenizer.json's padding section,
 * else tokenizer_config's pad_token, else 0.
 */
export function resolveSegmentFrame(tokenizerJson: Json, tokenizerConfig: Json): SegmentFrame {
  let frame = frameFromProcessor(tokenizerJson.post_processor);
  if (!frame) {
    const cls = tokenName(tokenizerConfig, 'cls_token') ?? tokenName(tokenizerConfig, 'bos_token');
    const sep = tokenName(tokenizerConfig, 'sep_token') ?? tokenName(tokenizerConfig, 'eos_token');
    const clsId = cls === undefined ? undefined : addedTokenId(tokenizerJson, cls);
    const sepId = sep === undefined ? undefined : addedTokenId(tokenizerJson, sep);
    frame = { prefix: clsId === undefined ? [] : [clsId], suffix: sepId === undefined ? [] : [sepId] };
  }
  let padId: number | undefined;
  if (isObject(tokenizerJson.padding) && typeof tokenizerJson.padding.pad_id === 'number') padId = tokenizerJson.padding.pad_id;
  const padName = tokenName(tokenizerConfig, 'pad_token');
  if (padId === undefined && padName !== undefined) padId = addedTokenId(tokenizerJson, padName);
  return { ...frame, padId: padId ?? 0 };
}
