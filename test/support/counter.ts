// A real counter for the sync tests: its own key store (file-permission protector), SQLite store and ledger, added
// at the centre with a one-time code and registered over loopback HTTP, as `palmpay terminal provision` does.
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openKeyStore, provisionIdentity, type KeyStore } from '../../src/ledger/keystore.ts';
import { Ledger } from '../../src/ledger/ledger.ts';
import type { RunningServer } from '../../src/server/index.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import { registerWithCentre } from '../../src/sync/index.ts';
import type { OperatorRole } from '../../src/protocol/operator-roles.ts';

export interface RealCounter {
  id: string;
  dir: string;
  store: Store;
  keys: KeyStore;
  ledger: Ledger;
}

/**
 * A counter in a fresh folder under `root`, registered with `server` in branch B1 of region R1 (or as given), its
 * operators granted at the centre (rule 16: the centre accepts a record only from an operator it granted there), by
 * default `op-1` as supervisor.
 */
export async function realCounter(server: RunningServer, root: string, id: string, at: { branch?: string; region?: string; operators?: Record<string, OperatorRole> } = {}): Promise<RealCounter> {
  const dir = mkdtempSync(join(root, `${id}-`));
  const protector = filePermissionsProtector();
  provisionIdentity(dir, id, protector);
  const keys = openKeyStore(dir, protector);
  const store = openStore(join(dir, 'terminal.db'));
  const ledger = Ledger.open(store, keys);
  const { code } = await server.central.addTerminal({ id, name: id, branch: at.branch ?? 'B1', region: at.region ?? 'R1' });
  await registerWithCentre({ store, serverUrl: server.url, code, signer: keys.signer, sealer: keys.sealer });
  for (const [operatorId, role] of Object.entries(at.operators ?? { 'op-1': 'supervisor' })) await server.central.grantOperator(id, { operatorId, name: operatorId, role, active: true });
  return { id, dir, store, keys, ledger };
}
