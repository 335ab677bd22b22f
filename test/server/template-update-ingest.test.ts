// The centre and a terminal's template_update record (issue 19), for now: the centre does not apply terminal
// updates yet, so a record claiming one (even a PIN it never checked) is kept as signed evidence, goes to review,
// and changes nothing of the person's templates or feed; the chain goes on.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Central } from '../../src/server/service.ts';
import { enrolCustomer, PG_URL, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';

const backends: Array<'sqlite' | 'postgres'> = ['sqlite', 'postgres'];
describe.each(backends)('template_update at the centre on %s', (kind) => {
  const skip = kind === 'postgres' && !PG_URL;
  let central: Central;
  let t1: TestTerminal;
  let cleanup: () => Promise<void>;
  let enrolledDigest: string;

  beforeEach(async () => {
    if (skip) return;
    const db = await tempDb(kind);
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t1 = await registeredTerminal(central, 'T1', { region: 'R1' });
    const e = await enrolCustomer(central, t1, 'P1', 'A1');
    enrolledDigest = createHash('sha256').update(e.template).digest('hex');
  });
  afterEach(async () => {
    if (skip) return;
    await central.close();
    await cleanup();
  });

  it.skipIf(skip)('attack: an update claiming a PIN, or naming an unknown person, goes to review and changes no template', async () => {
    const before = await central.repo.tx((r) => r.getPerson('P1'));
    const update = (personId: string, pin: boolean) =>
      t1.chain.next({
        type: 'template_update', operatorId: 'op-1', updateId: `U-${personId}-${pin}`, personId, hand: 'left', enrolledDigest, captureDigest: 'c'.repeat(64),
        anchorScore: 1200, pinVerified: pin, ...(pin ? { pinSeq: 1 } : {}),
      });
    for (const rec of [update('P1', true), update('P1', false), update('P404', false)]) {
      const [r] = await central.ingest('T1', [rec]);
      expect(r).toMatchObject({ status: 'review' });
      expect(r!.reason).toMatch(/^TEMPLATE_UPDATE_NOT_APPLIED/);
    }
    expect((await central.repo.tx((r) => r.getPerson('P1')))?.templates).toBe(before?.templates);
    // The chain goes on: the next record is taken.
    expect((await enrolCustomer(central, t1, 'P2', 'A2')).result).toMatchObject({ status: 'accepted' });
  });
});
