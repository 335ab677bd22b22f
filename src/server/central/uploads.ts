// Records arriving from terminals, by upload or on a USB stick: signatures checked before the transaction (on
// worker threads for large batches), then one transaction per batch that applies them and republishes the
// allowances of the accounts they touched.
import type { RecordResult } from '../../protocol/schemas.ts';
import { ServerError } from '../errors.ts';
import { ingestRecords, POOL_FROM_RECORDS, prepareRecords, type MovedBalances } from '../ingest.ts';
import { BillingStore } from '../billing/store.ts';
import { accountsBound, balancesTouched, billsTouched, capturesOffered, subscribersChecked } from '../lock-plan.ts';
import { lockCaptures } from '../template-slots.ts';
import type { TerminalRow } from '../repo.ts';
import { verifyCentreTime } from '../sign.ts';
import { VerifyPool } from '../verify-pool.ts';
import type { CentreContext } from './context.ts';
import type { Enrolments } from './enrolments.ts';
import type { Feed } from './feed.ts';

export class Uploads {
  private pool: VerifyPool | undefined;

  constructor(private readonly ctx: CentreContext, private readonly feed: Feed, private readonly enrolments: Enrolments) {}

  async close(): Promise<void> {
    await this.pool?.close();
  }

  /**
   * Ingests one terminal's batch in one transaction. Statuses are per record, in input order. `known` is the
   * terminal's row as the request's authentication just read it (its key checks the signatures; the transaction
   * re-reads the row under its lock and refuses the batch if the key changed or the terminal was revoked meanwhile).
   */
  async ingest(terminalId: string, records: unknown[], known?: TerminalRow): Promise<RecordResult[]> {
    const { repo, counters, identity } = this.ctx;
    const before = known?.id === terminalId ? known : await repo.getTerminal(terminalId);
    const usable = (t: TerminalRow | undefined): TerminalRow => {
      if (!t || !t.public_key || t.status === 'pending') throw new ServerError('TERMINAL_UNKNOWN', `terminal ${terminalId} is not registered`, 401);
      if (t.status === 'revoked') throw new ServerError('TERMINAL_REVOKED', `terminal ${terminalId} is revoked: uploads refused`, 403);
      return t;
    };
    const key = usable(before).public_key!;
    if (records.length >= POOL_FROM_RECORDS) this.pool ??= new VerifyPool(this.ctx.opts.verifyThreads);
    const prepared = await prepareRecords(records, terminalId, key, this.pool);
    await repo.keepRecordMonths();
    const results = await repo.tx(async (r) => {
      // Locked and re-read inside the transaction: this terminal's batches run one at a time, other terminals' in parallel.
      const t = usable(await r.lockTerminal(terminalId));
      if (t.public_key !== key) throw new ServerError('TERMINAL_KEY_CHANGED', 'terminal key changed during the upload: retry', 409);
      const now = this.ctx.now();
      const touched: MovedBalances = new Map();
      // Lock order (lock-plan.ts, SCALING.md): terminal, the accounts its enrolments bind, the subscribers its
      // mandates and meter readings name, the captures its template updates offer, the bills the batch pays, then the balances, each sorted.
      await r.lockAccountBindings(accountsBound(prepared));
      const billing = new BillingStore(r.conn);
      await billing.lockSubscribers(subscribersChecked(prepared));
      await lockCaptures(r.conn, capturesOffered(prepared));
      await billing.lockBills(billsTouched(prepared));
      const balances = balancesTouched(prepared, t.id);
      // The allowances republished after are those of the customer balances that moved: rows already among these.
      await r.lockBalances(balances);
      const out = await ingestRecords(r, { now, terminal: t, touchedAccounts: touched, onEnrolment: (rr, pid) => this.enrolments.onEnrolmentRecord(rr, pid), verifyServerTime: (st) => verifyCentreTime(identity.publicKeyHex, st) }, prepared);
      // A batch that moved the chain head set last_seen with it (ingest.ts); a batch of duplicates only touches it.
      if (!out.some((res) => res.status === 'accepted' || res.status === 'review')) await r.touchTerminal(t.id, now);
      await this.feed.publishAllowances(r, touched);
      return out;
    });
    counters.batches++;
    for (const res of results) counters.records[res.status] = (counters.records[res.status] ?? 0) + 1;
    return results;
  }

  /** Sneakernet: records carried on a USB stick, grouped by terminal; the same checks and de-duplication as upload. */
  async importRecords(records: unknown[]): Promise<Map<string, RecordResult[]>> {
    const byTerminal = new Map<string, unknown[]>();
    for (const rec of records) {
      const tid = typeof (rec as { terminalId?: unknown })?.terminalId === 'string' ? (rec as { terminalId: string }).terminalId : '?';
      byTerminal.set(tid, [...(byTerminal.get(tid) ?? []), rec]);
    }
    const out = new Map<string, RecordResult[]>();
    for (const [tid, recs] of byTerminal) {
      for (let i = 0; i < recs.length; i += 1000) {
        const chunk = recs.slice(i, i + 1000);
        let res: RecordResult[];
        try {
          res = await this.ingest(tid, chunk);
        } catch (err) {
          // An unknown or revoked terminal's records are refused; the other terminals' records still go in.
          if (!(err instanceof ServerError)) throw err;
          res = chunk.map((rec) => ({ seq: typeof (rec as { seq?: unknown })?.seq === 'number' ? (rec as { seq: number }).seq : null, status: 'invalid' as const, reason: err.message }));
        }
        out.set(tid, [...(out.get(tid) ?? []), ...res]);
      }
    }
    return out;
  }
}
