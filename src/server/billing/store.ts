// The billing tables (migration 4): billers, their imported bills, who may pay which subscriber, bill imports.
// Queries only, inside the caller's transaction (`new BillingStore(r.conn)`).
import { ADVISORY_LOCK, FOR_UPDATE, join, list, lockNames, raw, sql, type Fragment, type SqlConn } from '../sql.ts';

export interface BillerRow {
  id: string;
  name: string;
  region: string;
  created_at: number;
}
export type BillStatus = 'open' | 'paid';
export interface BillRecordRow {
  biller_id: string;
  bill_id: string;
  subscriber: string;
  cycle: string;
  amount: number;
  currency: string;
  due_date: string;
  previous_reading: number;
  current_reading: number;
  status: BillStatus;
  /** The record that paid it (`terminal#seq`), or null. */
  paid_by: string | null;
  paid_at: number | null;
  import_id: number;
  created_at: number;
}
export type PayerKind = 'person' | 'account';
export interface SubscriberLinkRow {
  biller_id: string;
  subscriber: string;
  payer_kind: PayerKind;
  payer_id: string;
  created_at: number;
}

/** BIGINT columns as numbers (SQLite may hand them back as they were stored; PostgreSQL's parser already does). */
const num = <T extends object>(row: T, keys: Array<keyof T>): T => {
  const r = row as Record<keyof T, unknown>;
  for (const k of keys) if (r[k] !== null && r[k] !== undefined) r[k] = Number(r[k]);
  return row;
};
/** `WHERE a AND b …` over the filters given (`WHERE TRUE` when none). */
const where = (conds: Array<Fragment | false>): Fragment => {
  const given = conds.filter((c): c is Fragment => c !== false);
  return given.length ? sql`WHERE ${join(given, ' AND ')}` : raw('');
};
const billRow = (b: BillRecordRow) => num(b, ['amount', 'previous_reading', 'current_reading', 'paid_at', 'import_id', 'created_at']);

export interface MandateRow {
  id: string;
  person_id: string;
  account_id: string;
  biller_id: string;
  subscriber: string;
  max_minor: number;
  currency: string;
  status: 'active' | 'cancelled';
  created_at: number;
  cancelled_at: number | null;
}
export interface DirectDebitRow {
  id: number;
  mandate_id: string;
  biller_id: string;
  bill_id: string;
  account_id: string;
  amount: number;
  currency: string;
  status: 'paid' | 'failed';
  /** Why it failed: `CODE: message` (invariants.ts). */
  reason: string | null;
  txn_id: number | null;
  created_at: number;
}
const mandateRow = (m: MandateRow) => num(m, ['max_minor', 'created_at', 'cancelled_at']);
const debitRow = (d: DirectDebitRow) => num(d, ['id', 'amount', 'txn_id', 'created_at']);

export class BillingStore {
  constructor(private readonly c: SqlConn) {}

  // ---- billers ----
  async insertBiller(b: BillerRow): Promise<boolean> {
    return (await this.c.run(sql`INSERT INTO billers (id, name, region, created_at) VALUES (${b.id}, ${b.name}, ${b.region}, ${b.created_at}) ON CONFLICT (id) DO NOTHING`)).changes === 1;
  }
  getBiller(id: string): Promise<BillerRow | undefined> {
    return this.c.get<BillerRow>(sql`SELECT * FROM billers WHERE id = ${id}`);
  }
  async listBillers(): Promise<BillerRow[]> {
    return (await this.c.all<BillerRow>(sql`SELECT * FROM billers ORDER BY id`)).map((b) => num(b, ['created_at']));
  }

  // ---- bills ----
  async insertBill(b: BillRecordRow): Promise<void> {
    await this.c.run(sql`INSERT INTO bills (biller_id, bill_id, subscriber, cycle, amount, currency, due_date, previous_reading, current_reading, status, paid_by, paid_at, import_id, created_at)
      VALUES (${b.biller_id}, ${b.bill_id}, ${b.subscriber}, ${b.cycle}, ${b.amount}, ${b.currency}, ${b.due_date}, ${b.previous_reading}, ${b.current_reading}, ${b.status}, ${b.paid_by}, ${b.paid_at}, ${b.import_id}, ${b.created_at})`);
  }
  /** Locked: two counters paying the same bill (or a payment and a void) decide one after the other. */
  async lockBill(billerId: string, billId: string): Promise<BillRecordRow | undefined> {
    const b = await this.c.get<BillRecordRow>(sql`SELECT * FROM bills WHERE biller_id = ${billerId} AND bill_id = ${billId}${FOR_UPDATE}`);
    return b && billRow(b);
  }
  /**
   * Serialises the transactions that may make a subscriber's mandate active (a counter's mandate record, an admin's
   * mandate) or check its meter's last reading (a counter's reading): each then finds the one the other committed
   * (rule 10: one active mandate per subscriber, no reading below the last without approval; sql.ts lockNames).
   */
  lockSubscribers(keys: ReadonlyArray<{ billerId: string; subscriber: string }>): Promise<void> {
    return lockNames(this.c, ADVISORY_LOCK.subscriber, keys.map((k) => `${k.billerId} ${k.subscriber}`));
  }
  /**
   * Locks these bills all at once, sorted by (biller, bill id): batches paying overlapping bills in any order then
   * queue in one order instead of deadlocking (lock-plan.ts). Unknown bills lock nothing (the payment is refused).
   */
  async lockBills(keys: ReadonlyArray<{ billerId: string; billId: string }>): Promise<void> {
    const byBiller = new Map<string, Set<string>>();
    for (const k of keys) byBiller.set(k.billerId, (byBiller.get(k.billerId) ?? new Set()).add(k.billId));
    if (byBiller.size === 0) return;
    const which = join([...byBiller].map(([biller, ids]) => sql`(biller_id = ${biller} AND bill_id IN (${list([...ids])}))`), ' OR ');
    await this.c.all(sql`SELECT biller_id, bill_id FROM bills WHERE ${which} ORDER BY biller_id, bill_id${FOR_UPDATE}`);
  }
  async listBills(f: { billerId?: string; subscriber?: string; status?: BillStatus } = {}): Promise<BillRecordRow[]> {
    const filter = where([f.billerId !== undefined && sql`biller_id = ${f.billerId}`, f.subscriber !== undefined && sql`subscriber = ${f.subscriber}`, f.status !== undefined && sql`status = ${f.status}`]);
    const rows = await this.c.all<BillRecordRow>(sql`SELECT * FROM bills ${filter} ORDER BY biller_id, subscriber, due_date, bill_id`);
    return rows.map(billRow);
  }
  /** False when the bill was not open (nothing changed). */
  async markPaid(billerId: string, billId: string, by: string, at: number): Promise<boolean> {
    return (await this.c.run(sql`UPDATE bills SET status = 'paid', paid_by = ${by}, paid_at = ${at} WHERE biller_id = ${billerId} AND bill_id = ${billId} AND status = 'open'`)).changes === 1;
  }
  /** A voided payment: the bill is due again. Only the payment named reopens it. */
  async reopen(billerId: string, billId: string, paidBy: string): Promise<boolean> {
    return (await this.c.run(sql`UPDATE bills SET status = 'open', paid_by = NULL, paid_at = NULL WHERE biller_id = ${billerId} AND bill_id = ${billId} AND paid_by = ${paidBy}`)).changes === 1;
  }
  async insertImport(billerIds: string[], fileSha256: string, bills: number, at: number): Promise<number> {
    const row = await this.c.get<{ id: number }>(sql`INSERT INTO bill_imports (biller_ids, file_sha256, bills, created_at) VALUES (${billerIds.join(',')}, ${fileSha256}, ${bills}, ${at}) RETURNING id`);
    return Number(row!.id);
  }

  // ---- subscriber links ----
  async addLink(l: SubscriberLinkRow): Promise<boolean> {
    return (await this.c.run(sql`INSERT INTO subscriber_links (biller_id, subscriber, payer_kind, payer_id, created_at) VALUES (${l.biller_id}, ${l.subscriber}, ${l.payer_kind}, ${l.payer_id}, ${l.created_at}) ON CONFLICT DO NOTHING`)).changes === 1;
  }
  async removeLink(l: Omit<SubscriberLinkRow, 'created_at'>): Promise<boolean> {
    return (await this.c.run(sql`DELETE FROM subscriber_links WHERE biller_id = ${l.biller_id} AND subscriber = ${l.subscriber} AND payer_kind = ${l.payer_kind} AND payer_id = ${l.payer_id}`)).changes === 1;
  }
  /** Whether this person, or this account, may pay the subscriber's bills. */
  async mayPay(billerId: string, subscriber: string, personId: string, accountId: string): Promise<boolean> {
    return Boolean(await this.c.get(sql`SELECT 1 AS ok FROM subscriber_links WHERE biller_id = ${billerId} AND subscriber = ${subscriber}
      AND ((payer_kind = 'person' AND payer_id = ${personId}) OR (payer_kind = 'account' AND payer_id = ${accountId}))`));
  }
  async listLinks(f: { billerId?: string; subscriber?: string } = {}): Promise<SubscriberLinkRow[]> {
    const filter = where([f.billerId !== undefined && sql`biller_id = ${f.billerId}`, f.subscriber !== undefined && sql`subscriber = ${f.subscriber}`]);
    const rows = await this.c.all<SubscriberLinkRow>(sql`SELECT * FROM subscriber_links ${filter} ORDER BY biller_id, subscriber, payer_kind, payer_id`);
    return rows.map((l) => num(l, ['created_at']));
  }

  // ---- direct debit ----
  async insertMandate(m: MandateRow): Promise<void> {
    await this.c.run(sql`INSERT INTO mandates (id, person_id, account_id, biller_id, subscriber, max_minor, currency, status, created_at, cancelled_at)
      VALUES (${m.id}, ${m.person_id}, ${m.account_id}, ${m.biller_id}, ${m.subscriber}, ${m.max_minor}, ${m.currency}, ${m.status}, ${m.created_at}, ${m.cancelled_at})`);
  }
  /** The active mandate of a subscriber (at most one), locked: a debit and a cancellation decide one after the other. */
  async activeMandate(billerId: string, subscriber: string): Promise<MandateRow | undefined> {
    const m = await this.c.get<MandateRow>(sql`SELECT * FROM mandates WHERE biller_id = ${billerId} AND subscriber = ${subscriber} AND status = 'active'${FOR_UPDATE}`);
    return m && mandateRow(m);
  }
  async cancelMandate(id: string, at: number): Promise<boolean> {
    return (await this.c.run(sql`UPDATE mandates SET status = 'cancelled', cancelled_at = ${at} WHERE id = ${id} AND status = 'active'`)).changes === 1;
  }
  async listMandates(f: { personId?: string; billerId?: string; id?: string } = {}): Promise<MandateRow[]> {
    const filter = where([f.personId !== undefined && sql`person_id = ${f.personId}`, f.billerId !== undefined && sql`biller_id = ${f.billerId}`, f.id !== undefined && sql`id = ${f.id}`]);
    return (await this.c.all<MandateRow>(sql`SELECT * FROM mandates ${filter} ORDER BY created_at, id`)).map(mandateRow);
  }
  async insertDebit(d: Omit<DirectDebitRow, 'id'>): Promise<void> {
    await this.c.run(sql`INSERT INTO direct_debits (mandate_id, biller_id, bill_id, account_id, amount, currency, status, reason, txn_id, created_at)
      VALUES (${d.mandate_id}, ${d.biller_id}, ${d.bill_id}, ${d.account_id}, ${d.amount}, ${d.currency}, ${d.status}, ${d.reason}, ${d.txn_id}, ${d.created_at})`);
  }
  async listDebits(f: { accountId?: string; fromMs?: number; toMs?: number } = {}): Promise<DirectDebitRow[]> {
    const filter = where([
      f.accountId !== undefined && sql`account_id = ${f.accountId}`, f.fromMs !== undefined && sql`created_at >= ${f.fromMs}`, f.toMs !== undefined && sql`created_at < ${f.toMs}`,
    ]);
    return (await this.c.all<DirectDebitRow>(sql`SELECT * FROM direct_debits ${filter} ORDER BY id`)).map(debitRow);
  }
  /** The bill a direct-debit transaction paid (for the biller's payment file). */
  async debitOfTxn(txnId: number): Promise<DirectDebitRow | undefined> {
    const d = await this.c.get<DirectDebitRow>(sql`SELECT * FROM direct_debits WHERE txn_id = ${txnId}`);
    return d && debitRow(d);
  }
}
