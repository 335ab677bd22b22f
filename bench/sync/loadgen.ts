// Synthetic signed records appended to a terminal store (journal + outbox in one transaction), for the sync
// bench and the fault tests. It writes exactly what the ledger writes (canonical body, hash, signature, outbox row).
import { canonicalJson } from '../../src/protocol/canonical.ts';
import { GENESIS_HASH, idempotencyKey, parseBody, type RecordBody, type RecordDraft, type SignedRecord } from '../../src/protocol/record.ts';
import { sealRecord, type Signer } from '../../src/protocol/sign.ts';
import type { Store } from '../../src/store/store.ts';
import type { Central } from '../../src/server/service.ts';

/** The operator every bench record is signed as. */
export const BENCH_OPERATOR = 'op-1';

/** Grants BENCH_OPERATOR a supervisor's role (all of a counter's work) at a bench terminal: the centre accepts a
 * record only from an operator it granted there (rule 16, src/server/invariants.ts). */
export function grantBenchOperator(central: Pick<Central, 'grantOperator'>, terminalId: string): Promise<void> {
  return central.grantOperator(terminalId, { operatorId: BENCH_OPERATOR, name: 'bench operator', role: 'supervisor', active: true });
}

/** Builds one terminal's chain: assigns seq, prevHash, HLC and signs. */
export class ChainWriter {
  private seq: number;
  private prevHash: string;
  private lastMs = 0;
  constructor(
    readonly terminalId: string,
    private readonly signer: Signer,
    head?: { seq: number; hash: string },
  ) {
    this.seq = head?.seq ?? 0;
    this.prevHash = head?.hash ?? GENESIS_HASH;
  }

  /** `header` overrides the clocks (tests of what the centre does with implausible or forged times). */
  next(draft: RecordDraft, nowMs = Date.now(), header: Partial<Pick<RecordBody, 'hlc' | 'serverTime'>> = {}): SignedRecord {
    const ms = Math.max(nowMs, this.lastMs);
    const c = ms === this.lastMs ? this.seq : 0;
    this.lastMs = ms;
    const body = parseBody({ ...draft, v: 1, terminalId: this.terminalId, seq: this.seq + 1, prevHash: this.prevHash, hlc: { ms, c }, serverTime: { ms: 0, ref: '' }, ...header } as RecordBody);
    const rec = sealRecord(body, this.signer);
    this.seq = rec.seq;
    this.prevHash = rec.hash;
    return rec;
  }
}

/** Appends records to the store's journal and outbox, `chunk` per transaction. */
export function appendToStore(store: Store, records: readonly SignedRecord[], chunk = 1000): void {
  for (let i = 0; i < records.length; i += chunk) {
    store.transaction(() => {
      for (const rec of records.slice(i, i + chunk)) {
        const { hash, sig, ...body } = rec;
        const money = 'amountMinor' in rec ? rec : undefined;
        store.journal.insert({
          seq: rec.seq, type: rec.type, refId: refIdOf(rec), partyId: partyOf(rec),
          amountMinor: money ? money.amountMinor : null, currency: money ? money.currency : null,
          offline: rec.type === 'purchase' ? rec.offline : false, hlcMs: rec.hlc.ms, prevHash: rec.prevHash,
          hash, body: canonicalJson(body), sig, createdAtMs: rec.hlc.ms,
        });
        store.outbox.enqueue(rec.seq);
      }
    });
  }
}

/** The ledger's own key (record.ts): one owner of which field makes a record unique. */
function refIdOf(r: SignedRecord): string {
  return idempotencyKey(r);
}
function partyOf(r: SignedRecord): string | null {
  switch (r.type) {
    case 'salary_payout': case 'enrolment': return r.personId;
    case 'purchase': case 'refund': return r.customerId;
    default: return null;
  }
}

/** A purchase draft (for load): `n` distinguishes purchase ids. */
export function purchaseDraft(terminalId: string, n: number, customerId: string, accountId: string, amountMinor: number): RecordDraft {
  return { type: 'purchase', operatorId: BENCH_OPERATOR, purchaseId: `${terminalId}-p${n}`, customerId, accountId, amountMinor, currency: 'SYP', pinVerified: false, offline: true };
}
