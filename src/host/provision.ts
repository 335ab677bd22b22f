// Provisioning a counter for its regional centre (`palmpay terminal provision`, once, by a technician): the
// terminal's identity (created here if new), registration with the one-time code from `palmpay server terminal
// add`, the centre's key pinned (every later feed page must be signed by it), the first feed pulled, and the
// centre's URL written to terminal-config.json. Each failure is a typed error that leaves the counter as it was.
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Certificate } from '../protocol/crypto.ts';
import { chooseProtector } from '../ledger/keyprotect.ts';
import { KEY_FILE_NAME, keyFilePath, readPublicIdentity } from '../ledger/keystore.ts';
import { openTerminal, provisionTerminal } from '../ledger/open.ts';
import { DB_FILE_NAME, type Store } from '../store/store.ts';
import { CentreRefusal, createSync, registerWithCentre, SETTINGS } from '../sync/index.ts';
import { EXPORTED_THROUGH_SEQ } from '../sync/sneakernet.ts';
import { PalmPayError } from '../util/errors.ts';
import { parseCentre, writeConfigFile } from './terminal-config.ts';

export interface ProvisionOptions {
  dataDir: string;
  centre: string;
  code: string;
  /** The id printed by `palmpay server terminal add` with the code. */
  terminalId: string;
  insecureHttp?: boolean;
  onProgress?: (p: { phase: 'register' | 'feed'; events: number }) => void;
}

export interface ProvisionResult {
  terminalId: string;
  /** Hex SHA-256-free fingerprint: the first and last bytes of the public key, as `terminal status` prints it. */
  publicKeyFingerprint: string;
  centreUrl: string;
  centreKeyFingerprint: string;
  feedEvents: number;
  /** Why the first feed did not complete (the running counter keeps pulling it), or null. */
  feedError: string | null;
  createdIdentity: boolean;
}

const fingerprint = (hex: string) => `${hex.slice(0, 16)}…${hex.slice(-8)}`;

export async function provisionWithCentre(o: ProvisionOptions): Promise<ProvisionResult> {
  const centre = parseCentre(o.centre, o.insecureHttp);
  if (centre.kind !== 'remote') throw new PalmPayError('CONFIG_INVALID', 'provisioning needs the centre\'s URL (https://…)');
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/.test(o.terminalId)) throw new PalmPayError('CONFIG_INVALID', `'${o.terminalId}' is not a terminal id`);

  const fresh = !existsSync(keyFilePath(o.dataDir));
  if (!fresh) {
    const id = readPublicIdentity(o.dataDir);
    if (id.terminalId !== o.terminalId) {
      throw new PalmPayError('TERMINAL_ID_MISMATCH', `this counter is terminal ${id.terminalId}, not ${o.terminalId}: a counter keeps its identity (use the code for ${id.terminalId}, or a fresh data folder)`);
    }
  } else if (existsSync(join(o.dataDir, DB_FILE_NAME))) {
    throw new PalmPayError('DATA_DIR_INCONSISTENT', `${o.dataDir} holds a terminal database but no terminal key: refusing to guess; use a fresh data folder`);
  }
  // A new counter's identity is made in a staging folder and adopted only once the centre has registered it: a
  // refused attempt (a typo in the id, a wrong address) leaves the data folder exactly as it was.
  const staging = fresh ? mkdtempSync(join(o.dataDir, '.provisioning-')) : null;
  let cert: Certificate;
  try {
    const dir = staging ?? o.dataDir;
    if (staging) provisionTerminal(staging, o.terminalId, { protector: chooseProtector() });
    const terminal = openTerminal(dir);
    try {
      assertNothingUnsent(terminal.store);
      o.onProgress?.({ phase: 'register', events: 0 });
      cert = await registerWithCentre({ store: terminal.store, serverUrl: centre.url, code: o.code, signer: terminal.keys.signer, sealer: terminal.keys.sealer, expectTerminalId: o.terminalId, insecureHttp: centre.insecureHttp }).catch((err: unknown) => {
        throw explainRegistrationError(err, centre.url);
      });
    } finally {
      terminal.close();
    }
    if (staging) adopt(staging, o.dataDir);
  } finally {
    if (staging) rmSync(staging, { recursive: true, force: true });
  }
  // Registered: the counter now belongs to this centre, whatever happens to the first feed.
  writeConfigFile(o.dataDir, { centre: centre.url, ...(centre.insecureHttp ? { insecureHttp: true } : {}) });

  const terminal = openTerminal(o.dataDir);
  try {
    const centreKey = terminal.store.settings.get<string>(SETTINGS.serverPublicKey)!;
    const sync = createSync({ store: terminal.store, serverUrl: centre.url, signer: terminal.keys.signer, ledger: terminal.ledger, sealer: terminal.keys.sealer, insecureHttp: centre.insecureHttp });
    let events = 0;
    let feedError: string | null = null;
    sync.on('feed', (f) => {
      events += f.events;
      o.onProgress?.({ phase: 'feed', events });
    });
    o.onProgress?.({ phase: 'feed', events });
    try {
      await sync.pullFeed();
    } catch (err) {
      feedError = (err as Error).message; // the running counter keeps pulling it
    } finally {
      await sync.stop();
    }
    return {
      terminalId: cert.body.terminalId,
      publicKeyFingerprint: fingerprint(Buffer.from(terminal.keys.publicKey).toString('hex')),
      centreUrl: centre.url,
      centreKeyFingerprint: fingerprint(centreKey),
      feedEvents: events,
      feedError,
      createdIdentity: fresh,
    };
  } finally {
    terminal.close();
  }
}

/** Moves a staged identity into the data folder, the key file last (its presence is what makes a counter). */
function adopt(staging: string, dataDir: string): void {
  const names = readdirSync(staging).sort((a, b) => Number(a === KEY_FILE_NAME) - Number(b === KEY_FILE_NAME));
  const taken = names.filter((n) => existsSync(join(dataDir, n)));
  if (taken.length) throw new PalmPayError('DATA_DIR_INCONSISTENT', `${dataDir} already holds ${taken.join(', ')}: refusing to overwrite`);
  for (const n of names) renameSync(join(staging, n), join(dataDir, n));
}

/**
 * A counter already registered must not strand records: re-provisioning waits until every signed record has reached
 * the centre or been written to an export file (the queue is kept either way; the centre applies each record once).
 */
export function assertNothingUnsent(store: Store): void {
  if (!store.settings.get(SETTINGS.certificate)) return;
  const exportedThrough = store.settings.get<number>(EXPORTED_THROUGH_SEQ) ?? 0;
  const n = store.outbox.countAbove(exportedThrough);
  if (n > 0) {
    throw new PalmPayError('REPROVISION_UNSENT', `${n} signed record(s) have neither reached the centre nor been exported: upload them (connect the link) or export them (palmpay outbox export FILE) before provisioning again`);
  }
}

function explainRegistrationError(err: unknown, url: string): Error {
  if (!(err instanceof PalmPayError)) return new PalmPayError('PROVISION_FAILED', `registration with ${url} failed: ${(err as Error).message}`, { cause: err });
  if (err.code === 'SYNC_LINK') return new PalmPayError('CENTRE_UNREACHABLE', `cannot reach the centre at ${url} (${err.message}): check the URL, the cable or the network, and try again`, { cause: err });
  if (err instanceof CentreRefusal) {
    if (err.remoteCode === 'REGISTRATION_CODE_INVALID' || err.remoteCode === 'REGISTRATION_CODE_EXPIRED') {
      return new PalmPayError('CODE_REFUSED', `the centre at ${url} refused the code (${err.message}): a code works once and expires; print a new one with palmpay server terminal add`, { cause: err });
    }
    if (err.remoteCode === 'REGISTER_THROTTLED') return new PalmPayError('CODE_THROTTLED', `the centre at ${url} refuses registrations from here for a minute after too many wrong codes: wait, then try again`, { cause: err });
    // Anything else answering 4xx at that address is not a PalmPay centre's registration (a wrong port or path).
    return new PalmPayError('CENTRE_NOT_PALMPAY', `${url} answered, but not as a PalmPay centre (${err.message}): check the address and port`, { cause: err });
  }
  return err;
}
