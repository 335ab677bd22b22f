// The status bar says exactly what the counter runs on: a centre reached over plain http off this machine
// (--insecure-http) is flagged on the link's status, and nothing else is.
import { afterEach, describe, expect, it } from 'vitest';
import { createKiosk, type Kiosk } from '../../src/host/compose.ts';
import { SETTINGS } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';

let kiosk: Kiosk | null = null;
let cleanup: (() => void) | null = null;
afterEach(async () => {
  await kiosk?.close();
  cleanup?.();
  kiosk = null;
});

/** A counter registered with a centre (the certificate's content does not matter here) that is never reached. */
async function kioskFor(url: string, insecureHttp: boolean): Promise<Kiosk> {
  const dir = tempDir('palmpay-linkstatus-');
  cleanup = dir.cleanup;
  const t = makeTerminal(dir.dir, 'T-LS');
  t.store.settings.set(SETTINGS.certificate, { body: { terminalId: 'T-LS' } });
  t.close();
  kiosk = await createKiosk({ dataDir: dir.dir, plainKeyFile: true, scanner: { kind: 'sim' }, centre: { kind: 'remote', url, insecureHttp }, backupDir: false });
  return kiosk;
}

describe('link status', () => {
  it('flags plain http to a centre off this machine', async () => {
    const k = await kioskFor('http://192.0.2.1:8470', true);
    expect(k.status.link.status()).toMatchObject({ server: 'http://192.0.2.1:8470', insecure: true });
  });

  it('says nothing of the kind for https', async () => {
    const k = await kioskFor('https://192.0.2.1:8470', false);
    expect(k.status.link.status().insecure).toBeUndefined();
  });
});
