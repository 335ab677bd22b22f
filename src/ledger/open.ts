// One call for the host: open the store and the key store in a data folder and bind them into a Ledger.
import { join } from 'node:path';
import { openStore, DB_FILE_NAME, type Store } from '../store/store.ts';
import type { OpenOptions } from '../store/db.ts';
import { openKeyStore, readPublicIdentity, provisionIdentity, type KeyStore, type PublicIdentity } from './keystore.ts';
import { chooseProtector, protectorFor, type KeyProtector, type SafeStorageLike } from './keyprotect.ts';
import { Ledger, type LedgerOptions } from './ledger.ts';
import type { SealFormat } from './sealer.ts';

export interface OpenTerminalOptions extends LedgerOptions {
  /** Electron's safeStorage, passed in by the shell */
  safeStorage?: SafeStorageLike;
  /** overrides the protector chosen from the key file */
  protector?: KeyProtector;
  store?: OpenOptions;
  /** how new templates are sealed: 'secretbox' (default) or 'aes-256-gcm' (faster bulk load); both open */
  sealFormat?: SealFormat;
}

export interface Terminal {
  store: Store;
  keys: KeyStore;
  ledger: Ledger;
  close(): void;
}

export function dbPath(dataDir: string): string {
  return join(dataDir, DB_FILE_NAME);
}

/** Provisions a new terminal identity in dataDir with the strongest protector available. */
export function provisionTerminal(dataDir: string, terminalId: string, opts: { safeStorage?: SafeStorageLike; protector?: KeyProtector } = {}): PublicIdentity {
  const protector = opts.protector ?? chooseProtector(opts.safeStorage ? { safeStorage: opts.safeStorage } : {});
  return provisionIdentity(dataDir, terminalId, protector);
}

/** Opens everything; any failure (damaged database, wrong key…) is a typed error and nothing is left open. */
export function openTerminal(dataDir: string, opts: OpenTerminalOptions = {}): Terminal {
  const identity = readPublicIdentity(dataDir);
  const protector = opts.protector ?? protectorFor(identity.protector, opts.safeStorage ? { safeStorage: opts.safeStorage } : {});
  const keys = openKeyStore(dataDir, protector, opts.sealFormat);
  const store = openStore(dbPath(dataDir), opts.store);
  try {
    const ledger = Ledger.open(store, keys, { anchorDir: dataDir, ...opts });
    return { store, keys, ledger, close: () => store.close() };
  } catch (err) {
    store.close();
    throw err;
  }
}
