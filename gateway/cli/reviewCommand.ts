import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SigningKeyError } from '../audit/signingKey';
import { ConfigError, loadConfig } from '../config';
import { ChainAnchorText } from '../review/reviewConfig';
import { startReviewServer, type RunningReview } from '../review/reviewServer';

const USAGE = `usage: safety-gateway review --audit-dir DIR [--port N] [--host H] [--public-key FILE]... [--index FILE] [--rebuild] [--after SEQ:HASH] [--config FILE]

Serves a read-only web page over the audit log at http://HOST:PORT/review/ (default 127.0.0.1:8090).
The admin key comes from SAFETY_REVIEW_ADMIN_KEY or review.admin_key of --config; without one the
page listens on loopback only. --public-key checks the signed checkpoints (repeat for several keys).
The index is kept in DIR/.review-index.sqlite unless --index says where.
--after SEQ:HASH (or review.after): older files were archived and removed, so the log must continue
from their last record, as \`audit verify --after\` takes it; without it such a log shows as truncated.
`;

export interface ReviewIo {
  err: (text: string) => void;
  env: NodeJS.ProcessEnv;
  /** Resolves when the server should stop (a signal, in the real command). */
  until: (running: RunningReview) => Promise<void>;
}

/** `safety-gateway review`: the review page on its own port, until SIGINT or SIGTERM. */
export function reviewCommand(args: string[]): Promise<number> {
  return runReview(args, {
    err: (t) => process.stderr.write(t),
    env: process.env,
    until: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
  });
}

export async function runReview(args: string[], io: ReviewIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        'audit-dir': { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        'public-key': { type: 'string', multiple: true },
        index: { type: 'string' },
        rebuild: { type: 'boolean' },
        after: { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (err) {
    io.err(`safety-gateway review: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.err(USAGE);
    return 0;
  }
  let config;
  try {
    config = loadConfig({ flags: { config: values.config }, env: io.env });
  } catch (err) {
    io.err(`safety-gateway review: ${err instanceof ConfigError ? err.message : String(err)}\n`);
    return 2;
  }
  if (values.host !== undefined && values.host.trim() === '') {
    // Node reads an empty host as every interface.
    io.err('safety-gateway review: --host needs an interface address, e.g. 127.0.0.1\n');
    return 2;
  }
  const auditDir = values['audit-dir'] ?? config.audit.dir;
  if (!existsSync(auditDir)) {
    io.err(`safety-gateway review: no audit directory at ${auditDir} (give --audit-dir DIR)\n`);
    return 2;
  }
  const port = values.port === undefined ? 8090 : Number(values.port);
  if (!/^\d+$/.test(values.port ?? '8090') || port > 65535) {
    io.err(`safety-gateway review: --port must be a port number 0-65535 (got "${values.port}")\n`);
    return 2;
  }
  let after = config.review.after;
  if (values.after !== undefined) {
    // Read by the config's own schema: one syntax and one message for the flag and review.after.
    const parsed = ChainAnchorText.safeParse(values.after);
    if (!parsed.success) {
      io.err(`safety-gateway review: --after ${parsed.error.issues[0]?.message ?? 'must be SEQ:HASH'}\n`);
      return 2;
    }
    after = parsed.data;
  }
  const log = (line: string) => io.err(`${line}\n`);
  let running: RunningReview;
  try {
    running = await startReviewServer({
      auditDir,
      host: values.host ?? '127.0.0.1',
      port,
      adminKey: config.review.admin_key,
      publicKeyFiles: values['public-key'] ?? config.review.public_key_files,
      // As /review on the gateway: without a public key, the public half of the gateway's own signing key.
      signingKeyFile: config.audit.signing_key_file,
      indexFile: values.index ?? config.review.index_file,
      rebuild: values.rebuild ?? false,
      after,
      log,
    });
  } catch (err) {
    io.err(`safety-gateway review: ${err instanceof SigningKeyError ? err.message : (err as Error).message}\n`);
    return 1;
  }
  await io.until(running);
  await running.close();
  return 0;
}
