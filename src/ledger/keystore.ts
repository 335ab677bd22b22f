// Terminal identity: the Ed25519 key pair (created once, at provisioning) and the data key that seals
// templates, both sealed by a KeyProtector in one 0600 key file. Opening hands out a Signer and a Sealer,
// never the key bytes.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, statSync, writeSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import nacl from 'tweetnacl';
import { z } from 'zod';
import { PalmPayError } from '../util/errors.ts';
import { Id } from '../protocol/record.ts';
import { signerFromSecretKey, type Signer } from '../protocol/sign.ts';
import { secretboxSealer, type Sealer, type SealFormat } from './sealer.ts';
import { KeyUnsealError, type KeyProtector, type ProtectorKind } from './keyprotect.ts';

export const KEY_FILE_NAME = 'terminal-key.json';

export class KeyStoreError extends PalmPayError {}

const KeyFile = z.strictObject({
  v: z.literal(1),
  terminalId: Id,
  publicKeyHex: z.string().regex(/^[0-9a-f]{64}$/),
  protector: z.enum(['electron-safestorage', 'os-keyring', 'passphrase', 'file-permissions']),
  sealedSecretKey: z.string().min(1),
  sealedDataKey: z.string().min(1),
  createdAtMs: z.number().int(),
});
type KeyFile = z.infer<typeof KeyFile>;

/** What anyone may know about the terminal (no unsealing needed). */
export interface PublicIdentity {
  terminalId: string;
  publicKey: Uint8Array;
  protector: ProtectorKind;
}

export interface KeyStore extends PublicIdentity {
  /** what protects the key, one honest line */
  protection: string;
  signer: Signer;
  sealer: Sealer;
}

export function keyFilePath(dataDir: string): string {
  return join(dataDir, KEY_FILE_NAME);
}

/** Creates the terminal's key pair and data key. Refuses to overwrite an existing identity. */
export function provisionIdentity(dataDir: string, terminalId: string, protector: KeyProtector, nowMs = Date.now()): PublicIdentity {
  const file = keyFilePath(dataDir);
  if (existsSync(file)) throw new KeyStoreError('ALREADY_PROVISIONED', `this terminal already has an identity (${file}); refusing to replace its key`);
  if (!Id.safeParse(terminalId).success) throw new KeyStoreError('BAD_TERMINAL_ID', `terminal id ${JSON.stringify(terminalId)} is not 1-64 chars of [A-Za-z0-9._:-]`);
  const kp = nacl.sign.keyPair();
  const dataKey = nacl.randomBytes(32);
  const content: KeyFile = {
    v: 1,
    terminalId,
    publicKeyHex: Buffer.from(kp.publicKey).toString('hex'),
    protector: protector.kind,
    sealedSecretKey: Buffer.from(protector.seal(kp.secretKey)).toString('base64'),
    sealedDataKey: Buffer.from(protector.seal(dataKey)).toString('base64'),
    createdAtMs: nowMs,
  };
  kp.secretKey.fill(0);
  dataKey.fill(0);
  writeFileDurably(file, `${JSON.stringify(content, null, 2)}\n`, 0o600);
  return { terminalId, publicKey: kp.publicKey, protector: protector.kind };
}

/** Reads the public part of the identity without unsealing anything. */
export function readPublicIdentity(dataDir: string): PublicIdentity {
  const k = readKeyFile(dataDir);
  return { terminalId: k.terminalId, publicKey: Buffer.from(k.publicKeyHex, 'hex'), protector: k.protector };
}

/**
 * Unseals the identity. A wrong protector or key gives a typed error, and no signer: the terminal cannot pay.
 * `sealFormat` picks how NEW templates are sealed (opening reads every format); default secretbox.
 */
export function openKeyStore(dataDir: string, protector: KeyProtector, sealFormat: SealFormat = 'secretbox'): KeyStore {
  const k = readKeyFile(dataDir);
  if (k.protector !== protector.kind) {
    throw new KeyStoreError('KEY_PROTECTOR_MISMATCH', `the terminal key was sealed with ${k.protector}, not ${protector.kind}`);
  }
  const secretKey = protector.unseal(Buffer.from(k.sealedSecretKey, 'base64'));
  const dataKey = protector.unseal(Buffer.from(k.sealedDataKey, 'base64'));
  try {
    if (secretKey.length !== 64 || dataKey.length !== 32) throw new KeyUnsealError(protector.kind, 'unsealed keys have the wrong length');
    const publicKey = Buffer.from(k.publicKeyHex, 'hex');
    const signer = signerFromSecretKey(secretKey);
    if (!Buffer.from(signer.publicKey).equals(publicKey)) throw new KeyStoreError('KEY_MISMATCH', 'the sealed private key does not match the recorded public key');
    return { terminalId: k.terminalId, publicKey, protector: k.protector, protection: protector.description, signer, sealer: secretboxSealer(dataKey, sealFormat) };
  } finally {
    secretKey.fill(0);
    dataKey.fill(0);
  }
}

function readKeyFile(dataDir: string): KeyFile {
  const file = keyFilePath(dataDir);
  if (!existsSync(file)) throw new KeyStoreError('NOT_PROVISIONED', `this terminal has no identity yet (${file} is missing): provision it first`);
  const mode = statSync(file).mode & 0o777;
  if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
    throw new KeyStoreError('KEY_FILE_PERMISSIONS', `${file} is readable by others (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new KeyStoreError('KEY_FILE_DAMAGED', `${file} is not valid JSON: ${(err as Error).message}`);
  }
  const r = KeyFile.safeParse(parsed);
  if (!r.success) throw new KeyStoreError('KEY_FILE_DAMAGED', `${file} is damaged: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

/** Write to a temp file, fsync, rename over, fsync the folder: after a power cut the file is old or new, never half. */
function writeFileDurably(file: string, text: string, mode: number): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'wx', mode);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, mode);
  renameSync(tmp, file);
  if (process.platform !== 'win32') {
    const dfd = openSync(dirname(file), 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  }
}
