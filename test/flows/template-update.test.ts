// Template update at the counter (issue 19; src/host/adapters/template-updates.ts), attacker first: a palm of
// another person, or a morph between two palms, is never admitted into someone's template; a slot that got in by
// mistake never lets a palm in that the enrolment captures reject (the guard in stage 2); and what is admitted is
// kept sealed at rest, bounded, and signed into the journal for the centre. Real sim palms through the real
// extractor, real SQLite and keys.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { encodePalm, fuseCaptures, isEnrolGrade, PalmIdentifier, templateFromFrame, type Template } from '../../src/host/adapters/palm.ts';
import { loadPalmIndex, PALM_SNAPSHOT_FILE, writePalmSnapshot } from '../../src/host/adapters/palm-index.ts';
import { TemplateUpdater, type MatchForUpdate, type UpdateOutcome } from '../../src/host/adapters/template-updates.ts';
import { decodeTemplate, matchScore, DECISION_THRESHOLD, TEMPLATE_UPDATE_POLICY } from '../../src/biometrics/index.ts';
import { filePermissionsProtector } from '../../src/ledger/keyprotect.ts';
import { openTerminal, provisionTerminal, type Terminal } from '../../src/ledger/open.ts';
import { MalformedRecordError, parseBody, parseSignedRecord, type RecordBody } from '../../src/protocol/record.ts';
import { verifyRecordSignature } from '../../src/protocol/sign.ts';

function capture(identity: string, sample: number, shot: number): Template {
  const r = templateFromFrame(syntheticPalm(identity, sample, shot, 320, 240));
  if (!r.ok) throw new Error(`${identity}: failure to acquire (${r.reason})`);
  return r.template;
}
const enrolled = (id: string) => fuseCaptures([0, 1, 2].map((s) => ({ ...capture(`tu-${id}`, 1 + (s % 2), s), hand: 'left' as const })));

let dir: string;
let t: Terminal;
let idf: PalmIdentifier;
let operator: string | null = 'op-1';
const outcomes: UpdateOutcome[] = [];
const deps = () => ({ store: t.store, sealer: t.keys.sealer, file: join(dir, PALM_SNAPSHOT_FILE) });

function storeTemplate(personId: string, templateId: string, template: Template, provisional = false): void {
  const bytes = encodePalm(template);
  t.store.people.upsert({ personId, name: personId, idNumber: null, phone: null, employerId: null, status: 'active', updatedAtMs: 0 });
  t.store.templates.add({ templateId, personId, hand: 'left', sealed: t.keys.sealer.seal(bytes, templateId), digest: createHash('sha256').update(bytes).digest('hex'), provisional, createdAtMs: 0 });
}

/** Writes a slot straight into the store, as if the rule had admitted it (the guard test's premise). */
function plantSlot(templateId: string, personId: string, slot: Template, updateId: string): void {
  const bytes = encodePalm(slot);
  t.store.templateUpdates.replace(templateId, [...t.store.templateUpdates.byTemplate(templateId), { updateId, templateId, personId, sealed: t.keys.sealer.seal(bytes, updateId), digest: createHash('sha256').update(bytes).digest('hex'), createdAtMs: Date.now() }]);
}

function updateRecords(): Array<RecordBody & { type: 'template_update' }> {
  const rows = t.store.db.prepare(`SELECT body FROM journal WHERE type = 'template_update' ORDER BY seq`).pluck().all() as string[];
  return rows.map((b) => JSON.parse(b) as RecordBody & { type: 'template_update' });
}

function restart(): PalmIdentifier {
  const i = new PalmIdentifier();
  loadPalmIndex(i, deps());
  const updater = new TemplateUpdater({ terminal: t, operator: () => operator });
  i.onMatch = (m) => outcomes.push(updater.consider(m));
  return i;
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'palmpay-template-update-'));
  provisionTerminal(dir, 'T-TU', { protector: filePermissionsProtector() });
  t = openTerminal(dir, { protector: filePermissionsProtector() });
  for (const id of ['a', 'b', 'c']) storeTemplate(`p-${id}`, `tpl-${id}`, enrolled(id));
  storeTemplate('p-new', 'tpl-new', enrolled('new'), true); // not yet checked by the centre
  idf = restart();
});
afterAll(() => {
  t?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  outcomes.length = 0;
  operator = 'op-1';
});

/** A capture of `id` the rule finds confident, and fresh: sample 1, shot 3 or 5 (an enrolment shot again would be a copy, refused). */
const confident = (id: string, shot: 0 | 2) => capture(`tu-${id}`, 1, shot + 3);

describe('template update: attacks', () => {
  it("another person's palm presented as an update of A (poisoning) is refused: nothing stored, nothing signed", () => {
    const b = capture('tu-b', 2, 7);
    const claim: MatchForUpdate = { personId: 'p-a', entryId: 'tpl-a', probe: b, nearestOther: null, othersUnscored: false, enrolQuality: true };
    const u = new TemplateUpdater({ terminal: t, operator: () => 'op-1' }).consider(claim);
    expect(u).toEqual({ applied: false, reason: 'not-confident' });
    expect(t.store.templateUpdates.byTemplate('tpl-a')).toEqual([]);
    expect(updateRecords()).toEqual([]);
  });

  it('a morph between two enrolled palms (close to both) is refused as ambiguous even when it sits near A', () => {
    const a = confident('a', 0);
    const b = capture('tu-b', 1, 0);
    // Half of B's bits in A's capture: what a poisoning attacker would present to walk A's template toward B.
    const code = a.codes[0]!;
    const bcode = b.codes[0]!;
    const bits = Uint32Array.from(code.bits, (w, i) => (i % 2 ? bcode.bits[i]! : w));
    const morph: Template = { ...a, codes: [{ ...code, bits }] };
    const toB = matchScore(morph, decodeTemplate(t.keys.sealer.open(t.store.templates.get('tpl-b')!.sealed, 'tpl-b')));
    const u = new TemplateUpdater({ terminal: t, operator: () => 'op-1' }).consider({ personId: 'p-a', entryId: 'tpl-a', probe: morph, nearestOther: toB, othersUnscored: false, enrolQuality: true });
    expect(u.applied).toBe(false);
    expect(['ambiguous', 'not-confident']).toContain(u.applied ? '' : u.reason);
    expect(t.store.templateUpdates.byTemplate('tpl-a')).toEqual([]);
  });

  it('a slot planted with a stranger palm (an admission by mistake) never lets that palm in: the guard keeps stage 2 on the originals', () => {
    const strangerEnrol = capture('tu-stranger', 1, 0);
    const strangerProbe = capture('tu-stranger', 1, 1);
    // Without the guard the planted slot alone would accept the stranger: the test can fail.
    expect(matchScore(strangerProbe, strangerEnrol)).toBeLessThanOrEqual(DECISION_THRESHOLD);
    plantSlot('tpl-c', 'p-c', { ...strangerEnrol, hand: 'left' }, 'planted-1');
    operator = null; // C's own match below must not add a slot of its own
    try {
      expect(idf.identify(strangerProbe)).toEqual({ kind: 'no-match' });
      expect(idf.identify(capture('tu-c', 2, 7))).toEqual({ kind: 'match', personId: 'p-c' }); // C still C
    } finally {
      t.store.templateUpdates.replace('tpl-c', []);
    }
  });

  it('no update without a signed-in operator, for a provisional enrolment, or when other people were not scored', () => {
    operator = null;
    expect(idf.identify(confident('a', 0))).toEqual({ kind: 'match', personId: 'p-a' });
    expect(outcomes).toEqual([{ applied: false, reason: 'no-operator' }]);
    operator = 'op-1';
    const u = new TemplateUpdater({ terminal: t, operator: () => 'op-1' });
    expect(u.consider({ personId: 'p-new', entryId: 'tpl-new', probe: confident('new', 0), nearestOther: 0.45, othersUnscored: false, enrolQuality: true })).toEqual({ applied: false, reason: 'provisional' });
    expect(u.consider({ personId: 'p-a', entryId: 'tpl-a', probe: confident('a', 0), nearestOther: null, othersUnscored: true, enrolQuality: true })).toEqual({ applied: false, reason: 'others-unscored' });
    expect(u.consider({ personId: 'p-b', entryId: 'tpl-a', probe: confident('a', 0), nearestOther: null, othersUnscored: false, enrolQuality: true })).toEqual({ applied: false, reason: 'not-stored' });
    expect(u.consider({ personId: 'p-a', entryId: 'tpl-a', probe: confident('a', 0), nearestOther: 0.45, othersUnscored: false, enrolQuality: false })).toEqual({ applied: false, reason: 'quality' });
    // An enrolment shot presented again is that capture copied: it adds nothing and is refused.
    expect(u.consider({ personId: 'p-a', entryId: 'tpl-a', probe: capture('tu-a', 1, 0), nearestOther: 0.45, othersUnscored: false, enrolQuality: true })).toEqual({ applied: false, reason: 'copy' });
    expect(updateRecords()).toEqual([]);
  });
});

describe('template update: a confident genuine match', () => {
  it('keeps the capture as a sealed slot and signs a template_update record into the journal and the outbox', () => {
    const probe = confident('a', 0);
    expect(isEnrolGrade(probe)).toBe(true);
    expect(idf.identify(probe)).toEqual({ kind: 'match', personId: 'p-a' });
    expect(outcomes).toHaveLength(1);
    const u = outcomes[0]!;
    if (!u.applied) throw new Error(`not applied: ${u.reason}`);
    expect(u.anchorScore).toBeLessThanOrEqual(TEMPLATE_UPDATE_POLICY.strongScore);
    const slots = t.store.templateUpdates.byTemplate('tpl-a');
    expect(slots.map((s) => s.updateId)).toEqual([u.updateId]);
    const plain = t.keys.sealer.open(slots[0]!.sealed, u.updateId);
    expect(Buffer.from(slots[0]!.sealed).includes(Buffer.from(plain).subarray(0, 64))).toBe(false); // encrypted at rest
    expect(() => t.keys.sealer.open(slots[0]!.sealed, 'another-id')).toThrow(); // bound to its slot id

    const row = t.store.journal.get(u.seq)!;
    const rec = parseSignedRecord({ ...JSON.parse(row.body), hash: row.hash, sig: row.sig });
    expect(verifyRecordSignature(rec, t.keys.publicKey)).toBe(true);
    expect(rec).toMatchObject({
      type: 'template_update', operatorId: 'op-1', updateId: u.updateId, personId: 'p-a', hand: 'left', pinVerified: false,
      enrolledDigest: t.store.templates.get('tpl-a')!.digest, captureDigest: createHash('sha256').update(plain).digest('hex'), anchorScore: Math.round(u.anchorScore * 1e4),
    });
    expect('replaces' in rec).toBe(false);
    expect(t.store.db.prepare('SELECT seq FROM outbox').pluck().all()).toContain(u.seq);
  });

  it('is bounded: two slots, a third admitted capture replaces the oldest and the record says so', () => {
    for (const probe of [capture('tu-a', 2, 4), capture('tu-a', 1, 6)]) expect(idf.identify(probe)).toEqual({ kind: 'match', personId: 'p-a' });
    const applied = outcomes.filter((o): o is Extract<UpdateOutcome, { applied: true }> => o.applied);
    expect(applied).toHaveLength(2);
    const slots = t.store.templateUpdates.byTemplate('tpl-a');
    expect(slots).toHaveLength(TEMPLATE_UPDATE_POLICY.slots);
    expect(slots.at(-1)!.updateId).toBe(applied[1]!.updateId);
    const recs = updateRecords();
    expect(recs.map((r) => r.replaces ?? null)).toEqual([null, null, 0]);
  });

  it('slots survive a restart through the sealed snapshot, and go with the person', () => {
    writePalmSnapshot(idf, deps());
    idf = restart();
    expect(idf.identify(capture('tu-a', 2, 7))).toEqual({ kind: 'match', personId: 'p-a' });
    expect(t.store.templateUpdates.byTemplate('tpl-a')).toHaveLength(2);
    t.store.templates.deletePerson('p-a');
    expect(t.store.templateUpdates.byTemplate('tpl-a')).toEqual([]);
  });
});

describe('template_update record', () => {
  const base = {
    v: 1, type: 'template_update', terminalId: 'T-1', seq: 5, prevHash: 'a'.repeat(64), operatorId: 'op-1', hlc: { ms: 1, c: 0 }, serverTime: { ms: 0, ref: '' },
    updateId: 'u-1', personId: 'p-1', hand: 'left', enrolledDigest: 'b'.repeat(64), captureDigest: 'c'.repeat(64), anchorScore: 2500, pinVerified: false,
  };
  it('a PIN claim names the earlier record that checked it, and nothing else says PIN', () => {
    expect(parseBody(base).type).toBe('template_update');
    expect(parseBody({ ...base, pinVerified: true, pinSeq: 4 }).type).toBe('template_update');
    expect(() => parseBody({ ...base, pinVerified: true })).toThrow(MalformedRecordError);
    expect(() => parseBody({ ...base, pinSeq: 4 })).toThrow(MalformedRecordError);
    expect(() => parseBody({ ...base, pinVerified: true, pinSeq: 5 })).toThrow(MalformedRecordError);
    expect(() => parseBody({ ...base, anchorScore: 0.25 })).toThrow(MalformedRecordError);
  });
});
