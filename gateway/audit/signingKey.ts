import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * The operator's Ed25519 key for signed checkpoints: the private key (PKCS#8 PEM) stays with the
 * gateway (`audit.signing_key_file`), the public key (SPKI PEM) goes to whoever verifies the log.
 * A key is named by its fingerprint, so a checkpoint says which key signed it.
 */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/** `ed25519:` and the first 16 hex digits of SHA-256 over the public key's DER (SPKI) bytes. */
export function keyFingerprint(publicKey: KeyObject): string {
  return `ed25519:${createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16)}`;
}

export function loadSigningKey(file: string): SigningKey {
  const privateKey = parseKey(file, (pem) => createPrivateKey(pem), 'private');
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${file} holds a ${privateKey.asymmetricKeyType} key; audit checkpoints need an Ed25519 key (safety-gateway audit keygen makes one)`);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyFingerprint(publicKey) };
}

/** A public key file (SPKI PEM); a private key file is accepted too (its public half is used). */
export function loadPublicKey(file: string): { publicKey: KeyObject; keyId: string } {
  const publicKey = parseKey(file, (pem) => createPublicKey(pem), 'public');
  if (publicKey.asymmetricKeyType !== 'ed25519') throw new SigningKeyError(`${file} holds a ${publicKey.asymmetricKeyType} key, not Ed25519`);
  return { publicKey, keyId: keyFingerprint(publicKey) };
}

/** A new key pair as PEM texts. */
export function generateSigningKeyPair(): { privatePem: string; publicPem: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: keyFingerprint(publicKey),
  };
}

function parseKey(file: string, parse: (pem: string) => KeyObject, what: string): KeyObject {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SigningKeyError(`cannot read the ${what} key file ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  try {
    return parse(pem);
  } catch {
    // The key's text never goes into a message.
    throw new SigningKeyError(`${file} is not a PEM ${what} key (safety-gateway audit keygen writes one)`);
  }
}
