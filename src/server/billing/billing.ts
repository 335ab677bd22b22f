// The centre's bill registry: billers, bill imports (all or nothing), and who may pay which subscriber. Each
// method is one transaction; the CLI is a thin layer over it. Payment itself arrives as a signed record
// (payments.ts, through ingest.ts).
import { sha256Hex } from '../../protocol/crypto.ts';
import { Id } from '../../protocol/record.ts';
import type { Repo, RepoTx } from '../repo.ts';
import { BillImportError, BillingError, parseBillsCsv, SUBSCRIBER } from './bills-csv.ts';
import { debitUnderMandate } from './mandates.ts';
import { billFeed, billFeedKey } from './payments.ts';
import { BillingStore, type BillerRow, type BillRecordRow, type BillStatus, type PayerKind, type SubscriberLinkRow } from './store.ts';

export { BillingError } from './bills-csv.ts';

type Link = { billerId: string; subscriber: string; payerKind: PayerKind; payerId: string };
/** A subscriber link as the region's terminals receive it (latest state per link, in the region's feed). */
const linkFeed = (l: Link, status: 'linked' | 'unlinked') => ({ billerId: l.billerId, subscriber: l.subscriber, payerKind: l.payerKind, payerId: l.payerId, status });
const linkFeedKey = (l: Link) => `${l.billerId}:${l.subscriber}:${l.payerKind}:${l.payerId}`;

const validId = (v: string, what: string) => {
  if (!Id.safeParse(v).success) throw new BillingError('BILLING_INVALID', `${what} ${JSON.stringify(v)} is not a valid id (1-64 of A-Z a-z 0-9 . _ : -)`);
};

/**
 * Republishes the offline allowance of accounts whose balance moved, in the same transaction (central/feed.ts).
 * Required: a direct debit that lowers a balance without it leaves every counter of the region approving offline
 * purchases against the old, higher balance until something else republishes it.
 */
export interface AllowancePublisher {
  publishAllowances(r: RepoTx, accounts: Set<string>): Promise<void>;
}

export class Billing {
  constructor(
    private readonly repo: Repo,
    private readonly allowances: AllowancePublisher,
    private readonly now: () => number = Date.now,
  ) {}

  async addBiller(b: { id: string; name: string; region: string }): Promise<BillerRow> {
    validId(b.id, 'biller id');
    validId(b.region, 'region');
    const name = b.name.trim();
    if (name.length < 1 || name.length > 200) throw new BillingError('BILLING_INVALID', 'a biller name is 1-200 characters');
    const row = { id: b.id, name, region: b.region, created_at: this.now() };
    await this.repo.tx(async (r) => {
      if (!(await new BillingStore(r.conn).insertBiller(row))) throw new BillingError('BILLER_EXISTS', `biller ${b.id} already exists`);
    });
    return row;
  }

  listBillers(): Promise<BillerRow[]> {
    return this.repo.tx((r) => new BillingStore(r.conn).listBillers());
  }

  /**
   * Imports a biller's bill file, all or nothing: every line valid, every biller registered, no bill already
   * imported (a bill id is the biller's, once). Each bill goes to its biller's region feed; a mandated
   * subscriber's bill is paid at once, or its failure recorded (mandates.ts).
   */
  async importBills(csv: string): Promise<{ bills: number; byBiller: Record<string, number>; importId: number; debited: number; debitsFailed: number }> {
    const { rows, errors } = parseBillsCsv(csv);
    return this.repo.tx(async (r) => {
      const store = new BillingStore(r.conn);
      // The import's new bills move each meter's last reading and its debits read the subscriber's mandate: it takes
      // the counters' lock on its subscribers first (lock order in lock-plan.ts: subscribers, bills, balances), and
      // its time after it. Without it a counter's reading checked against the old bill while the import was open
      // became the meter's last, stamped after the biller's newer bill (test/security/bill-import-race.test.ts).
      await store.lockSubscribers(rows.map((row) => ({ billerId: row.billerId, subscriber: row.subscriber })));
      const billers = new Map<string, BillerRow | undefined>();
      for (const row of rows) {
        if (!billers.has(row.billerId)) billers.set(row.billerId, await store.getBiller(row.billerId));
        if (!billers.get(row.billerId)) errors.push({ line: row.line, message: `biller ${row.billerId} is not registered` });
        else if (await store.lockBill(row.billerId, row.billId)) errors.push({ line: row.line, message: `bill ${row.billId} of ${row.billerId} was already imported` });
      }
      if (errors.length) throw new BillImportError(errors.sort((a, b) => a.line - b.line));
      const now = this.now();
      const byBiller: Record<string, number> = {};
      for (const row of rows) byBiller[row.billerId] = (byBiller[row.billerId] ?? 0) + 1;
      let debited = 0;
      let debitsFailed = 0;
      const moved = new Set<string>();
      const importId = await store.insertImport(Object.keys(byBiller).sort(), sha256Hex(csv), rows.length, now);
      for (const row of rows) {
        const bill: BillRecordRow = {
          biller_id: row.billerId, bill_id: row.billId, subscriber: row.subscriber, cycle: row.cycle, amount: row.amount, currency: row.currency,
          due_date: row.due, previous_reading: row.previousReading, current_reading: row.currentReading, status: 'open', paid_by: null, paid_at: null,
          import_id: importId, created_at: now,
        };
        await store.insertBill(bill);
        await r.appendFeed(`region:${billers.get(row.billerId)!.region}`, 'bill', billFeedKey(row.billerId, row.billId), billFeed(bill), now);
        const debit = await debitUnderMandate(r, billers.get(row.billerId)!, bill, now);
        if (debit?.status === 'paid') {
          debited++;
          moved.add(debit.accountId);
        }
        if (debit?.status === 'failed') debitsFailed++;
      }
      await this.allowances.publishAllowances(r, moved);
      return { bills: rows.length, byBiller, importId, debited, debitsFailed };
    });
  }

  listBills(f: { billerId?: string; subscriber?: string; status?: BillStatus } = {}): Promise<BillRecordRow[]> {
    return this.repo.tx((r) => new BillingStore(r.conn).listBills(f));
  }

  /** Lets a person (palm at the counter) or an account pay a subscriber's bills. */
  async link(l: { billerId: string; subscriber: string; payerKind: PayerKind; payerId: string }): Promise<boolean> {
    validId(l.payerId, l.payerKind === 'person' ? 'person id' : 'account id');
    if (!SUBSCRIBER.test(l.subscriber)) throw new BillingError('BILLING_INVALID', `subscriber ${JSON.stringify(l.subscriber)} is not a subscriber number`);
    return this.repo.tx(async (r) => {
      const store = new BillingStore(r.conn);
      const biller = await store.getBiller(l.billerId);
      if (!biller) throw new BillingError('BILLER_UNKNOWN', `biller ${l.billerId} is not registered`);
      if (l.payerKind === 'person' && !(await r.getPerson(l.payerId))) throw new BillingError('PERSON_UNKNOWN', `person ${l.payerId} is not enrolled`);
      const now = this.now();
      const added = await store.addLink({ biller_id: l.billerId, subscriber: l.subscriber, payer_kind: l.payerKind, payer_id: l.payerId, created_at: now });
      // Published again even when it existed (a link made before links were in the feed reaches the terminals).
      await r.appendFeed(`region:${biller.region}`, 'subscriber_link', linkFeedKey(l), linkFeed(l, 'linked'), now);
      return added;
    });
  }

  unlink(l: { billerId: string; subscriber: string; payerKind: PayerKind; payerId: string }): Promise<boolean> {
    return this.repo.tx(async (r) => {
      const store = new BillingStore(r.conn);
      const removed = await store.removeLink({ biller_id: l.billerId, subscriber: l.subscriber, payer_kind: l.payerKind, payer_id: l.payerId });
      const biller = await store.getBiller(l.billerId);
      if (removed && biller) await r.appendFeed(`region:${biller.region}`, 'subscriber_link', linkFeedKey(l), linkFeed(l, 'unlinked'), this.now());
      return removed;
    });
  }

  listLinks(f: { billerId?: string; subscriber?: string } = {}): Promise<SubscriberLinkRow[]> {
    return this.repo.tx((r) => new BillingStore(r.conn).listLinks(f));
  }
}
