import { createWriteStream, mkdirSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DEFAULT_HUB, fileUrl, selectFiles, treeUrl, type HubRef } from './hubFiles';

export interface FetchOptions {
  ref: HubRef;
  to: string;
  variant?: string;
  token?: string;
  hub?: string;
  /** Called as bytes arrive: file, bytes so far, total bytes (if known). */
  onProgress?: (file: string, received: number, total: number | undefined) => void;
  fetchImpl?: typeof fetch;
}

/** Downloads an ONNX export into `to` (Hugging Face layout). Each file lands atomically (.part then rename). */
export async function fetchModel(options: FetchOptions): Promise<string[]> {
  const hub = options.hub ?? DEFAULT_HUB;
  const doFetch = options.fetchImpl ?? fetch;
  const headers: Record<string, string> = options.token ? { authorization: `Bearer ${options.token}` } : {};
  const listing = await hubRequest(doFetch, treeUrl(options.ref, hub), headers, options.ref);
  const entries = (await listing.json()) as { type?: string; path?: string }[];
  const files = selectFiles(entries.filter((e) => e.type === 'file' && typeof e.path === 'string').map((e) => e.path as string), options.variant);
  mkdirSync(options.to, { recursive: true });
  for (const file of files) {
    const target = path.join(options.to, file);
    mkdirSync(path.dirname(target), { recursive: true });
    const res = await hubRequest(doFetch, fileUrl(options.ref, file, hub), headers, options.ref);
    const total = Number(res.headers.get('content-length')) || undefined;
    let received = 0;
    const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>);
    body.on('data', (chunk: Buffer) => {
      received += chunk.length;
      options.onProgress?.(file, received, total);
    });
    const part = `${target}.part`;
    try {
      await pipeline(body, createWriteStream(part));
      renameSync(part, target);
    } catch (err) {
      rmSync(part, { force: true });
      throw new Error(`download of ${file} failed: ${(err as Error).message}`);
    }
  }
  return files;
}

async function hubRequest(doFetch: typeof fetch, url: string, headers: Record<string, string>, ref: HubRef): Promise<Response> {
  let res: Response;
  try {
    res = await doFetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code;
    throw new Error(`cannot reach the Hugging Face hub (${cause ?? (err as Error).message}). This machine may have no internet access: download the model elsewhere and copy the directory, then run \`safety-gateway models verify DIR\`.`);
  }
  if (res.status === 401 || res.status === 403) throw new Error(`the hub refused access to ${ref.repoId} (HTTP ${res.status}): gated models need HF_TOKEN set to a token whose account accepted the model's license`);
  if (res.status === 404) throw new Error(`${ref.repoId}@${ref.revision} not found on the hub (HTTP 404): check the repository id and revision`);
  if (!res.ok || !res.body) throw new Error(`the hub answered HTTP ${res.status} for ${url}`);
  return res;
}
