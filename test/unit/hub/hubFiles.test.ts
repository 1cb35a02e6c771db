import { fetchModel } from '../../../guards/hub/hubFetch';
import { fileUrl, parseRepoId, selectFiles, treeUrl } from '../../../guards/hub/hubFiles';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

describe('hub URL building', () => {
  test('repository ids, revisions and URLs', () => {
    expect(parseRepoId('meta-llama/Prompt-Guard-86M')).toEqual({ repoId: 'meta-llama/Prompt-Guard-86M', revision: 'main' });
    expect(parseRepoId('a/b@v1.0')).toEqual({ repoId: 'a/b', revision: 'v1.0' });
    expect(() => parseRepoId('not-a-repo')).toThrow(/owner\/name/);
    expect(() => parseRepoId('../etc/passwd')).toThrow();
    const ref = parseRepoId('prompt-security/Prompt-Guard-86M_onnx');
    expect(treeUrl(ref)).toBe('https://huggingface.co/api/models/prompt-security/Prompt-Guard-86M_onnx/tree/main?recursive=true');
    expect(fileUrl(ref, 'onnx/model quantized.onnx')).toBe('https://huggingface.co/prompt-security/Prompt-Guard-86M_onnx/resolve/main/onnx/model%20quantized.onnx');
  });
});

describe('file selection', () => {
  const listing = ['README.md', 'config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model_quantized.onnx', 'onnx/model_fp16.onnx', 'pytorch_model.bin'];

  test('metadata plus exactly one ONNX file and its external data', () => {
    expect(selectFiles(listing)).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model.onnx', 'onnx/model.onnx_data']);
    expect(selectFiles(listing, 'quantized')).toEqual(['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json', 'onnx/model_quantized.onnx']);
    expect(selectFiles(['config.json', 'tokenizer.json', 'model.onnx'])).toEqual(['config.json', 'tokenizer.json', 'model.onnx']);
  });

  test('a missing variant names what exists; no ONNX at all says how to get one', () => {
    expect(() => selectFiles(listing, 'q4')).toThrow(/ONNX files there: onnx\/model.onnx, onnx\/model_quantized.onnx, onnx\/model_fp16.onnx/);
    expect(() => selectFiles(['config.json', 'tokenizer.json', 'pytorch_model.bin'])).toThrow(/no ONNX export/);
    expect(() => selectFiles(['model.onnx'])).toThrow(/lacks config.json and tokenizer.json/);
  });
});

describe('fetchModel', () => {
  test('without network it fails with a clear message', async () => {
    const failing: typeof fetch = async () => {
      throw Object.assign(new TypeError('fetch failed'), { cause: { code: 'ENOTFOUND' } });
    };
    await expect(fetchModel({ ref: parseRepoId('a/b'), to: mkdtempSync(path.join(tmpdir(), 'hub-')), fetchImpl: failing })).rejects.toThrow(/cannot reach the Hugging Face hub \(ENOTFOUND\).*models verify/);
  });

  test('downloads the selected files with the token, reporting progress', async () => {
    const seen: { url: string; auth?: string }[] = [];
    const fake: typeof fetch = async (input, init) => {
      const url = String(input);
      seen.push({ url, auth: (init?.headers as Record<string, string>)?.authorization });
      if (url.includes('/api/models/')) return new Response(JSON.stringify(['config.json', 'tokenizer.json', 'onnx/model.onnx'].map((p) => ({ type: 'file', path: p }))));
      return new Response(`content of ${url.split('/').pop()}`, { headers: { 'content-length': String(`content of ${url.split('/').pop()}`.length) } });
    };
    const to = mkdtempSync(path.join(tmpdir(), 'hub-'));
    const progress: string[] = [];
    const files = await fetchModel({ ref: parseRepoId('o/m'), to, token: 'hf_x', fetchImpl: fake, onProgress: (f, r, t) => progress.push(`${f}:${r}/${t}`) });
    expect(files).toEqual(['config.json', 'tokenizer.json', 'onnx/model.onnx']);
    expect(readFileSync(path.join(to, 'onnx', 'model.onnx'), 'utf8')).toBe('content of model.onnx');
    expect(seen.every((s) => s.auth === 'Bearer hf_x')).toBe(true);
    expect(progress).toContain('onnx/model.onnx:21/21');
  });

  test('gated models without a token say what to do', async () => {
    const denied: typeof fetch = async () => new Response('{}', { status: 401 });
    await expect(fetchModel({ ref: parseRepoId('meta-llama/x'), to: mkdtempSync(path.join(tmpdir(), 'hub-')), fetchImpl: denied })).rejects.toThrow(/HF_TOKEN/);
  });
});
