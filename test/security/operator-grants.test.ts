// Operators' roles come from the centre (issue 13, item 11): a supervisor is whoever the centre granted that role at
// that terminal. The grant travels only in the feed page the centre signs for that terminal and is stored there
// sealed and anchored; and the centre re-checks every approval: a refund, a void or a raised offline limit approved
// by an operator the terminal made supervisor itself (its store edited, its key misused) goes to review, typed.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import type { RecordDraft, SignedRecord } from '../../src/protocol/record.ts';
import { newServerKeyPkcs8, serverIdentity, signTime } from '../../src/protocol/crypto.ts';
import { eventsDigest, signFeedPage } from '../../src/protocol/feed-page.ts';
import { refusalCodeOf } from '../../src/server/invariants.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { CentreClient, registerWithCentre } from '../../src/sync/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import type { Terminal } from '../../src/ledger/open.ts';
import { makeTerminal, tempDir } from '../ledger/helpers.ts';
import { PG_URL } from '../server/helpers.ts';
import { balances, enrolCustomer, openCentre, registeredTerminal, runCli, type Centre, type TestTerminal } from './harness.ts';

const backends = PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const);
const refund = (p: SignedRecord & { type: 'purchase' }, approvedBy: string): RecordDraft => ({
  type: 'refund', operatorId: 'op-cashier', refundId: `R-${randomBytes(4).toString('hex')}`, originalPurchaseId: p.purchaseId, originalTerminalId: p.terminalId,
  originalSeq: p.seq, customerId: p.customerId, accountId: p.accountId, amountMinor: 1_000, currency: p.currency, approvedBy, reason: 'returned goods',
});
const voidOf = (p: SignedRecord & { type: 'purchase' }, approvedBy: string): RecordDraft => ({
  type: 'void', operatorId: 'op-cashier', voidId: `V-${randomBytes(4).toString('hex')}`, targetTerminalId: p.terminalId, targetSeq: p.seq,
  targetType: 'purchase', targetId: p.purchaseId, amountMinor: p.amountMinor, currency: p.currency, approvedBy, reason: 'mistake',
});

describe.each(backends)('approvals re-checked at the centre against its operator grants (%s)', (kind) => {
  let c: Centre;
  let t1: TestTerminal;
  let p: SignedRecord & { type: 'purchase' };
  beforeEach(async () => {
    c = await openCentre(kind);
    // the refunds and voids are signed by a granted cashier: only their approvers are in question
    t1 = await registeredTerminal(c.central, 'T1', { region: 'R1', operators: { 'op-1': 'supervisor', 'op-cashier': 'cashier' } });
    await registeredTerminal(c.central, 'T2', { region: 'R1', supervisors: ['sup-elsewhere'] });
    await enrolCustomer(c.central, t1, 'P1', 'A1');
    await c.central.creditAccount('A1', 1_000_000, 'SYP');
    p = t1.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 50_000)) as SignedRecord & { type: 'purchase' };
    expect((await c.central.ingest('T1', [p]))[0]).toMatchObject({ status: 'accepted' });
  });
  afterEach(async () => c.close());

  async function refused(rec: SignedRecord) {
    const before = await balances(c.central);
    const [res] = await c.central.ingest('T1', [rec]);
    expect(res).toMatchObject({ seq: rec.seq, status: 'review' });
    expect(refusalCodeOf(res!.reason)).toBe('APPROVER_NOT_SUPERVISOR');
    expect(await balances(c.central)).toEqual(before);
  }

  it('a refund or void approved by a supervisor the terminal made itself, or one granted at another terminal, moves no money', async () => {
    await refused(t1.chain.next(refund(p, 'self-made-sup')));
    await refused(t1.chain.next(voidOf(p, 'sup-elsewhere')));
    await c.central.grantOperator('T1', { operatorId: 'cash-2', name: 'C', role: 'cashier', active: true });
    await refused(t1.chain.next(refund(p, 'cash-2'))); // granted, but as a cashier
  });

  it('a raised offline limit approved by a non-supervisor moves no money; the granted supervisor’s is accepted, a withdrawn one is not', async () => {
    const over = (by: string, n: number) => t1.chain.next({ ...(purchaseDraft('T1', n, 'P1', 'A1', 10) as Extract<RecordDraft, { type: 'purchase' }>), offline: true, approvedBy: by, overriddenLimits: ['PER_TRANSACTION_CAP'] });
    await refused(over('self-made-sup', 2));
    await c.central.grantOperator('T1', { operatorId: 'sup-1', name: 'Sara', role: 'supervisor', active: true });
    expect((await c.central.ingest('T1', [over('sup-1', 3)]))[0]).toMatchObject({ status: 'accepted' });
    expect((await c.central.ingest('T1', [t1.chain.next(refund(p, 'sup-1'))]))[0]).toMatchObject({ status: 'accepted' });
    await c.central.grantOperator('T1', { operatorId: 'sup-1', name: 'Sara', role: 'supervisor', active: false });
    await refused(over('sup-1', 4));
  });

  it('a bad grant, an unknown or revoked terminal are refused at the centre, typed', async () => {
    await expect(c.central.grantOperator('T1', { operatorId: 'x', name: 'X', role: 'admin', active: true })).rejects.toMatchObject({ code: 'OPERATOR_INVALID' });
    await expect(c.central.grantOperator('NO-SUCH', { operatorId: 'x', name: 'X', role: 'cashier', active: true })).rejects.toMatchObject({ code: 'TERMINAL_UNKNOWN' });
    await c.central.revokeTerminal('T2');
    await expect(c.central.grantOperator('T2', { operatorId: 'x', name: 'X', role: 'cashier', active: true })).rejects.toMatchObject({ code: 'TERMINAL_REVOKED' });
  });
});

describe('operator grants reach the terminal only in its signed feed', () => {
  let dir: string;
  let cleanup: () => void;
  let server: RunningServer;
  let t: Terminal;
  let client: CentreClient;
  beforeEach(async () => {
    ({ dir, cleanup } = tempDir());
    server = await startServer({ db: `sqlite:${join(dir, 'centre', 'centre.db')}`, port: 0 });
    t = makeTerminal(join(dir, 'terminal'), 'T1');
    const { code } = await server.central.addTerminal({ id: 'T1', name: 'counter', branch: 'B1', region: 'R1' });
    await server.central.addTerminal({ id: 'T2', name: 'other', branch: 'B1', region: 'R1' });
    await registerWithCentre({ store: t.store, serverUrl: server.url, code, signer: t.keys.signer, sealer: t.keys.sealer });
    client = new CentreClient({ baseUrl: server.url, credentials: { terminalId: 'T1', sign: (m) => t.keys.signer.sign(m) } });
  });
  afterEach(async () => {
    t.close();
    await server.close();
    cleanup();
  });
  const pull = (feed: Pick<CentreClient, 'feed'> = client) =>
    pullFeed({ store: t.store, client: feed, terminalId: 'T1', sealer: t.keys.sealer, onOperatorGrant: (g) => t.ledger.applyOperatorGrant(g) });

  it('the centre grants, the terminal stores the role sealed; a withdrawal and a role change follow; another terminal’s grant never arrives', async () => {
    await server.central.grantOperator('T1', { operatorId: 'sup-1', name: 'Sara', role: 'supervisor', active: true, pinHash: 'scrypt$1024$8$1$c2FsdA==$aGFzaA==' });
    await server.central.grantOperator('T2', { operatorId: 'sup-2', name: 'Other', role: 'supervisor', active: true });
    await pull();
    expect(t.ledger.operators.get('sup-1')).toMatchObject({ role: 'supervisor', active: true, pinHash: 'scrypt$1024$8$1$c2FsdA==$aGFzaA==' });
    expect(t.ledger.operators.get('sup-2')).toBeUndefined();
    await server.central.grantOperator('T1', { operatorId: 'sup-1', name: 'Sara', role: 'cashier', active: false });
    await pull();
    expect(t.ledger.operators.get('sup-1')).toMatchObject({ role: 'cashier', active: false, pinHash: 'scrypt$1024$8$1$c2FsdA==$aGFzaA==' });
  });

  it('a page from a fake centre granting a supervisor is refused (FEED_FORGED) and grants nothing', async () => {
    await pull();
    const fake = serverIdentity(newServerKeyPkcs8());
    const events = [{ seq: 999, kind: 'operator_grant', key: 'mallory', data: { terminalId: 'T1', operatorId: 'mallory', name: 'M', role: 'supervisor', active: true } }];
    const feed = async (cursor: number) => {
      const g = await client.feed(cursor);
      const time = signTime(fake, Date.now());
      const proof = signFeedPage(fake.privateKey, { terminalId: 'T1', from: cursor, to: 999, more: false, eventsSha256: eventsDigest(events), timeMs: time.ms, request: g.request });
      return { events, cursor: 999, more: false, time, proof, request: g.request };
    };
    await expect(pull({ feed })).rejects.toMatchObject({ code: 'FEED_FORGED' });
    expect(t.ledger.operators.get('mallory')).toBeUndefined();
  });

  it('palmpay server operator grant / revoke / list', async () => {
    const db = `sqlite:${join(dir, 'cli', 'centre.db')}`;
    await runCli('server', 'terminal', 'add', '--name', 'c', '--branch', 'B1', '--region', 'R1', '--id', 'T9', '--db', db);
    expect(await runCli('server', 'operator', 'grant', 'T9', 'sup-9', '--name', 'Sara', '--role', 'supervisor', '--db', db)).toMatchObject({ code: 0, out: expect.stringMatching(/sup-9.*supervisor.*T9/) });
    expect(await runCli('server', 'operator', 'grant', 'T9', 'x', '--name', 'X', '--role', 'admin', '--db', db)).toMatchObject({ code: 1, err: expect.stringMatching(/^palmpay: operator grant: role/) });
    expect(await runCli('server', 'operator', 'revoke', 'T9', 'sup-9', '--db', db)).toMatchObject({ code: 0 });
    const list = await runCli('server', 'operator', 'list', '--json', '--db', db);
    expect(JSON.parse(list.out)).toEqual([expect.objectContaining({ terminalId: 'T9', operatorId: 'sup-9', role: 'supervisor', active: false })]);
  });
});

describe('the demo (npm start) with its embedded centre', () => {
  it('grants the demo operators at the centre; the counter keeps their roles and PINs after its feed', async () => {
    const { createKiosk } = await import('../../src/host/compose.ts');
    const { dir, cleanup } = tempDir();
    const k = await createKiosk({ dataDir: dir, demo: true, plainKeyFile: true, pinCost: { N: 1 << 10, r: 8, p: 1 }, link: { fastRetry: true } });
    try {
      const link = k.link as unknown as { centre: RunningServer; sync: { pullFeed(): Promise<unknown> } };
      const grants = await link.centre.central.listOperators();
      expect(grants.map((g) => [g.operator_id, g.role, Number(g.active)]).sort()).toEqual([['op-cashier', 'cashier', 1], ['op-enrol', 'enroller', 1], ['op-super', 'supervisor', 1]]);
      await link.sync.pullFeed();
      expect(k.terminal.ledger.operators.get('op-super')).toMatchObject({ role: 'supervisor', active: true, pinHash: expect.stringMatching(/^scrypt\$/) });
      expect(k.terminal.ledger.operators.get('op-cashier')).toMatchObject({ role: 'cashier', active: true, pinHash: expect.stringMatching(/^scrypt\$/) });
    } finally {
      await k.close();
      cleanup();
    }
  }, 120_000);
});
