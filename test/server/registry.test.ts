// Enrolment registry, feeds and crypto: provisional → confirmed or possible duplicate; templates pinned by the
// signed record and delivered sealed to the region's terminals; certificates and signed time verify.
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { issueCertificate, newEncKeyPair, newServerKeyPkcs8, openSealed, sealFor, serverIdentity, signTime, verifyCertificate, verifyTime } from '../../src/protocol/crypto.ts';
import { bestMatch, prescored } from '../../src/server/palm-index.ts';
import { Central } from '../../src/server/service.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, registeredTerminal, tempDb, type TestTerminal } from './helpers.ts';
import { enrolmentBytes } from '../support/synthetic-codes.ts';

describe('centre crypto', () => {
  const id = serverIdentity(newServerKeyPkcs8());
  it('issues certificates that verify, and detects edits', () => {
    const cert = issueCertificate(id, { v: 1, terminalId: 'T1', name: 'n', branch: 'B', region: 'R', publicKey: 'a'.repeat(64), encKey: 'b'.repeat(64), issuedAt: 5 });
    expect(verifyCertificate(id.publicKeyHex, cert)).toBe(true);
    expect(verifyCertificate(id.publicKeyHex, { ...cert, body: { ...cert.body, region: 'X' } })).toBe(false);
    expect(verifyCertificate(serverIdentity(newServerKeyPkcs8()).publicKeyHex, cert)).toBe(false);
  });
  it('signs time', () => {
    const t = signTime(id, 123456);
    expect(verifyTime(id.publicKeyHex, t)).toBe(true);
    expect(verifyTime(id.publicKeyHex, { ...t, ms: 123457 })).toBe(false);
  });
  it('seals templates for one terminal only', () => {
    const a = newEncKeyPair();
    const b = newEncKeyPair();
    const plain = randomBytes(300);
    const sealed = sealFor(a.publicHex, plain);
    expect(openSealed(a.privatePkcs8b64, sealed).equals(plain)).toBe(true);
    expect(() => openSealed(b.privatePkcs8b64, sealed)).toThrow(/authentication/);
  });
});

describe('enrolment registry', () => {
  let central: Central;
  let cleanup: () => Promise<void>;
  let t: TestTerminal;

  beforeEach(async () => {
    const db = await tempDb('sqlite');
    cleanup = db.cleanup;
    central = await Central.open(db.url);
    t = await registeredTerminal(central, 'T1', { region: 'R1', operators: { 'op-1': 'supervisor', op: 'enroller' } });
  });
  afterEach(async () => {
    await central.close();
    await cleanup();
  });

  it('confirms a new person once record and templates are in, and delivers them sealed to the region only', async () => {
    const e = await enrolCustomer(central, t, 'P1', 'A1');
    expect(e.result.status).toBe('accepted');
    expect(e.registry).toEqual({ status: 'confirmed' });
    const sameRegion = await registeredTerminal(central, 'T2', { region: 'R1' });
    const otherRegion = await registeredTerminal(central, 'T3', { region: 'R9' });
    const row = (id: string) => central.repo.tx(async (r) => (await r.getTerminal(id))!);
    const feed = await central.feed(await row('T2'), 0);
    const person = feed.events.find((x) => x.kind === 'person');
    expect(person?.data.person).toMatchObject({ name: 'Test Person' });
    const sealed = (person!.data.templates as string[])[0]!;
    expect(openSealed(sameRegion.enc.privatePkcs8b64, sealed).equals(e.template)).toBe(true);
    expect((await central.feed(await row('T3'), 0)).events.filter((x) => x.kind === 'person')).toEqual([]);
    void otherRegion;
  });

  it('flags a possible duplicate for review and keeps that person unpayable', async () => {
    // One palm enrolled again under another name: new live captures of it, not the same bytes.
    await enrolCustomer(central, t, 'P1', 'A1', enrolmentBytes('one palm'));
    const dup = await enrolCustomer(central, t, 'P2', 'A2', enrolmentBytes('one palm', 'left', 1));
    expect(dup.registry).toEqual({ status: 'duplicate_review', duplicateOf: 'P1' });
    expect((await central.reviewList()).at(-1)?.reason).toMatch(/possible duplicate of person P1/);
    await central.creditAccount('A2', 1000, 'SYP');
    const [res] = await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 1, 'P2', 'A2', 10))]);
    expect(res).toMatchObject({ status: 'review', reason: expect.stringMatching(/not confirmed/) });
    await central.settlePerson('P2', 'confirm');
    const [res2] = await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 2, 'P2', 'A2', 10))]);
    expect(res2!.status).toBe('accepted');
  });

  it('attack: a revoked person is never confirmed again, and a supervisor cannot confirm past the duplicate check', async () => {
    const template = enrolmentBytes('one palm');
    await enrolCustomer(central, t, 'P1', 'A1', template);
    await enrolCustomer(central, t, 'P2', 'A2', template); // possible duplicate of P1 (the very same bytes)
    await central.settlePerson('P2', 'revoke');
    await expect(central.settlePerson('P2', 'confirm')).rejects.toMatchObject({ code: 'PERSON_REVOKED' });
    await central.settlePerson('P2', 'revoke'); // again: no change, no second feed event
    const revoked = (await central.feed((await central.repo.tx((r) => r.getTerminal('T1')))!, 0)).events.filter((e) => e.kind === 'person_revoked' && e.key === 'P2');
    expect(revoked).toHaveLength(1);
    expect((await central.repo.tx((r) => r.getPerson('P2')))?.status).toBe('revoked');
    await central.creditAccount('A2', 1000, 'SYP');
    const [res] = await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 3, 'P2', 'A2', 10))]);
    expect(res!.status).not.toBe('accepted');
    // A provisional person (templates not yet at the centre, so never checked) is not the supervisor's to confirm.
    const rec = t.chain.next({
      type: 'enrolment', operatorId: 'op', enrolmentId: 'E-P7', personId: 'P7', person: { name: 'N', idNumber: 'I', accountId: 'A7' },
      templateDigests: [createHash('sha256').update(enrolmentBytes('P7')).digest('hex')], hands: ['left'], consent: { given: true, method: 'verbal', textVersion: 'c1' }, provisional: true,
    });
    await central.ingest('T1', [rec]);
    await expect(central.settlePerson('P7', 'confirm')).rejects.toMatchObject({ code: 'PERSON_NOT_IN_REVIEW' });
    expect((await central.repo.tx((r) => r.getPerson('P7')))?.status).toBe('provisional');
    await central.settlePerson('P1', 'confirm'); // already confirmed: no change
    expect((await central.repo.tx((r) => r.getPerson('P1')))?.status).toBe('confirmed');
  });

  it('refuses templates that do not match the digests pinned in the signed record', async () => {
    const template = enrolmentBytes('P9');
    const rec = t.chain.next({
      type: 'enrolment', operatorId: 'op', enrolmentId: 'E-P9', personId: 'P9', person: { name: 'N', idNumber: 'I' },
      templateDigests: [createHash('sha256').update(template).digest('hex')], hands: ['left'], consent: { given: true, method: 'verbal', textVersion: 'c1' }, provisional: true,
    });
    await central.ingest('T1', [rec]);
    const row = (await central.repo.tx((r) => r.getTerminal('T1')))!;
    // Valid templates, of another palm: the digest check refuses them (the audit would pass them).
    await expect(central.uploadTemplates(row, 'P9', [enrolmentBytes('not P9').toString('base64')])).rejects.toMatchObject({ code: 'TEMPLATE_DIGEST_MISMATCH' });
    expect((await central.repo.tx((r) => r.getPerson('P9')))?.status).toBe('provisional');
  });

  it('sends insufficient funds and unknown customers to review, not to the ledger', async () => {
    await enrolCustomer(central, t, 'P1', 'A1');
    await central.creditAccount('A1', 50, 'SYP');
    const recs = [t.chain.next(purchaseDraft('T1', 1, 'P1', 'A1', 60)), t.chain.next(purchaseDraft('T1', 2, 'NOBODY', 'A1', 1))];
    const res = await central.ingest('T1', recs);
    expect(res.map((r) => r.status)).toEqual(['review', 'review']);
    expect(res[0]!.reason).toMatch(/insufficient funds after the fact: 50 < 60/);
    expect(res[1]!.reason).toMatch(/not enrolled/);
    expect(await central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(50);
    // a replay returns the original result, reason included, and moves nothing
    const replay = await central.ingest('T1', [recs[0]]);
    expect(replay[0]).toMatchObject({ status: 'duplicate', original: { status: 'review', reason: res[0]!.reason } });
    expect((await central.reviewList()).filter((r) => r.terminal_id === 'T1' && r.kind === 'purchase')).toHaveLength(2);
    // a purchase id used twice (here by two terminals) moves money once
    await central.creditAccount('A1', 1000, 'SYP');
    const t2 = await registeredTerminal(central, 'T2', { region: 'R1' });
    const a = await central.ingest('T1', [t.chain.next(purchaseDraft('T1', 3, 'P1', 'A1', 10))]);
    const b = await central.ingest('T2', [t2.chain.next(purchaseDraft('T1', 3, 'P1', 'A1', 10))]);
    expect(a[0]!.status).toBe('accepted');
    expect(b[0]).toMatchObject({ status: 'review', reason: 'PURCHASE_ID_USED: purchase id T1-p3 was already used' });
    expect(await central.repo.tx((r) => r.balance('acct:A1', 'SYP'))).toBe(1040);
  });
});

describe('the full matcher behind the duplicate check (palm-index bestMatch)', () => {
  it('flags a second enrolment of the same palm, passes a different palm, and skips stored bytes that are no template', async () => {
    const { defaultModel, person, syntheticTemplate } = await import('../../src/biometrics/identify/synthetic.ts');
    const { rng } = await import('../../src/biometrics/identify/random.ts');
    const { encodeTemplate } = await import('../../src/biometrics/template.ts');
    const model = defaultModel();
    const r = rng(11);
    const alice = person(model, r);
    const bob = person(model, r);
    const gallery = [
      { id: 'JUNK', templates: [randomBytes(40)] },
      { id: 'ALICE', templates: [encodeTemplate(syntheticTemplate(model, alice, r, 'enrol', 3))] },
    ];
    const again = bestMatch([syntheticTemplate(model, alice, r, 'enrol', 3)], gallery);
    expect(again?.personId).toBe('ALICE');
    expect(again!.score).toBeLessThan(0.3);
    expect(bestMatch([syntheticTemplate(model, bob, r, 'enrol', 3)], gallery)).toBeUndefined();
  });
});

describe("the pre-score that picks the full matcher's candidates (palm-index prescored)", () => {
  it('keeps a weak second capture of the palm among the best few of many other palms, and drops stored bytes that are no template', async () => {
    const { capture, defaultModel, modelTemplate, person } = await import('../../src/biometrics/identify/synthetic.ts');
    const { rng } = await import('../../src/biometrics/identify/random.ts');
    const { encodeTemplate } = await import('../../src/biometrics/template.ts');
    const { matchScore } = await import('../../src/biometrics/match.ts');
    const model = defaultModel();
    const r = rng(17);
    // The weakest of 40 second captures of one palm by the full matcher: the kind of pair stage 1 ranks low.
    const palm = person(model, r);
    const stored = modelTemplate(model, [capture(model, palm, r)]);
    const probe = Array.from({ length: 40 }, () => modelTemplate(model, [capture(model, palm, r, { shift: true })]))
      .map((t) => ({ t, s: matchScore(t, stored) }))
      .sort((a, b) => b.s - a.s)[0]!.t;
    const others = Array.from({ length: 300 }, (_, i) => ({ id: `O${i}`, templates: [encodeTemplate(modelTemplate(model, [capture(model, person(model, r), r)]))] }));
    const rows = [...others.slice(0, 150), { id: 'JUNK', templates: [randomBytes(40)] }, { id: 'MATE', templates: [encodeTemplate(stored)] }, ...others.slice(150)];
    const kept = prescored([probe], rows, 4);
    expect(kept).toHaveLength(4);
    expect(kept[0]!.id).toBe('MATE');
    expect(kept.some((k) => k.id === 'JUNK')).toBe(false);
    // No more rows than it keeps: all of them, no pre-score paid, the undecodable one still dropped.
    expect(prescored([probe], rows.slice(148, 153), 8).map((k) => k.id).sort()).toEqual(['MATE', 'O148', 'O149', 'O150'].sort());
  });
});
