import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEPLOY, finalStage, parseDockerfile, ROOT } from './deployFiles';

/**
 * Where each file the image copies from the repository lands: the final stage's `COPY src dest`
 * (not those `--from` another stage), dest resolved against its WORKDIR. Read from the Dockerfile,
 * so a test that maps an image path back to the repository follows the Dockerfile as it is.
 */
export function imageCopies(): { image: string; repo: string }[] {
  const stage = finalStage(parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8')));
  let workdir = '/';
  const copies: { image: string; repo: string }[] = [];
  for (const i of stage) {
    if (i.keyword === 'WORKDIR') workdir = path.posix.resolve(workdir, i.args);
    if (i.keyword !== 'COPY' || i.flags.from) continue;
    const parts = i.args.split(/\s+/);
    const dest = path.posix.resolve(workdir, parts[parts.length - 1]);
    const sources = parts.slice(0, -1);
    for (const source of sources) {
      // `COPY a b ./dir/` puts each source inside dir; `COPY dir ./dir` copies dir's contents there.
      const image = sources.length > 1 || dest.endsWith('/') || parts[parts.length - 1].endsWith('/') ? path.posix.join(dest, path.posix.basename(source)) : dest;
      copies.push({ image, repo: path.join(ROOT, source) });
    }
  }
  return copies;
}

/** The repository path of an image path, or undefined when the image holds no copy of it. */
export function repoPathOf(imagePath: string, copies = imageCopies()): string | undefined {
  const hit = copies
    .filter((c) => imagePath === c.image || imagePath.startsWith(`${c.image}/`))
    .sort((a, b) => b.image.length - a.image.length)[0];
  return hit && path.join(hit.repo, path.posix.relative(hit.image, imagePath));
}

export const DEPLOY_POLICY = path.join(DEPLOY, 'policies', 'policy.yaml');

/** Where the kit's guard servers are for a run on this machine (loopback fakes, or test hostnames). */
export interface LocalGuardUrls {
  /** Replaces the Llama Guard server's `base_url` (OpenAI-compatible, `/v1` included). */
  llamaGuard: string;
  /** Replaces the remote Prompt Guard server's `url` (text-embeddings-inference root URL). */
  promptGuard: string;
}

/**
 * The deployment kit's policy made runnable on this machine: each absolute image path it names
 * (bundled models under /app) becomes the repository path the image copied it from, the Llama
 * Guard server's `base_url` becomes `urls.llamaGuard` and the Prompt Guard server's `url` becomes
 * `urls.promptGuard`. Everything else is the file as shipped. Throws when the file has no such
 * URL to replace, so a test never runs a policy that still points at the compose hostnames.
 */
export function localDeployPolicy(urls: LocalGuardUrls): string {
  let baseUrls = 0;
  let serverUrls = 0;
  const text = readFileSync(DEPLOY_POLICY, 'utf8')
    .replace(/^(\s*model:\s*)(\/\S+)$/gm, (_m, key: string, imagePath: string) => {
      const repo = repoPathOf(imagePath);
      if (!repo) throw new Error(`the image has no ${imagePath} (policy ${DEPLOY_POLICY})`);
      return `${key}${repo}`;
    })
    .replace(/^(\s*base_url:\s*)(\S+)$/gm, (_m, key: string) => {
      baseUrls++;
      return `${key}${urls.llamaGuard}`;
    })
    .replace(/^(\s*url:\s*)(\S+)$/gm, (_m, key: string) => {
      serverUrls++;
      return `${key}${urls.promptGuard}`;
    });
  if (baseUrls !== 1 || serverUrls !== 1) throw new Error(`expected one Llama Guard base_url and one Prompt Guard url in ${DEPLOY_POLICY}, found ${baseUrls} and ${serverUrls}`);
  const dir = mkdtempSync(path.join(tmpdir(), 'sg-deploy-policy-'));
  const file = path.join(dir, 'policy.yaml');
  writeFileSync(file, text);
  return file;
}
