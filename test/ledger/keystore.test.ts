// Terminal identity: provisioning, sealing by each protector, refusals.
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { tempDir } from './helpers.ts';
import { provisionIdentity, openKeyStore, readPublicIdentity, keyFilePath } from '../../src/ledger/keystore.ts';
import { filePermissionsProtector, passphraseProtector, safeStorageProtector, chooseProtector, type SafeStorageLike } from '../../src/ledger/keyprotect.ts';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  const d = tempDir();
  dir = d.dir;
  cleanup = d.cleanup;
});
afterEach(() => cleanup());

/** Stands in for Electron's safeStorage (no Electron binary here): AES-GCM under a key held by "the OS". */
function fakeSafeStorage(osKey = randomBytes(32), backend = 'gnome_libsecret'): SafeStorageLike {
  return {
    isEncryptionAvailable: () => true,
    getSelectedStorageBackend: () => backend,
    encryptString(s) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', osKey, iv);
      const body = Buffer.concat([c.update(s, 'utf8'), c.final()]);
      return Buffer.concat([iv, c.getAuthTag(), body]);
    },
    decryptString(b) {
      const d = createDecipheriv('aes-256-gcm', osKey, b.subarray(0, 12));
      d.setAuthTag(b.subarray(12, 28));
      return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8');
    },
  };
}

describe('key store', () => {
  it('provisions a 0600 key file whose sealed key signs as the recorded public key', () => {
    const id = provisionIdentity(dir, 'T-7', filePermissionsProtector());
    expect(statSync(keyFilePath(dir)).mode & 0o777).toBe(0o600);
    expect(readPublicIdentity(dir)).toMatchObject({ terminalId: 'T-7', protector: 'file-permissions' });
    const ks = openKeyStore(dir, filePermissionsProtector());
    const msg = Buffer.from('hello');
    expect(nacl.sign.detached.verify(msg, ks.signer.sign(msg), id.publicKey)).toBe(true);
    expect(ks.protection).toMatch(/file permissions only/);
    // the key store hands out a signer and a sealer, never the key bytes
    expect(Object.keys(ks).sort()).toEqual(['protection', 'protector', 'publicKey', 'sealer', 'signer', 'terminalId']);
  });

  it('refuses to provision twice', () => {
    provisionIdentity(dir, 'T-7', filePermissionsProtector());
    expect(() => provisionIdentity(dir, 'T-7', filePermissionsProtector())).toThrow(expect.objectContaining({ code: 'ALREADY_PROVISIONED' }));
  });

  it('never writes the private key in clear with a passphrase or safeStorage protector', () => {
    // tweetnacl's secret key is seed ‖ publicKey: in clear, the sealed bytes would contain the public key.
    const sealedBytes = (d: string) => Buffer.from((JSON.parse(readFileSync(keyFilePath(d), 'utf8')) as { sealedSecretKey: string }).sealedSecretKey, 'base64');
    const clear = provisionIdentity(dir, 'T-0', filePermissionsProtector());
    expect(sealedBytes(dir).includes(Buffer.from(clear.publicKey))).toBe(true); // the honest baseline: file mode is clear
    for (const p of [passphraseProtector('a long passphrase', { N: 1 << 10, r: 8, p: 1 }), safeStorageProtector(fakeSafeStorage())]) {
      const d = tempDir();
      try {
        const id = provisionIdentity(d.dir, 'T-8', p);
        expect(readFileSync(keyFilePath(d.dir), 'utf8')).toContain(p.kind);
        expect(sealedBytes(d.dir).includes(Buffer.from(id.publicKey))).toBe(false);
        const ks = openKeyStore(d.dir, p);
        expect(nacl.sign.detached.verify(Buffer.from('x'), ks.signer.sign(Buffer.from('x')), id.publicKey)).toBe(true);
      } finally {
        d.cleanup();
      }
    }
  });

  it('safeStorage from another OS user (other key) cannot unseal: KEY_UNSEAL_FAILED', () => {
    provisionIdentity(dir, 'T-9', safeStorageProtector(fakeSafeStorage()));
    expect(() => openKeyStore(dir, safeStorageProtector(fakeSafeStorage()))).toThrow(expect.objectContaining({ code: 'KEY_UNSEAL_FAILED' }));
  });

  it('says plainly that safeStorage basic_text is only file permissions', () => {
    expect(safeStorageProtector(fakeSafeStorage(randomBytes(32), 'basic_text')).description).toMatch(/only the 0600 file permissions/);
  });

  it('refuses a protector of another kind, a readable-by-others key file, and a damaged one', () => {
    provisionIdentity(dir, 'T-1', filePermissionsProtector());
    expect(() => openKeyStore(dir, passphraseProtector('a long passphrase'))).toThrow(expect.objectContaining({ code: 'KEY_PROTECTOR_MISMATCH' }));
    chmodSync(keyFilePath(dir), 0o644);
    expect(() => openKeyStore(dir, filePermissionsProtector())).toThrow(expect.objectContaining({ code: 'KEY_FILE_PERMISSIONS' }));
    chmodSync(keyFilePath(dir), 0o600);
    writeFileSync(keyFilePath(dir), '{"v":1}');
    expect(() => openKeyStore(dir, filePermissionsProtector())).toThrow(expect.objectContaining({ code: 'KEY_FILE_DAMAGED' }));
  });

  it('reports a missing identity clearly', () => {
    expect(() => readPublicIdentity(dir)).toThrow(expect.objectContaining({ code: 'NOT_PROVISIONED' }));
  });

  it('chooses safeStorage, then a passphrase, then (no secret-tool here, or forced) file permissions', () => {
    expect(chooseProtector({ safeStorage: fakeSafeStorage(), env: {} }).kind).toBe('electron-safestorage');
    expect(chooseProtector({ env: { PALMPAY_KEY_PASSPHRASE: 'a long passphrase' } }).kind).toBe('passphrase');
    expect(chooseProtector({ env: { PALMPAY_KEY_PROTECTOR: 'file' } }).kind).toBe('file-permissions');
  });
});
