import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { generateSigningKeyPair } from '../audit/signingKey';
import type { CommandIo } from './commandIo';

const PRIVATE = 'audit-signing-key.pem';
const PUBLIC = 'audit-signing-key.pub.pem';

/** `safety-gateway audit keygen --out DIR`: a new Ed25519 key pair for signed checkpoints; never overwrites a key. */
export function runKeygen(args: string[], io: CommandIo): number {
  let out: string | undefined;
  try {
    ({ values: { out } } = parseArgs({ args, options: { out: { type: 'string' } }, strict: true }));
  } catch (err) {
    io.err(`safety-gateway audit keygen: ${(err as Error).message}\nusage: safety-gateway audit keygen --out DIR\n`);
    return 2;
  }
  if (!out) {
    io.err('safety-gateway audit keygen: --out DIR is required (where to write the key pair)\n');
    return 2;
  }
  const privateFile = path.join(out, PRIVATE);
  const publicFile = path.join(out, PUBLIC);
  for (const file of [privateFile, publicFile]) {
    if (existsSync(file)) {
      io.err(`safety-gateway audit keygen: ${file} exists; a key is never overwritten (checkpoints it signed would no longer verify with a new one)\n`);
      return 1;
    }
  }
  const pair = generateSigningKeyPair();
  try {
    mkdirSync(out, { recursive: true, mode: 0o700 });
    writeFileSync(privateFile, pair.privatePem, { mode: 0o600, flag: 'wx' });
    writeFileSync(publicFile, pair.publicPem, { mode: 0o644, flag: 'wx' });
  } catch (err) {
    io.err(`safety-gateway audit keygen: cannot write the key pair in ${out}: ${(err as NodeJS.ErrnoException).code ?? String(err)}\n`);
    return 1;
  }
  io.out(
    `key ${pair.keyId}\n` +
      `private key: ${privateFile} (mode 600): set audit.signing_key_file (or SAFETY_AUDIT_SIGNING_KEY_FILE) to it on the gateway only\n` +
      `public key:  ${publicFile}: give it to verifiers: safety-gateway audit verify --public-key ${publicFile}\n`,
  );
  return 0;
}
