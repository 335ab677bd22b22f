// The feed puller: fetches the centre's delta feed page by page and applies each page to the terminal store in
// one transaction (with the cursor), so a crash or a dropped link never leaves half a page applied.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { openSealed, verifyTime, type SignedTime } from '../protocol/crypto.ts';
import { verifyFeedPage } from '../protocol/feed-page.ts';
import { OperatorGrant, TerminalLimits, type FeedResponse } from '../protocol/schemas.ts';
import type { OfflineLimits } from '../ledger/limits.ts';
import type { Sealer } from '../ledger/sealer.ts';
import type { Currency } from '../protocol/record.ts';
import type { Store } from '../store/store.ts';
import type { CentreClient } from './client.ts';
import { PalmPayError } from '../util/errors.ts';
import { SETTING as LEDGER_SETTING } from '../ledger/ledger.ts';
import { LocalTrust, noteTrustedSync, TrustedCentreCopies } from '../ledger/local-trust.ts';
import { AmountMinor, CurrencyCode, Hex32, Id, ModuleFamily, PinVerifier } from '../protocol/record.ts';
import { moduleFeatureBinding } from '../store/module-features.ts';
import { checkFeatureFor } from '../../drivers/serial-module/feature-families.ts';
import { PinVersion } from '../protocol/pin-verifier.ts';

/** One enrolled template's update slots as the centre sends them (issue 19; src/server/template-slots.ts). */
const TemplateSlots = z.object({
  personId: Id,
  enrolledDigest: Hex32,
  /** Oldest first; each capture sealed for this terminal's X25519 key, with the SHA-256 of its plaintext. */
  slots: z.array(z.object({ updateId: Id, digest: Hex32, sealed: z.string().max(40_000) })).max(8),
});

/** A bill event's data as the centre publishes it (billFeed in src/server/billing/payments.ts). */
const BillEvent = z.object({
  billerId: Id,
  billId: z.string().min(1).max(64),
  subscriber: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9/-]{0,31}$/),
  cycle: z.string().min(1).max(64),
  amountMinor: AmountMinor,
  currency: CurrencyCode,
  dueDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
  previousReading: z.number().int().min(0),
  currentReading: z.number().int().min(0),
  status: z.enum(['open', 'paid', 'cancelled']),
});

/** A subscriber link's data as the centre publishes it (linkFeed in src/server/billing/billing.ts). */
const LinkEvent = z.object({
  billerId: Id,
  subscriber: BillEvent.shape.subscriber,
  payerKind: z.enum(['person', 'account']),
  payerId: Id,
  status: z.enum(['linked', 'unlinked']),
});

export const SETTINGS = {
  terminalId: 'sync.terminalId',
  certificate: 'sync.certificate',
  serverPublicKey: 'sync.serverPublicKey',
  encKey: 'sync.encPrivateKey',
  cursor: 'sync.feedCursor',
  serverTime: 'sync.serverTime',
  feedAt: 'sync.feedAtMs',
  revoked: 'sync.revokedTerminals',
} as const;

export interface FeedOptions {
  store: Store;
  /** `feed` answers a page and the signature of the request it sent (the page's proof is bound to it). */
  client: Pick<CentreClient, 'feed'>;
  terminalId: string;
  /** Re-seals templates under the terminal's data key (src/ledger/sealer.ts); without it templates are not stored. */
  sealer?: Sealer;
  now?: () => number;
  /** Lease and allowance lifetimes written locally (the centre moves leases explicitly; this is a safety net). */
  leaseTtlMs?: number;
  allowanceTtlMs?: number;
  /** Applies the offline limits the centre set for this terminal (the ledger seals and anchors them); without it they are ignored. */
  onLimits?: (limits: OfflineLimits) => void;
  /** Applies an operator's role the centre granted here (the ledger seals and anchors it); without it, ignored. */
  onOperatorGrant?: (grant: OperatorGrant) => void;
  /**
   * A customer's PIN verifier (`customer_pin`, or with a `person`) and the version of the record that set it (null
   * from a centre that sends none): the ledger stores it sealed unless it holds a later PIN (Ledger.applyCustomerPin).
   */
  onCustomerPin?: (personId: string, pinHash: string, version: PinVersion | null) => void;
  /**
   * The centre withdrew a salary lease (a lease move): inside the page's transaction the ledger drops it and, unless
   * this terminal paid the voucher, signs the `lease_release` that lets the centre grant it elsewhere
   * (Ledger.releaseLease). Without it the lease is only dropped, and the move waits.
   */
  onLeaseWithdrawn?: (voucherId: string, leaseId: string) => void;
  /** A palm module feature in the feed refused (its digest, family or format): nothing of it is kept; for the log. */
  onModuleFeatureRefused?: (personId: string, code: string, message: string) => void;
  /** Told after each page commits which enrolled palms it changed (the kiosk's 1:N index follows the store). */
  onPalms?: (c: PalmChanges) => void;
}

const FeedModuleFeature = z.object({ family: ModuleFamily, digest: Hex32, sealed: z.string() });

function applyModuleFeature(o: FeedOptions, encKey: string, personId: string, raw: unknown, nowMs: number): void {
  const refuse = (code: string, message: string) => o.onModuleFeatureRefused?.(personId, code, message);
  const f = FeedModuleFeature.safeParse(raw);
  if (!f.success) return refuse('MODULE_FEATURE_MALFORMED', 'a module feature in the feed is malformed');
  const { family, digest } = f.data;
  const held = o.store.moduleFeatures.get(personId, family);
  if (held?.digest === digest) return; // the counter that enrolled the person holds it already (or delivered before)
  let plain: Uint8Array;
  try {
    plain = openSealed(encKey, f.data.sealed);
    checkFeatureFor(family, family, plain);
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return refuse(e.code ?? 'MODULE_FEATURE_UNSEAL_FAILED', e.message ?? String(err));
  }
  if (createHash('sha256').update(plain).digest('hex') !== digest) return refuse('MODULE_FEATURE_DIGEST_MISMATCH', `the ${family} module feature of ${personId} does not match the digest its enrolment record pinned`);
  o.store.moduleFeatures.put({ personId, family, sealed: o.sealer!.seal(plain, moduleFeatureBinding(personId, family)), digest, createdAtMs: nowMs });
}

/** Palm templates a committed feed page changed: rows added, and people whose templates were revoked (rows deleted). */
export interface PalmChanges {
  added: Array<{ templateId: string; personId: string }>;
  revoked: string[];
}

export interface FeedPullResult {
  events: number;
  pages: number;
  cursor: number;
  time: SignedTime | undefined;
}

/** Pulls every page available now. Each page (events + cursor + server time) is applied atomically. */
export async function pullFeed(o: FeedOptions, onPage?: (p: { events: number; cursor: number }) => void): Promise<FeedPullResult> {
  const now = o.now ?? Date.now;
  let cursor = o.store.settings.get<number>(SETTINGS.cursor) ?? 0;
  let events = 0;
  let pages = 0;
  let time: SignedTime | undefined;
  for (;;) {
    const page = await o.client.feed(cursor);
    // Nothing in a page is applied unless the centre key pinned at registration signed it, for this terminal,
    // in answer to this very request, continuing our cursor (src/protocol/feed-page.ts).
    const serverKey = o.store.settings.get<string>(SETTINGS.serverPublicKey);
    verifyFeedPage(serverKey, page, { terminalId: o.terminalId, cursor, request: page.request });
    if (!verifyTime(serverKey!, page.time)) throw new PalmPayError('SYNC_TIME_FORGED', 'the feed’s server time is not signed by the centre');
    const palms: PalmChanges = { added: [], revoked: [] };
    o.store.transaction(() => {
      for (const e of page.events) applyEvent(o, e, now(), palms);
      o.store.settings.set(SETTINGS.cursor, page.cursor);
      o.store.settings.set(SETTINGS.serverTime, page.time);
      // The ledger stamps every record with the last server-signed time it saw (its ref is the signature).
      const seen = o.store.settings.get<{ ms: number }>(LEDGER_SETTING.serverTime);
      if (!seen || seen.ms <= page.time.ms) o.store.settings.set(LEDGER_SETTING.serverTime, { ms: page.time.ms, ref: page.time.sig });
      if (!page.more) {
        o.store.settings.set(SETTINGS.feedAt, now());
        // Sealed under the data key: offline limits believe no other last-sync time (local-trust.ts).
        if (o.sealer) noteTrustedSync(o.store, new LocalTrust({ sealer: o.sealer, terminalId: o.terminalId }), now());
        else o.store.settings.set(LEDGER_SETTING.lastSyncMs, now());
      }
    });
    if (o.onPalms && (palms.added.length > 0 || palms.revoked.length > 0)) o.onPalms(palms);
    cursor = page.cursor;
    events += page.events.length;
    pages++;
    time = page.time;
    onPage?.({ events: page.events.length, cursor });
    if (!page.more) break;
  }
  return { events, pages, cursor, time };
}

type Event = FeedResponse['events'][number];

function applyEvent(o: FeedOptions, e: Event, nowMs: number, palms: PalmChanges): void {
  const s = o.store;
  const d = e.data as Record<string, unknown>;
  // Stored sealed under the data key: the ledger pays and allows only rows with this terminal's seal. Without
  // a sealer (tests of the feed alone) rows are stored unsealed, and the ledger refuses them.
  const copies = o.sealer ? new TrustedCentreCopies(s, new LocalTrust({ sealer: o.sealer, terminalId: o.terminalId })) : undefined;
  switch (e.kind) {
    case 'voucher':
      (copies ? copies.putVoucher.bind(copies) : s.vouchers.upsert.bind(s.vouchers))({
        voucherId: String(d.voucherId), personId: String(d.personId), accountId: String(d.accountId ?? d.personId), period: String(d.period),
        amountMinor: Number(d.amountMinor), currency: d.currency as Currency, status: 'open', updatedAtMs: nowMs,
      });
      (copies ? copies.putLease.bind(copies) : s.vouchers.upsertLease.bind(s.vouchers))({ voucherId: String(d.voucherId), leaseId: String(d.leaseId), terminalId: o.terminalId, grantedAtMs: nowMs, expiresAtMs: nowMs + (o.leaseTtlMs ?? 90 * 86_400_000) });
      return;
    case 'terminal_limits': {
      // Inside the page's transaction: the limits are stored with the rest of the page or not at all.
      const limits = TerminalLimits.safeParse(d.limits);
      if (d.terminalId !== o.terminalId || !limits.success) throw new PalmPayError('FEED_LIMITS_INVALID', `the centre's offline limits for ${String(d.terminalId)} are not for this terminal or malformed`);
      o.onLimits?.(limits.data);
      return;
    }
    case 'operator_grant': {
      // Like the limits: inside the page's transaction, only from a page the centre signed for this terminal.
      const { terminalId, ...rest } = d as Record<string, unknown>;
      const grant = OperatorGrant.safeParse(rest);
      if (terminalId !== o.terminalId || !grant.success) throw new PalmPayError('FEED_OPERATOR_INVALID', `the centre's operator grant for ${String(terminalId)} is not for this terminal or malformed`);
      o.onOperatorGrant?.(grant.data);
      return;
    }
    case 'voucher_withdrawn': {
      // Given back only when a record can name it: a voucher id no record may carry (no counter can pay it either)
      // would make the release throw, and with it this page and every page after it, for ever.
      const leaseId = Id.safeParse(d.leaseId);
      const voucherId = Id.safeParse(d.voucherId);
      if (o.onLeaseWithdrawn && leaseId.success && voucherId.success) o.onLeaseWithdrawn(voucherId.data, leaseId.data);
      else s.vouchers.dropLease(String(d.voucherId));
      return;
    }
    case 'allowance':
      (copies ? copies.grantAllowance.bind(copies) : s.allowances.grant.bind(s.allowances))({
        customerId: String(d.customerId ?? d.accountId), currency: d.currency as Currency, limitMinor: Number(d.amountMinor),
        grantedAtMs: nowMs, expiresAtMs: nowMs + (o.allowanceTtlMs ?? 7 * 86_400_000), asOfSeq: Number(d.asOfSeq ?? 0),
        balanceMinor: Number.isSafeInteger(d.balanceMinor) ? (d.balanceMinor as number) : null, // shown on the statement
      });
      return;
    case 'person': {
      const p = (d.person ?? {}) as { name?: string; idNumber?: string; phone?: string; employerId?: string; accountId?: string };
      const personId = String(d.personId);
      // An account has one owner: an event binding an already bound account to someone else is ignored whole.
      const bound = typeof d.accountId === 'string' ? s.people.getAccount(d.accountId) : undefined;
      if (bound && bound.personId !== personId) return;
      s.people.upsert({ personId, name: p.name ?? personId, idNumber: p.idNumber ?? null, phone: p.phone ?? null, employerId: p.employerId ?? null, status: 'active', updatedAtMs: nowMs });
      if (typeof d.accountId === 'string') s.people.upsertAccountRow({ accountId: d.accountId, personId, currency: 'SYP', status: 'active', updatedAtMs: nowMs });
      const pin = customerPinOf(d);
      if (pin) o.onCustomerPin?.(personId, pin.pinHash, pin.version);
      const stored = s.settings.get<string | { sealed: string }>(SETTINGS.encKey);
      if (!o.sealer || !stored) return;
      const encKey = typeof stored === 'string' ? stored : Buffer.from(o.sealer.open(Buffer.from(stored.sealed, 'base64'), SETTINGS.encKey)).toString('base64');
      const hands = (d.hands ?? []) as Array<'left' | 'right'>;
      const templateSlots = Array.isArray(d.templateSlots) ? (d.templateSlots as Array<Record<string, unknown>>) : [];
      // The counter that enrolled the person already holds these templates (under its own ids): a second copy
      // would count the person twice in the 1:N index and split their update slots, so only the flag changes.
      const held = new Set(s.templates.byPerson(personId).map((t) => t.digest));
      ((d.templates ?? []) as string[]).forEach((sealed, i) => {
        const templateId = `${personId}#${i}`;
        if (s.templates.get(templateId)) return; // delivered before
        const plain = openSealed(encKey, sealed);
        const digest = createHash('sha256').update(plain).digest('hex');
        if (held.has(digest)) return;
        s.templates.add({ templateId, personId, hand: hands[i] ?? hands[0] ?? 'left', sealed: o.sealer!.seal(plain, templateId), digest, provisional: false, createdAtMs: nowMs });
        palms.added.push({ templateId, personId });
      });
      s.templates.confirm(personId); // the centre's duplicate check passed: none of this person's templates is provisional
      // Palm module features (issue 14 §2): each kept only if it hashes to the digest the enrolment record pinned
      // (the centre sends that digest) and a module of its family could take it; else refused and nothing kept.
      for (const f of Array.isArray(d.moduleFeatures) ? (d.moduleFeatures as unknown[]) : []) applyModuleFeature(o, encKey, personId, f, nowMs);
      // Update slots the centre admitted before this terminal learnt of the person come with the templates.
      for (const t of templateSlots) applyTemplateSlots(o, encKey, { ...t, personId }, nowMs);
      return;
    }
    case 'template_slots': {
      // A template's update slots, re-decided and admitted by the centre (issue 19): they replace this terminal's
      // own slots of that template, so every counter of the region matches against the same ones.
      const stored = s.settings.get<string | { sealed: string }>(SETTINGS.encKey);
      if (!o.sealer || !stored) return;
      const encKey = typeof stored === 'string' ? stored : Buffer.from(o.sealer.open(Buffer.from(stored.sealed, 'base64'), SETTINGS.encKey)).toString('base64');
      applyTemplateSlots(o, encKey, d, nowMs);
      return;
    }
    case 'person_revoked': {
      const p = s.people.get(String(d.personId));
      if (p) s.people.upsert({ ...p, status: 'blocked', updatedAtMs: nowMs });
      // A revoked enrolment (e.g. a duplicate of another person) must not be identified any more, here or after a
      // restart: its templates leave the store in the same transaction, and the index is told after the commit.
      s.templates.deletePerson(String(d.personId));
      // Their module features too: a module that matches on its own loses the user at the next sync (host/module-sync.ts).
      s.moduleFeatures.deletePerson(String(d.personId));
      palms.revoked.push(String(d.personId));
      return;
    }
    case 'bill': {
      // A bill the region's biller issued (open), or its end (paid anywhere, or withdrawn): see src/server/billing.
      const b = BillEvent.safeParse(d);
      if (!b.success) return; // signed, yet not a bill this terminal understands: skipped like an unknown kind
      const x = b.data;
      if (x.status === 'open') {
        s.bills.upsertOpen({
          billerId: x.billerId, billId: x.billId, subscriber: x.subscriber, cycle: x.cycle, amountMinor: x.amountMinor, currency: x.currency,
          dueDate: x.dueDate, previousReading: x.previousReading, currentReading: x.currentReading, receivedAtMs: nowMs,
        });
      } else s.bills.remove(x.billerId, x.billId, x.subscriber, nowMs, { cycle: x.cycle, currentReading: x.currentReading });
      return;
    }
    case 'subscriber_link': {
      // Who may pay a subscriber number: stored sealed (only a verified page gets here), so the bill flow can refuse
      // an unlinked payer offline. Without the terminal's sealer the row is kept unsealed and links nobody.
      const l = LinkEvent.safeParse(d);
      if (!l.success) return;
      const { status, ...link } = l.data;
      if (status === 'unlinked') s.bills.removeLink(link);
      else if (copies) copies.putLink({ ...link, receivedAtMs: nowMs });
      else s.bills.putLink({ ...link, receivedAtMs: nowMs, seal: null });
      return;
    }
    case 'customer_pin': {
      // A PIN set at a supervised counter (issue 17f), from a page the centre signed: only a verifier, never a PIN.
      const pin = customerPinOf(d);
      if (typeof d.personId === 'string' && pin) o.onCustomerPin?.(d.personId, pin.pinHash, pin.version);
      return;
    }
    case 'terminal_revoked': {
      const list = new Set(s.settings.get<string[]>(SETTINGS.revoked) ?? []);
      list.add(String(d.terminalId));
      s.settings.set(SETTINGS.revoked, [...list].sort());
      return;
    }
    default:
      return; // an event kind from a newer centre: skipped, the cursor still moves
  }
}

/**
 * Stores one template's slots from a verified page: each capture opened with the terminal's X25519 key, checked
 * against its digest, and sealed under the data key bound to its update id (as the counter's own slots are). A
 * malformed event, or a capture that is not what its digest says, stops the page (typed): the centre signed it, so
 * it is a fault to look at, never something to half-apply. A template this terminal does not hold is skipped.
 */
function applyTemplateSlots(o: FeedOptions, encKey: string, data: unknown, nowMs: number): void {
  const parsed = TemplateSlots.safeParse(data);
  if (!parsed.success) throw new PalmPayError('FEED_SLOTS_INVALID', `a template_slots event is malformed: ${parsed.error.issues[0]?.message ?? ''}`);
  const { personId, enrolledDigest, slots } = parsed.data;
  const row = o.store.templates.byPerson(personId).find((t) => t.digest === enrolledDigest);
  if (!row || !o.sealer) return;
  const rows = slots.map((x) => {
    const plain = openSealed(encKey, x.sealed);
    if (createHash('sha256').update(plain).digest('hex') !== x.digest) throw new PalmPayError('FEED_SLOTS_INVALID', `update slot ${x.updateId} of ${personId} does not match its digest`);
    return { updateId: x.updateId, templateId: row.templateId, personId, sealed: o.sealer!.seal(plain, x.updateId), digest: x.digest, createdAtMs: nowMs };
  });
  o.store.templateUpdates.replace(row.templateId, rows);
}

export interface FeedFreshness {
  ageMs: number | null;
  stale: boolean;
  /** Multiplier for offline limits: 1 while fresh, 0.5 past the maximum age, 0 past twice the maximum age. */
  limitFactor: number;
  message: string;
}

/** How old the last complete feed is, and how much that tightens the offline limits. Pure. */
export function feedFreshness(lastFeedAtMs: number | undefined, nowMs: number, maxAgeMs: number): FeedFreshness {
  if (lastFeedAtMs === undefined) return { ageMs: null, stale: true, limitFactor: 0, message: 'never synced with the centre: offline purchases need the link' };
  const ageMs = Math.max(0, nowMs - lastFeedAtMs);
  if (ageMs <= maxAgeMs) return { ageMs, stale: false, limitFactor: 1, message: 'up to date' };
  const hours = Math.round(ageMs / 3600_000);
  if (ageMs <= 2 * maxAgeMs) return { ageMs, stale: true, limitFactor: 0.5, message: `last sync ${hours} h ago: offline limits halved until the link returns` };
  return { ageMs, stale: true, limitFactor: 0, message: `last sync ${hours} h ago: offline purchases refused until the link returns` };
}

/** An offline limit after tightening for feed age (minor units, rounded down). Pure. */
export function tightenLimit(limitMinor: number, f: FeedFreshness): number {
  return Math.floor(limitMinor * f.limitFactor);
}

/**
 * The PIN verifier an event carries and its version, or undefined when it carries none or a malformed one. No version
 * (a centre from before) is null, the oldest; a version that does not parse drops the verifier rather than be taken for it.
 */
function customerPinOf(d: Record<string, unknown>): { pinHash: string; version: PinVersion | null } | undefined {
  const pinHash = PinVerifier.safeParse(d.pinHash);
  if (!pinHash.success) return undefined;
  if (d.pinVersion === undefined) return { pinHash: pinHash.data, version: null };
  const version = PinVersion.safeParse(d.pinVersion);
  return version.success ? { pinHash: pinHash.data, version: version.data } : undefined;
}
