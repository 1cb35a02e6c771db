import { sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonicalJson';
import { GENESIS } from './hashChain';
import type { SigningKey } from './signingKey';

/**
 * A signed checkpoint: a record of the chain itself (kind `checkpoint`) that signs the head it
 * follows, `covers` = the seq and hash of the record before it, with the operator's Ed25519 key.
 * The hash chain alone is unkeyed: whoever can write the files can rewrite every record and
 * recompute every hash. A rewrite before a checkpoint changes the hash it covers, and without the
 * private key no new signature can be made, so `audit verify --public-key` sees it.
 */
export interface CheckpointEntry {
  v: 1;
  kind: 'checkpoint';
  /** Why it was written: every N records, every T seconds, before a file rotation, at shutdown, at start over an unsigned tail. */
  reason: CheckpointReason;
  covers: { seq: number; hash: string };
  signed_at: string;
  key_id: string;
  algorithm: 'ed25519';
  /** The writer's schedule: a verifier flags a longer unsigned stretch at the end of the log. */
  every: { records: number; seconds: number };
  /** Base64 Ed25519 signature over the canonical JSON of every other member, with a domain tag. */
  signature: string;
}

export type CheckpointReason = 'records' | 'interval' | 'rotation' | 'shutdown' | 'start';

/** Keeps a checkpoint signature from being valid as anything else this key might sign. */
const DOMAIN = 'safety-gateway audit checkpoint v1';

export interface CheckpointSigner {
  key: SigningKey;
  everyRecords: number;
  everySeconds: number;
}

function message(entry: Omit<CheckpointEntry, 'signature'>): Buffer {
  return Buffer.from(canonicalJson({ ...entry, domain: DOMAIN }), 'utf8');
}

/** The checkpoint over the head `covers`, signed. */
export function signCheckpoint(signer: CheckpointSigner, covers: { seq: number; hash: string }, signedAt: string, reason: CheckpointReason): CheckpointEntry {
  const body: Omit<CheckpointEntry, 'signature'> = {
    v: 1,
    kind: 'checkpoint',
    reason,
    covers: { seq: covers.seq, hash: covers.hash },
    signed_at: signedAt,
    key_id: signer.key.keyId,
    algorithm: 'ed25519',
    every: { records: signer.everyRecords, seconds: signer.everySeconds },
  };
  return { ...body, signature: sign(null, message(body), signer.key.privateKey).toString('base64') };
}

export type CheckpointStatus = 'valid' | 'bad_signature' | 'unknown_key' | 'mismatch' | 'malformed';

export interface CheckpointCheck {
  status: CheckpointStatus;
  message: string;
}

/** Public keys a verifier trusts, by fingerprint. */
export type PublicKeys = ReadonlyMap<string, KeyObject>;

/**
 * Pure: does this checkpoint record hold? `previous` is the record before it as found in the file,
 * its hash recomputed from its content (not the hash it claims). Valid only when a trusted key
 * signed exactly that head.
 */
export function checkCheckpoint(record: Record<string, unknown>, previous: { seq: number; hash: string } | undefined, keys: PublicKeys): CheckpointCheck {
  const entry = asCheckpoint(record);
  if (!entry) return { status: 'malformed', message: 'a checkpoint record without the members a checkpoint needs (edited or corrupted)' };
  const key = keys.get(entry.key_id);
  if (!key) return { status: 'unknown_key', message: `signed by key ${entry.key_id}, which is not among the public keys given` };
  let ok = false;
  try {
    ok = verify(null, message(bodyOf(entry)), key, Buffer.from(entry.signature, 'base64'));
  } catch {
    ok = false;
  }
  if (!ok) return { status: 'bad_signature', message: `the signature does not match the checkpoint's content: it was altered or forged (the chain up to seq ${entry.covers.seq} was rewritten)` };
  // A new log's start checkpoint signs the empty chain: the first line, over seq 0 and GENESIS.
  const signsNewLog = previous === undefined && record.seq === 1 && entry.covers.seq === 0 && entry.covers.hash === GENESIS;
  if (!signsNewLog && (!previous || previous.seq !== entry.covers.seq || previous.hash !== entry.covers.hash)) {
    const found = previous ? `seq ${previous.seq} with hash ${previous.hash.slice(0, 12)}...` : 'no record';
    return { status: 'mismatch', message: `signs seq ${entry.covers.seq} with hash ${entry.covers.hash.slice(0, 12)}..., but the log holds ${found} before it: the records up to there were rewritten` };
  }
  return { status: 'valid', message: `signed by ${entry.key_id} over seq ${entry.covers.seq}` };
}

/** The signed members only: the chain's own (seq, ts, prev, hash) are added after signing. */
function bodyOf(entry: CheckpointEntry): Omit<CheckpointEntry, 'signature'> {
  const { v, kind, reason, covers, signed_at, key_id, algorithm, every } = entry;
  return { v, kind, reason, covers, signed_at, key_id, algorithm, every };
}

/** Pure: the record as a checkpoint when it has every member one needs. */
export function asCheckpoint(record: Record<string, unknown>): (CheckpointEntry & { seq?: number; ts?: string }) | undefined {
  const r = record as Partial<CheckpointEntry> & Record<string, unknown>;
  const covers = r.covers as { seq?: unknown; hash?: unknown } | undefined;
  const every = r.every as { records?: unknown; seconds?: unknown } | undefined;
  if (r.kind !== 'checkpoint' || typeof r.signature !== 'string' || typeof r.key_id !== 'string' || typeof r.signed_at !== 'string') return undefined;
  if (!covers || !Number.isSafeInteger(covers.seq) || typeof covers.hash !== 'string') return undefined;
  if (!every || typeof every.records !== 'number' || typeof every.seconds !== 'number') return undefined;
  return r as CheckpointEntry & { seq?: number; ts?: string };
}
