// Meter readings and mandates over the terminal store and signed ledger (SqliteBank delegates here; issue 17d).
// Each is ONE signed record that moves no money: the ledger re-checks a supervisor's approval of a reading below
// the meter's last one and notes the new last reading in the same transaction; a mandate names the person the
// palm and PIN identified and that person's own account. The centre re-checks both (src/server/billing).
import { LedgerError } from '../../ledger/ledger.ts';
import type { Terminal } from '../../ledger/open.ts';
import type { HeldMandate, MandateDecline, MandateRequest } from '../../flows/mandate.ts';
import type { RecordBody } from '../../protocol/record.ts';
import type { MeterLookup, ReadingDecline, ReadingRequest } from '../../flows/meter-reading.ts';
import { mandateReceipt, pinSetReceipt, readingReceipt, type ApproverName } from '../../flows/receipts.ts';
import type { PinSetDecline, PinSetRequest } from '../../flows/pin-set.ts';
import { hashPin } from '../../ledger/pin.ts';
import type { Person, Receipt } from '../../flows/types.ts';
import type { Currency } from '../../protocol/record.ts';

export interface CounterRecordDeps {
  terminal: Terminal;
  meta: (r: { seq: number; hash: string; at: number }, operatorId: string) => { recordId: string; seq: number; terminalId: string; at: string; operatorId: string };
  operatorName: (operatorId: string) => ApproverName;
}

/** The record id of a request (the ledger decides each once: a double click records one reading). */
const recordId = (requestId: string) => `rq-${requestId}`;

export function lookupMeters(d: CounterRecordDeps, subscriber: string): MeterLookup {
  const meters = d.terminal.store.bills.meters(subscriber);
  return { known: meters.length > 0, meters };
}

export function recordReading(d: CounterRecordDeps, person: Person | null, req: ReadingRequest): { ok: true; receipt: Receipt } | { ok: false; reason: ReadingDecline } {
  const no = (reason: ReadingDecline) => ({ ok: false as const, reason });
  if (!person || person.status === 'revoked') return no('person-revoked');
  if (person.status === 'provisional') return no('person-provisional');
  try {
    const rec = d.terminal.ledger.append({
      type: 'meter_reading', operatorId: req.operatorId, readingId: recordId(req.requestId), personId: req.personId, billerId: req.billerId,
      subscriber: req.subscriber, reading: req.reading, ...(req.lastReading !== null ? { lastReading: req.lastReading } : {}),
      ...(req.approvedBy !== null ? { approvedBy: req.approvedBy } : {}),
    });
    const approver = req.approvedBy === null ? null : d.operatorName(req.approvedBy);
    return { ok: true, receipt: readingReceipt(d.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), person, req, approver) };
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return no('duplicate-request');
    if (err instanceof LedgerError && err.code === 'OVERRIDE_REFUSED') return no('override-refused');
    if (err instanceof LedgerError && err.code === 'READING_NEEDS_SUPERVISOR') return no('needs-supervisor');
    throw err;
  }
}

/**
 * A customer's PIN set at a supervised counter (issue 17f): the PIN hashed (scrypt, src/ledger/pin.ts) here, and
 * only the verifier signed in a `pin_set`; the ledger re-checks the supervisor and stores the verifier sealed in
 * the same transaction, so the person pays with it at once.
 */
export async function setCustomerPin(d: CounterRecordDeps, person: Person | null, req: PinSetRequest): Promise<{ ok: true; receipt: Receipt } | { ok: false; reason: PinSetDecline }> {
  const no = (reason: PinSetDecline) => ({ ok: false as const, reason });
  if (!person || person.status === 'revoked') return no('person-revoked');
  if (person.status === 'provisional') return no('person-provisional');
  const pinHash = await hashPin(req.pin);
  try {
    const rec = d.terminal.ledger.append({ type: 'pin_set', operatorId: req.operatorId, pinSetId: recordId(req.requestId), personId: req.personId, pinHash, approvedBy: req.approvedBy });
    return { ok: true, receipt: pinSetReceipt(d.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), person, d.operatorName(req.approvedBy)) };
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return no('duplicate-request');
    if (err instanceof LedgerError && err.code === 'OVERRIDE_REFUSED') return no('override-refused');
    if (err instanceof LedgerError && err.code === 'PERSON_NOT_CONFIRMED') return no('person-provisional');
    if (err instanceof LedgerError && err.code === 'PIN_SET_OUT_OF_ORDER') return no('pin-out-of-order');
    throw err;
  }
}

export function recordMandate(d: CounterRecordDeps, person: Person | null, req: MandateRequest): { ok: true; receipt: Receipt } | { ok: false; reason: MandateDecline } {
  const no = (reason: MandateDecline) => ({ ok: false as const, reason });
  const { store, ledger } = d.terminal;
  if (!person || person.status === 'revoked') return no('person-revoked');
  if (person.status === 'provisional') return no('person-provisional');
  if (!ledger.customerPins.get(req.personId)?.pinHash) return no('pin-not-set');
  try {
    const header = { operatorId: req.operatorId, personId: req.personId, billerId: req.billerId, subscriber: req.subscriber, pinVerified: true as const };
    let rec;
    if (req.mode === 'sign') {
      if (!req.max) throw new LedgerError('LEDGER_INVALID', 'a mandate needs its maximum per bill');
      const cur = req.max.currency as Currency;
      // The person's own account in the mandate's currency: a mandate never names anyone else's.
      const account = store.people.accounts(req.personId).find((a) => a.status === 'active' && a.currency === cur);
      if (!account) return no('no-account');
      // The request id makes the mandate id: the same request signs one mandate, whatever the screens do.
      rec = ledger.append({ type: 'mandate', ...header, mandateId: `M-${req.requestId}`, accountId: account.accountId, maxMinor: req.max.minor, currency: cur });
    } else {
      rec = ledger.append({ type: 'mandate_cancel', ...header, cancelId: recordId(req.requestId) });
    }
    const r = { billerId: req.billerId, subscriber: req.subscriber, max: req.mode === 'sign' ? req.max : null };
    return { ok: true, receipt: mandateReceipt(d.meta({ seq: rec.seq, hash: rec.hash, at: rec.hlc.ms }, req.operatorId), person, r) };
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'RECORD_DUPLICATE') return no('duplicate-request');
    throw err;
  }
}

/**
 * "My mandates": the person's mandates signed at this counter, less those ended here since (both signed records in
 * its journal, in order). The feed does not carry mandates yet: one signed elsewhere or at the centre is not shown.
 */
export function mandatesOf(d: CounterRecordDeps, personId: string): HeldMandate[] {
  const rows = d.terminal.store.db
    .prepare(`SELECT body, hlc_ms FROM journal WHERE party_id = ? AND type IN ('mandate', 'mandate_cancel') ORDER BY seq`)
    .all(personId) as Array<{ body: string; hlc_ms: number }>;
  const held = new Map<string, HeldMandate>();
  for (const r of rows) {
    const b = JSON.parse(r.body) as RecordBody;
    if (b.type !== 'mandate' && b.type !== 'mandate_cancel') continue;
    const key = `${b.billerId}:${b.subscriber}`;
    if (b.type === 'mandate_cancel') held.delete(key);
    else held.set(key, { billerId: b.billerId, subscriber: b.subscriber, max: { minor: b.maxMinor, currency: b.currency }, at: new Date(r.hlc_ms).toISOString() });
  }
  return [...held.values()];
}
