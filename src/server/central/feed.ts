// The delta feed: what the centre publishes to terminals (people, vouchers, allowances, revocations) and the
// signed page a terminal pulls, with templates sealed for that terminal alone.
import { sealFor, type SignedTime } from '../../protocol/crypto.ts';
import { eventsDigest, signFeedPage, type FeedPageProof } from '../../protocol/feed-page.ts';
import { account } from '../postings.ts';
import { CUSTOMER_PIN_FEED, storedCustomerPin } from '../customer-pins.ts';
import { slotsOf, TEMPLATE_SLOTS_FEED } from '../template-slots.ts';
import type { RepoTx, TerminalRow } from '../repo.ts';
import type { CentreContext } from './context.ts';

export const FEED_PAGE = 500;

export interface FeedEvent {
  seq: number;
  kind: string;
  key: string;
  data: Record<string, unknown>;
}

export interface FeedPage {
  events: FeedEvent[];
  cursor: number;
  more: boolean;
  time: SignedTime;
  proof: FeedPageProof;
}

export class Feed {
  /** The background catch-up in progress, and when the last one started (wall clock). */
  private catchingUp: Promise<void> | undefined;
  private caughtUpAt = 0;

  constructor(private readonly ctx: CentreContext) {}

  /**
   * Publishes rows a process left without a position (it died between its commit and its publish), in the
   * background and at most once a second: a reader never waits for it (under an upload burst it waited behind the
   * publisher's queue). Such rows get positions after every cursor handed out, so a later page still has them.
   */
  private catchUpInBackground(): void {
    if (this.catchingUp || Date.now() - this.caughtUpAt < 1000) return;
    this.caughtUpAt = Date.now();
    this.catchingUp = this.ctx.repo
      .catchUp('feed')
      .catch(() => undefined)
      .finally(() => (this.catchingUp = undefined));
  }

  /** The delta feed for one terminal after `cursor`: up to FEED_PAGE events, templates sealed for that terminal. */
  async page(terminal: TerminalRow, cursor: number, limit = FEED_PAGE, request = ''): Promise<FeedPage> {
    const { repo, now } = this.ctx;
    this.catchUpInBackground();
    // The terminal's last contact, beside the read, not in its path (skipped while its upload holds the row).
    void repo.read((r) => r.touchTerminalUnlessBusy(terminal.id, now())).catch(() => undefined);
    // Statement by statement (Repo.read): a person superseded between the page and its lookup is skipped, as before.
    const rows = await repo.read(async (r) => {
      const page = await r.feedSince(['all', `region:${terminal.region}`, `terminal:${terminal.id}`], cursor, limit + 1);
      const out: FeedEvent[] = [];
      for (const f of page.slice(0, limit)) {
        const data = JSON.parse(f.data) as Record<string, unknown>;
        if (f.kind === 'person') {
          const p = await r.getPerson(f.key);
          if (!p || p.status !== 'confirmed') continue; // superseded since
          // Who the person is comes from the signed enrolment record; templates are sealed for this terminal only.
          const enrolment = await r.getRecord(p.terminal_id, Number(p.seq));
          const body = enrolment ? (JSON.parse(enrolment.body) as { person: Record<string, unknown>; hands: string[]; moduleFeature?: { family: string; digest: string } }) : undefined;
          // The palm module feature the record pinned (issue 14 §2), sealed for this terminal like the templates,
          // with the digest the signed record pinned (not the row's), which the terminal checks before keeping it.
          const pinned = body?.moduleFeature;
          const kept = pinned && (await r.moduleFeatureOf(p.id, pinned.family));
          if (!p.templates && !kept) continue; // no palm (yet): nothing a counter could identify them by
          data.person = body?.person ?? {};
          data.hands = body?.hands ?? [];
          data.templates = this.ctx.templatesOf(p).map((t) => sealFor(terminal.enc_key!, t)); // none for a template-less enrolment
          if (pinned && kept) data.moduleFeatures = [{ family: pinned.family, digest: pinned.digest, sealed: sealFor(terminal.enc_key!, this.ctx.openModuleFeature(p.id, pinned.family, kept.sealed)) }];
          // The PIN set at a counter, if any: a terminal that learns of the person after the PIN's own event gets it
          // here, with the version it orders it by (a counter keeps a PIN set there later than this one).
          const pin = await storedCustomerPin(r.conn, p.id);
          if (pin) Object.assign(data, pin);
          // Update slots admitted before this terminal learnt of the person: with the templates, not lost behind them.
          const digests = JSON.parse(p.digests) as string[];
          const slots = [];
          for (const enrolledDigest of digests) {
            const s = await this.slotsFor(r, terminal, p.id, enrolledDigest);
            if (s.length) slots.push({ enrolledDigest, slots: s });
          }
          if (slots.length) data.templateSlots = slots;
        }
        if (f.kind === TEMPLATE_SLOTS_FEED) {
          // A template's current slots, read now and sealed for this terminal alone (issue 19; template-slots.ts).
          const p = await r.getPerson(String(data.personId));
          if (!p || p.status !== 'confirmed') continue; // revoked since: its person_revoked event removes the palm
          data.slots = await this.slotsFor(r, terminal, p.id, String(data.enrolledDigest));
        }
        if (f.kind === CUSTOMER_PIN_FEED) {
          if ((await r.getPerson(f.key))?.status !== 'confirmed') continue; // revoked since
          if (data.pinVersion === undefined) {
            // Published before events carried their version: the stored PIN's, when it is still this verifier; an
            // older verifier is not sent (the event that replaced it follows in the feed).
            const pin = await storedCustomerPin(r.conn, f.key);
            if (!pin || pin.pinHash !== data.pinHash) continue;
            data.pinVersion = pin.pinVersion;
          }
        }
        if (f.kind === 'voucher') data.accountId = (await r.getPerson(String(data.personId)))?.account_id ?? data.personId;
        if (f.kind === 'allowance') data.asOfSeq = Number(terminal.head_seq); // the grant counts this terminal's records up to here
        out.push({ seq: Number(f.seq), kind: f.kind, key: f.key, data });
      }
      return { out, more: page.length > limit, last: page.length ? Number(page[Math.min(page.length, limit) - 1]!.seq) : cursor };
    });
    const time = this.ctx.signedTime();
    // Signed over what the terminal will apply: the events as they go on the wire (JSON), the range, the request.
    const events = JSON.parse(JSON.stringify(rows.out)) as FeedEvent[];
    const proof = signFeedPage(this.ctx.identity.privateKey, { terminalId: terminal.id, from: cursor, to: rows.last, more: rows.more, eventsSha256: eventsDigest(events), timeMs: time.ms, request });
    return { events, cursor: rows.last, more: rows.more, time, proof };
  }

  /** One enrolled template's update slots as a terminal receives them: each capture sealed for that terminal. */
  private async slotsFor(r: RepoTx, terminal: TerminalRow, personId: string, enrolledDigest: string): Promise<Array<{ updateId: string; digest: string; sealed: string }>> {
    return (await slotsOf(r.conn, personId, enrolledDigest)).map((s) => ({ updateId: s.update_id, digest: s.digest, sealed: sealFor(terminal.enc_key!, this.ctx.openSlot(personId, s.update_id, s.sealed)) }));
  }

  /** A person the terminals of a region may now recognise (its templates go out when the page is read). */
  publishPerson(r: RepoTx, region: string, personId: string, accountId: string | null): Promise<void> {
    return r.appendFeed(`region:${region}`, 'person', personId, { personId, accountId }, this.ctx.now());
  }

  /**
   * Each account's offline allowance per currency: its balance, capped (`allowanceCap`, default 5,000,000); with
   * the balance itself, which the customer's statement shows with its age. Sent only to the regions where the
   * account's person is enrolled (only their terminals hold the palm that spends it): a balance is nobody else's
   * business. An account nobody is enrolled on yet goes out when its person is confirmed (enrolments.ts).
   */
  async publishAllowances(r: RepoTx, accounts: ReadonlySet<string> | ReadonlyMap<string, ReadonlySet<string>>): Promise<void> {
    if (accounts.size === 0) return;
    // A balance moved in one currency leaves the other allowances as they were published: only those that moved go out.
    const currenciesOf = (accountId: string) => (accounts instanceof Map ? ALLOWANCE_CURRENCIES.filter((c) => accounts.get(accountId)!.has(c)) : ALLOWANCE_CURRENCIES);
    const ids = [...accounts.keys()];
    const { owners, regions } = await r.ownersAndRegionsByAccount(ids);
    const byRegion = new Map<string, Array<{ key: string; data: unknown }>>();
    for (const accountId of ids) {
      const to = regions.get(accountId);
      if (!to) continue;
      for (const cur of currenciesOf(accountId)) {
        const bal = await r.balance(account.customer(accountId), cur); // read at once by the batch's lockBalances
        const cap = this.ctx.opts.allowanceCap?.[cur] ?? 5_000_000;
        const customerId = owners.get(accountId) ?? accountId;
        const event = { key: `${accountId}:${cur}`, data: { accountId, customerId, currency: cur, amountMinor: Math.max(0, Math.min(bal, cap)), balanceMinor: bal } };
        for (const region of to) {
          if (!byRegion.has(region)) byRegion.set(region, []);
          byRegion.get(region)!.push(event);
        }
      }
    }
    for (const [region, events] of byRegion) await r.appendFeedMany(`region:${region}`, 'allowance', events, this.ctx.now());
  }
}

/** The currencies an offline allowance is published in. */
export const ALLOWANCE_CURRENCIES = ['SYP', 'USD'] as const;

/** The balance rows publishAllowances will read for the customer accounts among these (so a batch locks them up front). */
export function allowanceBalances(keys: ReadonlyArray<{ account: string }>): Array<{ account: string; currency: string }> {
  const customers = new Set(keys.filter((k) => k.account.startsWith('acct:')).map((k) => k.account));
  return [...customers].flatMap((a) => ALLOWANCE_CURRENCIES.map((currency) => ({ account: a, currency })));
}

