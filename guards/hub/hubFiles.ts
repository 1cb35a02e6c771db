/**
 * Pure parts of fetching an ONNX export from the Hugging Face hub: which URLs, which files.
 * Kept apart from the download I/O so they are tested directly.
 */
export const DEFAULT_HUB = 'https://huggingface.co';

export interface HubRef {
  repoId: string;
  revision: string;
}

const REPO_ID = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function parseRepoId(input: string): HubRef {
  const [repoId, revision = 'main'] = input.split('@');
  if (!REPO_ID.test(repoId) || repoId.includes('..')) {
    throw new Error(`"${input}" is not a hub repository id: use owner/name, optionally @revision (e.g. meta-llama/Prompt-Guard-86M)`);
  }
  if (!/^[A-Za-z0-9._/-]+$/.test(revision) || revision.includes('..')) throw new Error(`"${revision}" is not a valid revision`);
  return { repoId, revision };
}

/** The listing of a repository's files at a revision (the hub's model API). */
export function treeUrl(ref: HubRef, hub = DEFAULT_HUB): string {
  return `${hub}/api/models/${ref.repoId}/tree/${encodeURIComponent(ref.revision)}?recursive=true`;
}

/** The download URL of one file (the hub's resolve endpoint; it redirects to a CDN). */
export function fileUrl(ref: HubRef, file: string, hub = DEFAULT_HUB): string {
  const encoded = file.split('/').map(encodeURIComponent).join('/');
  return `${hub}/${ref.repoId}/resolve/${encodeURIComponent(ref.revision)}/${encoded}`;
}

const METADATA = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'generation_config.json'];

/**
 * Chooses what to download from a repository listing: the metadata files and exactly one ONNX
 * model (the requested variant, e.g. `quantized` -> onnx/model_quantized.onnx), with its external
 * data file(s) if the export has them. Throws, naming what exists, when the variant is absent.
 */
export function selectFiles(listing: string[], variant?: string): string[] {
  const files = new Set(listing);
  const missing = ['config.json', 'tokenizer.json'].filter((f) => !files.has(f));
  if (missing.length) throw new Error(`the repository lacks ${missing.join(' and ')}: it is not a model directory in Hugging Face layout`);
  const wanted = variant ? [`onnx/model_${variant}.onnx`, `model_${variant}.onnx`] : ['onnx/model.onnx', 'model.onnx'];
  const onnx = wanted.find((f) => files.has(f));
  if (!onnx) {
    const available = listing.filter((f) => f.endsWith('.onnx'));
    throw new Error(
      available.length
        ? `no ${wanted.join(' or ')} in the repository; ONNX files there: ${available.join(', ')} (choose one with --variant)`
        : 'the repository has no ONNX export: export one with Optimum (optimum-cli export onnx) or pick an *_onnx repository',
    );
  }
  const data = listing.filter((f) => f === `${onnx}_data` || f.startsWith(`${onnx}_data_`) || f === `${onnx}.data`);
  return [...METADATA.filter((f) => files.has(f)), onnx, ...data];
}
