// Re-provisioning a counter that was already registered must not strand signed records: it is refused while any
// record has neither reached the centre nor been exported to a file (palmpay outbox export), and allowed again
// once every one of them has. Real SQLite, real keys, the real export.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readdirSync } from 'node:fs';
import { assertNothingUnsent, provisionWithCentre } from '../../src/host/provision.ts';
import { SETTINGS } from '../../src/sync/index.ts';
import { exportOutbox } from '../../src/sync/sneakernet.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { makeTerminal, purchase, tempDir } from '../ledger/helpers.ts';

let done: Array<() => void> = [];
afterEach(() => {
  for (const d of done) d();
  done = [];
});

function registeredTerminal(): { t: Terminal; dir: string } {
  const { dir, cleanup } = tempDir('palmpay-reprov-');
  const t = makeTerminal(dir, 'T-RE');
  done.push(() => t.close(), cleanup);
  // As registerWithCentre leaves it (the certificate's content does not matter to the rule).
  t.store.settings.set(SETTINGS.certificate, { body: { terminalId: 'T-RE' } });
  return { t, dir };
}

describe('re-provisioning with unsent records', () => {
  it('a counter never registered has nothing to strand: allowed', () => {
    const { dir, cleanup } = tempDir('palmpay-reprov-');
    const t = makeTerminal(dir, 'T-NEW');
    done.push(() => t.close(), cleanup);
    t.ledger.append(purchase());
    expect(() => assertNothingUnsent(t.store)).not.toThrow();
  });

  it('is refused with REPROVISION_UNSENT while records wait, naming how many and what to do', () => {
    const { t } = registeredTerminal();
    t.ledger.append(purchase());
    t.ledger.append(purchase());
    expect(() => assertNothingUnsent(t.store)).toThrow(expect.objectContaining({ code: 'REPROVISION_UNSENT', message: expect.stringMatching(/2 signed record\(s\).*palmpay outbox export/) }));
  });

  it('is allowed once the records are exported, and refused again when a new record is written after the export', () => {
    const { t, dir } = registeredTerminal();
    t.ledger.append(purchase());
    t.ledger.append(purchase());
    const header = exportOutbox(t.store, join(dir, 'stick.jsonl'));
    expect(header.count).toBe(2);
    expect(() => assertNothingUnsent(t.store)).not.toThrow();
    t.ledger.append(purchase());
    expect(() => assertNothingUnsent(t.store)).toThrow(expect.objectContaining({ code: 'REPROVISION_UNSENT', message: expect.stringMatching(/^1 signed record/) }));
  });

  it('is allowed once the centre has acknowledged them (the outbox is empty)', () => {
    const { t } = registeredTerminal();
    t.ledger.append(purchase());
    const batch = t.store.outbox.claimBatch(10, Date.now());
    expect(() => assertNothingUnsent(t.store)).toThrow(expect.objectContaining({ code: 'REPROVISION_UNSENT' }));
    t.store.outbox.markDone(batch.map((b) => b.id));
    expect(() => assertNothingUnsent(t.store)).not.toThrow();
  });

  it('an export that failed to write counts for nothing', () => {
    const { t, dir } = registeredTerminal();
    t.ledger.append(purchase());
    expect(() => exportOutbox(t.store, join(dir, 'no-such-folder', 'stick.jsonl'))).toThrow();
    expect(() => assertNothingUnsent(t.store)).toThrow(expect.objectContaining({ code: 'REPROVISION_UNSENT' }));
  });
});

describe('a refused first provisioning changes nothing', () => {
  it('leaves a fresh data folder empty, so a mistyped terminal id can be corrected on the next attempt', async () => {
    const { dir, cleanup } = tempDir('palmpay-prov-');
    done.push(cleanup);
    const attempt = (terminalId: string) => provisionWithCentre({ dataDir: dir, centre: 'http://127.0.0.1:1', code: 'abc', terminalId });
    await expect(attempt('T-TYPO')).rejects.toMatchObject({ code: 'CENTRE_UNREACHABLE' });
    expect(readdirSync(dir)).toEqual([]);
    // Not TERMINAL_ID_MISMATCH: the typo left no identity behind.
    await expect(attempt('T-RIGHT')).rejects.toMatchObject({ code: 'CENTRE_UNREACHABLE' });
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a wrong address is refused before anything is made', async () => {
    const { dir, cleanup } = tempDir('palmpay-prov-');
    done.push(cleanup);
    await expect(provisionWithCentre({ dataDir: dir, centre: 'centre.example', code: 'abc', terminalId: 'T-1' })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    await expect(provisionWithCentre({ dataDir: dir, centre: 'http://192.0.2.1:8470', code: 'abc', terminalId: 'T-1' })).rejects.toMatchObject({ code: 'CENTRE_INSECURE' });
    expect(readdirSync(dir)).toEqual([]);
  });
});
