// The first operator of a brand-new counter (issue 14): provisioned with its one-time code, no palm anywhere, and yet
// its operator signs in on day one. A real centre (SQLite) over loopback HTTP; the counter provisioned as
// `palmpay terminal provision` does it; the operator granted a role and a PIN at the centre; then
// `enrolOperatorWithCode` (what `palmpay terminal enrol-operator` runs) proves the code online, runs the enrolment
// flow with the simulated scanner (in-process, HID profile: real frames → extract → templates), and uploads. The
// operator then signs in at that counter with the palm and the PIN. A code cannot be used twice, nor guessed.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKiosk } from '../../src/host/compose.ts';
import { enrolOperatorWithCode } from '../../src/host/enrol-operator.ts';
import { provisionWithCentre } from '../../src/host/provision.ts';
import { hashPin } from '../../src/ledger/pin.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';

const PIN = '2580';
const draft = { nameAr: 'روجدا', nameLatin: 'Rojda Ali', idNumber: '0100200300', phone: '+963912345678', employer: 'BRANCH', accountId: '' };
let root: string;
let srv: RunningServer;
let data: string;

beforeAll(async () => {
  process.env.PALMPAY_KEY_PROTECTOR = 'file'; // no OS keyring on a test machine
  root = mkdtempSync(join(tmpdir(), 'palmpay-first-operator-'));
  srv = await startServer({ db: `sqlite:${join(root, 'centre.db')}`, port: 0 });
  const { code } = await srv.central.addTerminal({ id: 'T-NEW', name: 'new counter', branch: 'B1', region: 'R1' });
  data = join(root, 'counter');
  mkdirSync(data, { mode: 0o700 });
  await provisionWithCentre({ dataDir: data, centre: srv.url, code, terminalId: 'T-NEW' });
  await srv.central.grantOperator('T-NEW', { operatorId: 'OP-ROJDA', name: 'روجدا / Rojda Ali', role: 'supervisor', active: true, pinHash: await hashPin(PIN) });
}, 60_000);
afterAll(async () => {
  await srv?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('the first operator of a new counter', () => {
  it('a wrong code is refused before any palm is read; nothing is signed', async () => {
    await expect(enrolOperatorWithCode({ dataDir: data, code: 'not-the-code-at-all', draft, consent: true, flags: { scanner: 'sim' }, plainKeyFile: true, timeoutMs: 20_000 }))
      .rejects.toMatchObject({ code: 'OPERATOR_CODE_INVALID' });
    await expect(enrolOperatorWithCode({ dataDir: data, code: 'whatever-code', draft: { ...draft, phone: '12' }, consent: true, flags: { scanner: 'sim' }, plainKeyFile: true }))
      .rejects.toMatchObject({ code: 'ENROLMENT_FORM_INVALID' });
    await expect(enrolOperatorWithCode({ dataDir: data, code: 'whatever-code', draft, consent: false, flags: { scanner: 'sim' }, plainKeyFile: true }))
      .rejects.toMatchObject({ code: 'CONSENT_REQUIRED' });
    const records = await srv.central.repo.tx((r) => r.getPerson('OP-ROJDA'));
    expect(records).toBeUndefined();
  }, 60_000);

  it('enrols the palm with the code, the centre confirms it, and the operator signs in with palm and PIN', async () => {
    const { code, codeId } = await srv.central.issueOperatorCode('T-NEW', 'OP-ROJDA');
    const lines: string[] = [];
    const r = await enrolOperatorWithCode({
      dataDir: data, code, draft, consent: true, flags: { scanner: 'sim' }, plainKeyFile: true, timeoutMs: 120_000, say: (l) => lines.push(l),
      // The operator lays each hand three times (the flow asks for the left hand first, then the right).
      onCapturing: (k) => k.present(...Array.from({ length: 6 }, () => ({ identity: 'rojda', captures: 1 }))),
    });
    expect(r).toMatchObject({ operatorId: 'OP-ROJDA', role: 'supervisor', codeId, captures: { left: 3, right: 3 }, uploaded: true, confirmed: true });
    expect((await srv.central.listOperatorCodes()).find((c) => c.id === codeId)).toMatchObject({ status: 'used', used_by: 'T-NEW#1' });
    expect(await srv.central.repo.tx((r2) => r2.getPerson('OP-ROJDA'))).toMatchObject({ status: 'confirmed', terminal_id: 'T-NEW' });

    // Day one: the counter starts and the operator signs in (palm, then the PIN the centre granted).
    const kiosk = await createKiosk({ dataDir: data, scanner: { kind: 'sim' }, link: false, plainKeyFile: true, backupDir: false });
    try {
      kiosk.host.sessionSend({ type: 'login.start' });
      kiosk.present({ identity: 'rojda', captures: 3, holdMs: 5000 });
      await kiosk.host.waitForSession((s) => s.step === 'login' && s.auth.step === 'pin', 60_000);
      kiosk.host.sessionSend({ type: 'auth.submit', pin: PIN });
      const s = await kiosk.host.waitForSession((x) => x.step === 'active' || x.step === 'locked', 30_000);
      expect(s).toMatchObject({ step: 'active', operator: { id: 'OP-ROJDA' } });
    } finally {
      await kiosk.close();
    }
  }, 240_000);

  it('the used code enrols nobody again', async () => {
    const { code } = await srv.central.issueOperatorCode('T-NEW', 'OP-ROJDA').catch(() => ({ code: '' }));
    expect(code).toBe(''); // the operator has a palm now: no new code is issued
    const listed = await srv.central.listOperatorCodes();
    const used = listed.find((c) => c.status === 'used')!;
    expect(used).toBeDefined();
  });
});
