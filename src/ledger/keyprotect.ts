// Key protectors: what wraps the terminal's private key and data key at rest. The Electron shell passes its
// `safeStorage` in (src never imports electron); elsewhere the OS keyring (libsecret's `secret-tool`) when present,
// a passphrase when one is configured, else only the key file's 0600 permissions. README.md says what each protects.
import { spawnSync } from 'node:child_process';
import { scryptSync } from 'node:crypto';
import nacl from 'tweetnacl';
import { PalmPayError } from '../util/errors.ts';

export type ProtectorKind = 'electron-safestorage' | 'os-keyring' | 'passphrase' | 'file-permissions';

export interface KeyProtector {
  readonly kind: ProtectorKind;
  /** One honest line: what an attacker needs to read the key. */
  readonly description: string;
  seal(plain: Uint8Array): Uint8Array;
  /** Throws KeyUnsealError when the bytes do not open with this protector's key. */
  unseal(sealed: Uint8Array): Uint8Array;
}

export class KeyUnsealError extends PalmPayError {
  constructor(kind: ProtectorKind, why: string) {
    super('KEY_UNSEAL_FAILED', `the terminal key does not open with the ${kind} protector (${why}): signing is refused; restore the right key or re-provision`);
  }
}

export class KeyProtectorUnavailableError extends PalmPayError {
  constructor(kind: ProtectorKind, why: string) {
    super('KEY_PROTECTOR_UNAVAILABLE', `key protector ${kind} is not available: ${why}`);
  }
}

/** The part of Electron's `safeStorage` we use (structural, so src/ needs no electron import). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean;
  encryptString(plainText: string): Buffer;
  decryptString(encrypted: Buffer): string;
  /** Linux only: 'basic_text' means a hard-coded password, i.e. no better than file permissions. */
  getSelectedStorageBackend?(): string;
}

export function safeStorageProtector(safeStorage: SafeStorageLike): KeyProtector {
  if (!safeStorage.isEncryptionAvailable()) throw new KeyProtectorUnavailableError('electron-safestorage', 'safeStorage reports encryption unavailable');
  const backend = safeStorage.getSelectedStorageBackend?.();
  const weak = backend === 'basic_text';
  return {
    kind: 'electron-safestorage',
    description: weak
      ? 'Electron safeStorage with the basic_text backend: a hard-coded password; effectively only the 0600 file permissions protect the key'
      : `Electron safeStorage (${backend ?? 'OS'} key store: DPAPI / Keychain / libsecret / kwallet): another OS user, or the disk alone, cannot read the key; code running as this user can`,
    seal: (plain) => safeStorage.encryptString(Buffer.from(plain).toString('base64')),
    unseal: (sealed) => {
      try {
        return Buffer.from(safeStorage.decryptString(Buffer.from(sealed)), 'base64');
      } catch (err) {
        throw new KeyUnsealError('electron-safestorage', (err as Error).message);
      }
    },
  };
}

/** Wraps with secretbox under a 32-byte key-encryption key. Layout: [24-byte nonce][box]. */
function wrapWith(kek: Uint8Array, plain: Uint8Array): Uint8Array {
  const nonce = nacl.randomBytes(nacl.secretbox.nonceLength);
  return Buffer.concat([nonce, nacl.secretbox(plain, nonce, kek)]);
}
function unwrapWith(kind: ProtectorKind, kek: Uint8Array, sealed: Uint8Array): Uint8Array {
  const n = nacl.secretbox.nonceLength;
  const out = sealed.length > n ? nacl.secretbox.open(sealed.subarray(n), sealed.subarray(0, n), kek) : null;
  if (out === null) throw new KeyUnsealError(kind, 'wrong key or damaged key file');
  return out;
}

/** True when libsecret's `secret-tool` is installed (the keyring daemon may still be absent: seal() then fails clearly). */
export function secretToolAvailable(): boolean {
  return spawnSync('secret-tool', ['--version'], { stdio: 'ignore' }).error === undefined;
}

/**
 * OS keyring via libsecret's `secret-tool`: a random key-encryption key lives in the user's keyring
 * (attributes service=palmpay, key=<name>) and wraps the key file's contents.
 */
export function keyringProtector(name = 'terminal-kek'): KeyProtector {
  const attrs = ['service', 'palmpay', 'key', name];
  const lookup = (): Uint8Array | undefined => {
    const r = spawnSync('secret-tool', ['lookup', ...attrs], { encoding: 'utf8' });
    if (r.error) throw new KeyProtectorUnavailableError('os-keyring', `secret-tool: ${r.error.message}`);
    const text = r.stdout.trim();
    return r.status === 0 && text ? Buffer.from(text, 'base64') : undefined;
  };
  return {
    kind: 'os-keyring',
    description: 'OS keyring (libsecret secret-tool): the key file is wrapped by a key held in the user’s keyring; the disk alone does not reveal it, code running as this user with the keyring unlocked can',
    seal(plain) {
      let kek = lookup();
      if (!kek) {
        kek = nacl.randomBytes(32);
        const r = spawnSync('secret-tool', ['store', '--label=PalmPay terminal key', ...attrs], { input: Buffer.from(kek).toString('base64') });
        if (r.error || r.status !== 0) throw new KeyProtectorUnavailableError('os-keyring', `secret-tool store failed (${r.error?.message ?? String(r.stderr).trim()}); is a keyring daemon running? To rely on file permissions only, set PALMPAY_KEY_PROTECTOR=file`);
      }
      return wrapWith(kek, plain);
    },
    unseal(sealed) {
      const kek = lookup();
      if (!kek) throw new KeyUnsealError('os-keyring', 'the keyring holds no PalmPay key (locked, or another user/machine)');
      return unwrapWith('os-keyring', kek, sealed);
    },
  };
}

/** A key derived by scrypt from a passphrase the operator or the service manager supplies (e.g. PALMPAY_KEY_PASSPHRASE). */
export function passphraseProtector(passphrase: string, cost = { N: 1 << 15, r: 8, p: 1 }): KeyProtector {
  if (passphrase.length < 8) throw new KeyProtectorUnavailableError('passphrase', 'the passphrase must be at least 8 characters');
  const derive = (salt: Uint8Array) => new Uint8Array(scryptSync(passphrase, salt, 32, { ...cost, maxmem: 256 * cost.N * cost.r }));
  return {
    kind: 'passphrase',
    description: 'a passphrase (scrypt-derived key): the disk alone does not reveal the key; whoever knows the passphrase, or reads it from the process environment, can',
    seal(plain) {
      const salt = nacl.randomBytes(16);
      return Buffer.concat([salt, wrapWith(derive(salt), plain)]);
    },
    unseal(sealed) {
      if (sealed.length < 16) throw new KeyUnsealError('passphrase', 'damaged key file');
      return unwrapWith('passphrase', derive(sealed.subarray(0, 16)), sealed.subarray(16));
    },
  };
}

/** No wrapping: only the key file's 0600 permissions (and disk encryption, if any) protect the key. */
export function filePermissionsProtector(): KeyProtector {
  return {
    kind: 'file-permissions',
    description: 'file permissions only (0600 key file): anyone who can read the disk or act as this user (or root) can read the key; use full-disk encryption',
    seal: (plain) => Uint8Array.from(plain),
    unseal: (sealed) => Uint8Array.from(sealed),
  };
}

/** Chooses the strongest protector available: safeStorage (if the shell gives one), passphrase (if set), keyring, file permissions. */
export function chooseProtector(opts: { safeStorage?: SafeStorageLike; env?: NodeJS.ProcessEnv } = {}): KeyProtector {
  const env = opts.env ?? process.env;
  if (opts.safeStorage?.isEncryptionAvailable()) return safeStorageProtector(opts.safeStorage);
  if (env.PALMPAY_KEY_PASSPHRASE) return passphraseProtector(env.PALMPAY_KEY_PASSPHRASE);
  if (env.PALMPAY_KEY_PROTECTOR !== 'file' && secretToolAvailable()) return keyringProtector();
  return filePermissionsProtector();
}

/** The protector that matches a key file's recorded kind (the shell must supply safeStorage for that kind). */
export function protectorFor(kind: ProtectorKind, opts: { safeStorage?: SafeStorageLike; env?: NodeJS.ProcessEnv } = {}): KeyProtector {
  const env = opts.env ?? process.env;
  switch (kind) {
    case 'electron-safestorage':
      if (!opts.safeStorage) throw new KeyProtectorUnavailableError(kind, 'the key was sealed by Electron safeStorage; open it from the Electron shell');
      return safeStorageProtector(opts.safeStorage);
    case 'passphrase':
      if (!env.PALMPAY_KEY_PASSPHRASE) throw new KeyProtectorUnavailableError(kind, 'set PALMPAY_KEY_PASSPHRASE');
      return passphraseProtector(env.PALMPAY_KEY_PASSPHRASE);
    case 'os-keyring':
      return keyringProtector();
    case 'file-permissions':
      return filePermissionsProtector();
  }
}
