// Template update slots end to end through the real link (issue 19): counter 1 admits a capture (TemplateUpdater:
// sealed slot + signed record + queued capture), the sync engine sends the record then the capture, the centre
// re-decides and applies it, and the `template_slots` feed event brings the slot to counter 2 of the region, whose
// 1:N identification then uses it. Attack first: a feed event changed on the way (a capture of the attacker's
// palm slipped into the slots, or a whole event added) is refused with the page, and nothing is stored.
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matchScore } from '../../src/biometrics/match.ts';
import { DECISION_THRESHOLD } from '../../src/biometrics/config.ts';
import { PalmIdentifier } from '../../src/host/adapters/palm.ts';
import { enrolStoredRow } from '../../src/host/adapters/palm-index.ts';
import { TemplateUpdater } from '../../src/host/adapters/template-updates.ts';
import { sealFor } from '../../src/protocol/crypto.ts';
import { startServer, type RunningServer } from '../../src/server/index.ts';
import { slotsOf } from '../../src/server/template-slots.ts';
import { CentreClient, createSync, pendingCaptures } from '../../src/sync/index.ts';
import { pullFeed } from '../../src/sync/feed.ts';
import { enrolCustomer, registeredTerminal } from '../server/helpers.ts';

import { bytesOf, capture, randomCode, tpl } from '../support/synthetic-codes.ts';
import { realCounter, type RealCounter } from '../support/counter.ts';
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

const palmA = randomCode(1);
const palmB = randomCode(2);
const enrolledA = tpl(palmA);
// The admitted capture: confidently A (0.254 from the enrolment), yet a pose the enrolment missed. The probe: a
// later capture near it that the enrolment alone rejects (0.322 > the decision threshold) and the slot accepts.
const update = tpl(capture(palmA, 0.5, 31));
const probe = tpl(capture(update.codes[0]!, 0.3, 41));

type Counter = RealCounter;

let root: string;
let server: RunningServer;
let c1: Counter;
let c2: Counter;

const counter = (id: string): Promise<Counter> => realCounter(server, root, id);

/** A counter's 1:N identifier over its stored rows (as the kiosk's, which reads a template's slots at stage 2). */
function identifierOf(c: Counter): PalmIdentifier {
  const identifier = new PalmIdentifier();
  for (const r of c.store.templates.listIndex()) enrolStoredRow(identifier, { store: c.store, sealer: c.keys.sealer, file: join(c.dir, 'palm-index.snap') }, r.templateId, r.personId);
  return identifier;
}

const clientOf = (c: Counter) =>
  new CentreClient({ baseUrl: server.url, credentials: { terminalId: c.id, sign: (m) => c.keys.signer.sign(m) }, serverPublicKey: server.central.identity.publicKeyHex });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'palmpay-slots-'));
  server = await startServer({ db: `sqlite:${join(root, 'centre.db')}`, port: 0 });
  c1 = await counter('SHOP-1');
  c2 = await counter('SHOP-2');
  expect((await enrolCustomer(server.central, await registeredTerminal(server.central, 'T0', { region: 'R1' }), 'PA', 'AA', bytesOf(enrolledA))).registry.status).toBe('confirmed');
  for (const c of [c1, c2]) await createSync({ store: c.store, serverUrl: server.url, keys: c.keys, ledger: c.ledger }).pullFeed();
  expect(matchScore(enrolledA, probe)).toBeGreaterThan(DECISION_THRESHOLD);
});
afterAll(async () => {
  for (const c of [c1, c2]) c?.store.close();
  await server?.close();
  rmSync(root, { recursive: true, force: true });
});

describe('template update slots through the link', () => {
  it('counter 1 admits a capture; the centre applies it after the record; counter 1 keeps the centre\'s slot', async () => {
    const [row] = c1.store.templates.byPerson('PA');
    expect(identifierOf(c2).identify(probe).kind).toBe('no-match'); // before: the enrolment alone rejects the probe
    const u = new TemplateUpdater({ terminal: { store: c1.store, keys: c1.keys, ledger: c1.ledger, close: () => undefined }, operator: () => 'op-1' })
      .consider({ personId: 'PA', entryId: row!.templateId, probe: { ...update, hand: 'unknown' }, nearestOther: null, othersUnscored: false, enrolQuality: true });
    expect(u).toMatchObject({ applied: true });
    expect(pendingCaptures(c1.store)).toHaveLength(1);
    const sync = createSync({ store: c1.store, serverUrl: server.url, keys: c1.keys, ledger: c1.ledger });
    sync.start();
    await sync.drained(20_000);
    await sync.pullFeed(); // sends the capture, then pulls the centre's decision
    await sync.stop();
    expect(pendingCaptures(c1.store)).toEqual([]);
    const centre = await server.central.repo.tx((r) => slotsOf(r.conn, 'PA', sha(bytesOf(enrolledA))));
    expect(centre.map((s) => s.digest)).toEqual([sha(bytesOf({ ...update, hand: 'left' }))]);
    const mine = c1.store.templateUpdates.byTemplate(row!.templateId);
    expect(mine.map((s) => s.updateId)).toEqual(centre.map((s) => s.update_id));
  });

  it('attack: a forged template_slots event (the attacker\'s palm slipped in, or an event added) is refused with its page; nothing is stored', async () => {
    const real = clientOf(c2);
    const before = c2.store.settings.get<number>('sync.feedCursor');
    const attacker = bytesOf(tpl(capture(palmB, 0.05, 91)));
    const encPub = (await server.central.repo.tx((r) => r.getTerminal('SHOP-2')))!.enc_key!;
    const forgeries: Array<(e: Array<{ kind: string; key: string; seq: number; data: Record<string, unknown> }>) => void> = [
      // B's capture sealed for this very counter (its X25519 key is public) in place of the admitted one
      (events) => {
        const e = events.find((x) => x.kind === 'template_slots')!;
        const slots = e.data.slots as Array<{ updateId: string; digest: string; sealed: string }>;
        e.data.slots = slots.map((s) => ({ ...s, digest: sha(attacker), sealed: sealFor(encPub, attacker) }));
      },
      // a whole event added for A's template
      (events) => {
        events.push({ kind: 'template_slots', key: 'PA#0', seq: events.length ? events[events.length - 1]!.seq + 1 : 1, data: { personId: 'PA', enrolledDigest: sha(bytesOf(enrolledA)), slots: [{ updateId: 'U-evil', digest: sha(attacker), sealed: sealFor(encPub, attacker) }] } });
      },
    ];
    for (const forge of forgeries) {
      const client = {
        feed: async (cursor: number, limit?: number) => {
          const page = await real.feed(cursor, limit);
          forge(page.events as never);
          return page;
        },
      };
      await expect(pullFeed({ store: c2.store, client, terminalId: 'SHOP-2', sealer: c2.keys.sealer })).rejects.toMatchObject({ code: expect.stringMatching(/^FEED_/) });
      expect(c2.store.templateUpdates.count()).toBe(0);
      expect(c2.store.settings.get<number>('sync.feedCursor')).toBe(before);
      expect(identifierOf(c2).identify(tpl(capture(palmB, 0.1, 92))).kind).toBe('no-match');
    }
  });

  it('counter 2 of the region receives the slot, sealed at rest, and identifies the later capture with it', async () => {
    await createSync({ store: c2.store, serverUrl: server.url, keys: c2.keys, ledger: c2.ledger }).pullFeed();
    const [row] = c2.store.templates.byPerson('PA');
    const slots = c2.store.templateUpdates.byTemplate(row!.templateId);
    expect(slots).toHaveLength(1);
    const plain = bytesOf({ ...update, hand: 'left' });
    expect(Buffer.from(slots[0]!.sealed).includes(plain.subarray(16, 80))).toBe(false); // sealed, not plain
    expect(Buffer.from(c2.keys.sealer.open(slots[0]!.sealed, slots[0]!.updateId)).equals(plain)).toBe(true);
    expect(identifierOf(c2).identify(probe)).toEqual({ kind: 'match', personId: 'PA' });
    // The slot never lets in a palm the enrolment rejects outright (the guard).
    expect(identifierOf(c2).identify(tpl(capture(palmB, 0.1, 93))).kind).toBe('no-match');
  });

  it('a counter registered after the update gets the slot with the person at its first pull', async () => {
    const late = await counter('SHOP-3');
    try {
      await createSync({ store: late.store, serverUrl: server.url, keys: late.keys, ledger: late.ledger }).pullFeed();
      const [row] = late.store.templates.byPerson('PA');
      expect(late.store.templateUpdates.byTemplate(row!.templateId).map((s) => s.digest)).toEqual([sha(bytesOf({ ...update, hand: 'left' }))]);
      expect(identifierOf(late).identify(probe)).toEqual({ kind: 'match', personId: 'PA' });
    } finally {
      late.store.close();
    }
  });
});
