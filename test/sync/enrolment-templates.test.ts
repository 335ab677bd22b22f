// A counter's enrolment becomes confirmed at the centre only once the centre has its templates (the duplicate
// check runs on them). The terminal sends them after the signed record is taken (src/sync/templates.ts); then
// the centre confirms, stores the PIN the person chose while enrolling, and the feed brings the person and the PIN
// back to the region's counters. Over real loopback HTTP with a real centre. Before templates.ts the person stayed
// provisional at the centre for ever, and a PIN chosen at enrolment never took effect anywhere.
import { createHash, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashPin, verifyPinHash } from '../../src/ledger/pin.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { customerPinOf } from '../../src/server/customer-pins.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { sql } from '../../src/server/sql.ts';
import { createSync, registerWithCentre, type Sync } from '../../src/sync/index.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

describe('an enrolment signed at a counter is confirmed by the centre, with the PIN chosen', () => {
  let dir: string;
  let cleanup: () => void;
  let server: RunningServer;
  let t1: Terminal;
  let sync: Sync;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
    t1 = makeTerminal(join(dir, 't1'), 'T1');
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store: t1.store, serverUrl: server.url, code, signer: t1.keys.signer, sealer: t1.keys.sealer });
    await server.central.grantOperator('T1', { operatorId: 'op-enrol', name: 'Enroller', role: 'enroller', active: true });
    sync = createSync({ store: t1.store, serverUrl: server.url, keys: { terminalId: 'T1', signer: t1.keys.signer, sealer: t1.keys.sealer }, ledger: t1.ledger, feedIntervalMs: 500 });
  });
  afterEach(async () => {
    await sync.stop();
    t1.close();
    await server.close();
    cleanup();
  });

  /** What SqliteBank.saveEnrolment writes: the provisional person, their sealed templates, the signed record. */
  function enrol(personId: string, pin: { pinHash: string } | { pinDeferred: true }) {
    // Both hands, each its own palm in three live captures (the centre audits them: template-audit.ts).
    const hands = ['left', 'right'] as const;
    const templates = hands.map((hand) => enrolmentBytes(personId, hand));
    t1.store.transaction(() => {
      t1.store.people.upsert({ personId, name: 'Hêvîn Şêxo', idNumber: '123456', phone: null, employerId: null, status: 'provisional', updatedAtMs: Date.now() });
      for (const [i, bytes] of templates.entries()) {
        const templateId = randomUUID();
        t1.store.templates.add({ templateId, personId, hand: hands[i]!, sealed: t1.keys.sealer.seal(bytes, templateId), digest: createHash('sha256').update(bytes).digest('hex'), provisional: true, createdAtMs: Date.now() });
      }
      t1.ledger.append({
        type: 'enrolment', operatorId: 'op-enrol', enrolmentId: randomUUID(), personId, person: { name: 'Hêvîn Şêxo', idNumber: '123456', accountId: `acc-${personId}` },
        templateDigests: templates.map((b) => createHash('sha256').update(b).digest('hex')), hands: [...hands],
        consent: { given: true, method: 'verbal', textVersion: 'consent-v1' }, provisional: true, ...pin,
      });
    });
  }
  const centrePerson = (id: string) => server.central.repo.tx((r) => r.getPerson(id));

  it('templates follow the record: confirmed at the centre, the PIN stored there and back at the counter, the person active', async () => {
    const verifier = await hashPin('2580');
    enrol('P-new', { pinHash: verifier });
    enrol('P-later', { pinDeferred: true });
    expect(t1.ledger.customerPins.get('P-new')?.pinHash).toBe(verifier); // kept sealed here at once (still provisional)
    sync.start();
    await expect.poll(async () => (await centrePerson('P-new'))?.status, { timeout: 20_000 }).toBe('confirmed');
    await expect.poll(async () => (await centrePerson('P-later'))?.status, { timeout: 20_000 }).toBe('confirmed');
    expect(await server.central.repo.tx((r) => customerPinOf(r.conn, 'P-new'))).toBe(verifier);
    expect(await server.central.repo.tx((r) => customerPinOf(r.conn, 'P-later'))).toBeUndefined();
    // The feed brings the confirmation back: the person is payable here, with the PIN they chose.
    await expect.poll(() => t1.store.people.get('P-new')?.status, { timeout: 20_000 }).toBe('active');
    expect(await verifyPinHash('2580', t1.ledger.customerPins.get('P-new')!.pinHash!)).toBe(true);
    expect(t1.ledger.customerPins.get('P-later')?.pinHash ?? null).toBeNull();
    // The feed's copy of the counter's own templates is not stored a second time: one row per enrolled template,
    // no longer provisional (a second copy would double this person in the 1:N index and split their update slots).
    await expect.poll(() => t1.store.templates.byPerson('P-new').every((t) => !t.provisional), { timeout: 20_000 }).toBe(true);
    expect(t1.store.templates.byPerson('P-new')).toHaveLength(2);
    expect(await server.central.repo.tx(async (r) => Number((await r.conn.get<{ n: number }>(sql`SELECT count(*) AS n FROM records WHERE status = 'review'`))!.n))).toBe(0);
  }, 60_000);
});
