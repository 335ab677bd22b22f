// Performs the flows' effects through the ports and turns every outcome — including failures — into events.
// One performer per flow; they share the palm and operator helpers. Templates captured during an enrolment are
// held here (by sample id), never in a flow state.
import type { AuthEffect, AuthEvent } from './auth.ts';
import type { BillEffect, BillEvent } from './bill.ts';
import type { DayCloseEffect, DayCloseEvent } from './day-close.ts';
import type { Perform } from './driver.ts';
import type { EnrolHand, EnrolmentEffect, EnrolmentEvent } from './enrolment.ts';
import type { PayoutEffect, PayoutEvent } from './payout.ts';
import { printFailure, type PrintResult } from './printing.ts';
import type { FlowPorts } from './ports.ts';
import type { PurchaseEffect, PurchaseEvent } from './purchase.ts';
import type { ReversalEffect, ReversalEvent } from './reversal.ts';
import type { ReadingEffect, ReadingEvent } from './meter-reading.ts';
import type { MandateEffect, MandateEvent } from './mandate.ts';
import type { PinSetEffect, PinSetEvent } from './pin-set.ts';
import type { StatementEffect, StatementEvent } from './statement.ts';
import type { ReportEffect, ReportEvent } from './report.ts';
import type { ScannerCheckEffect, ScannerCheckEvent } from './scanner-check.ts';
import type { IdentifyOutcome, PlacementEvent } from './types.ts';

export interface Performers {
  auth: Perform<AuthEvent, AuthEffect>;
  payout: Perform<PayoutEvent, PayoutEffect>;
  purchase: Perform<PurchaseEvent, PurchaseEffect>;
  bill: Perform<BillEvent, BillEffect>;
  reading: Perform<ReadingEvent, ReadingEffect>;
  mandate: Perform<MandateEvent, MandateEffect>;
  pinSet: Perform<PinSetEvent, PinSetEffect>;
  reversal: Perform<ReversalEvent, ReversalEffect>;
  enrolment: Perform<EnrolmentEvent, EnrolmentEffect>;
  statement: Perform<StatementEvent, StatementEffect>;
  report: Perform<ReportEvent, ReportEffect>;
  dayClose: Perform<DayCloseEvent, DayCloseEffect>;
  scannerCheck: Perform<ScannerCheckEvent, ScannerCheckEffect>;
  /** Drops the templates of an enrolment that will not be saved. */
  discardSamples(): void;
}

/** Number of statement lines shown. */
const STATEMENT_LINES = 20;
/** Pause before asking the scanner again after a fault (no hot loop on an unplugged scanner). */
const SCANNER_RETRY_MS = 1000;

export function createPerformers<T>(ports: FlowPorts<T>, log: (msg: string, err?: unknown) => void = () => {}): Performers {
  const { palm, identifier, bank } = ports;
  const samples = new Map<string, { hand: EnrolHand; template: T }>();

  const qualityEvent = (quality: number | null, hint: string | null): PlacementEvent[] =>
    quality === null ? [] : [{ type: 'scanner.quality', quality, hint }];

  /**
   * A palm read that never leaves a flow hanging: a scanner fault (unplugged, unresponsive) becomes a failed
   * capture with the reason 'scanner-error' after a short pause, and the flow asks again.
   */
  async function read(opts: { purpose: 'identify' | 'verify' | 'enrol'; hand?: EnrolHand; signal: AbortSignal }) {
    try {
      return await palm.read(opts);
    } catch (err) {
      if (opts.signal.aborted) throw err;
      log('scanner read failed', err);
      await new Promise((r) => setTimeout(r, SCANNER_RETRY_MS));
      opts.signal.throwIfAborted();
      return { ok: false as const, reason: 'scanner-error', quality: null };
    }
  }

  async function identify(signal: AbortSignal): Promise<[PlacementEvent[], IdentifyOutcome]> {
    const r = await read({ purpose: 'identify', signal });
    if (!r.ok) return [qualityEvent(r.quality, r.reason), { kind: 'fta', reason: r.reason }];
    return [qualityEvent(r.quality, null), await identifier.identify(r.template)];
  }

  /** A customer's palm for any flow: the placement events, then who it is. */
  async function identifiedPalm(signal: AbortSignal) {
    const [q, outcome] = await identify(signal);
    return [...q, { type: 'palm.identified' as const, outcome }];
  }

  /** The person a palm named, and whether they have a PIN to confirm with. */
  function personWithPin(personId: string) {
    const person = bank.person(personId);
    return { person, pinSet: person ? bank.hasPin(personId) : false };
  }

  /**
   * A write through the bank that never throws into a flow: its own answer, or `failed` when the store itself
   * failed (logged as "<what> could not be recorded"), which the flow shows as a store error.
   */
  async function stored<E>(what: string, write: () => E | Promise<E>, failed: E): Promise<E> {
    try {
      return await write();
    } catch (err) {
      log(`${what} could not be recorded`, err);
      return failed;
    }
  }

  /** An effect's request to the bank: the effect without its `type`. */
  const request = <F extends { type: string }>(f: F): Omit<F, 'type'> => {
    const { type: _type, ...req } = f;
    return req;
  };

  const auth: Perform<AuthEvent, AuthEffect> = async (f, signal) => {
    if (f.type === 'identifyOperator') {
      const [q, outcome] = await identify(signal);
      const operator = outcome.kind === 'match' ? bank.operatorForPerson(outcome.personId) : null;
      return [...q, { type: 'auth.palm', outcome, operator }];
    }
    return { type: 'auth.pin-result', result: await bank.verifyOperatorPin(f.operatorId, f.pin) };
  };

  /** Prints, and tells the flow how it went: the receipt stays on screen and printing again is one tap. */
  const print = async (receipt: Parameters<FlowPorts<T>['printer']['print']>[0], signal: AbortSignal): Promise<PrintResult> => {
    try {
      const r = await ports.printer.print(receipt, signal);
      return { type: 'print.result', ok: true, copy: r?.copy ?? false };
    } catch (err) {
      if (signal.aborted) throw err;
      log('printing failed', err);
      return { type: 'print.result', ok: false, reason: printFailure((err as { code?: unknown } | null)?.code) };
    }
  };

  const payout: Perform<PayoutEvent, PayoutEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadPayee':
        return { type: 'payee.loaded', person: bank.person(f.personId), vouchers: bank.vouchers(f.personId) };
      case 'recordPayout':
        return stored('payout', () => {
          const r = bank.recordPayout(f);
          return r.ok ? { type: 'payout.recorded', receipt: r.receipt } : { type: 'payout.failed', reason: r.reason };
        }, { type: 'payout.failed', reason: 'store-error' });
      case 'openDrawer':
        try {
          await ports.drawer.open(signal);
          bank.markDrawerOpened(f.recordId);
          return { type: 'drawer.opened' };
        } catch (err) {
          log('cash drawer did not open', err);
          return { type: 'drawer.failed' };
        }
      case 'verifyPalm': {
        const r = await read({ purpose: 'verify', signal });
        if (!r.ok) return [...qualityEvent(r.quality, r.reason), { type: 'palm.verified', ok: false }];
        return [...qualityEvent(r.quality, null), { type: 'palm.verified', ok: await identifier.verify(f.personId, r.template) }];
      }
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const purchase: Perform<PurchaseEvent, PurchaseEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyOperator':
      case 'verifyOperatorPin':
        return auth(f, signal);
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadCustomer':
        return { type: 'customer.loaded', person: bank.person(f.personId) };
      case 'verifyCustomerPin':
        return { type: 'pin.result', result: await bank.verifyCustomerPin(f.personId, f.pin) };
      case 'checkPurchaseLimits':
        try {
          return { type: 'limits.checked', result: bank.checkPurchase(f) };
        } catch (err) {
          log('purchase limits could not be checked', err);
          return { type: 'limits.checked', result: { ok: false, reason: 'store-error', overridable: false } };
        }
      case 'authorizePurchase':
        return stored<PurchaseEvent>('purchase', () => {
          const r = bank.authorizePurchase(request(f));
          return r.ok ? { type: 'purchase.approved', receipt: r.receipt } : { type: 'purchase.declined', reason: r.reason, overridable: r.overridable, canSpend: r.canSpend ?? null };
        }, { type: 'purchase.declined', reason: 'store-error', overridable: false });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const bill: Perform<BillEvent, BillEffect> = async (f, signal) => {
    switch (f.type) {
      case 'lookupBills':
        return { type: 'bills.found', lookup: bank.lookupBills(f.subscriber) };
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadPayer': {
        const payer = personWithPin(f.personId);
        return { type: 'payer.loaded', ...payer, linked: payer.person ? bank.mayPayBills(f.personId, f.subscriber, f.billerIds) : false };
      }
      case 'verifyCustomerPin':
        return { type: 'pin.result', result: await bank.verifyCustomerPin(f.personId, f.pin) };
      case 'payBills':
        return stored('bill payment', () => {
          const r = bank.payBills(request(f));
          return r.ok ? { type: 'bills.paid', receipt: r.receipt } : { type: 'bills.declined', reason: r.reason };
        }, { type: 'bills.declined', reason: 'store-error' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  // ---- issue 17d: meter readings and mandates ----
  const reading: Perform<ReadingEvent, ReadingEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyOperator':
      case 'verifyOperatorPin':
        return auth(f, signal);
      case 'lookupMeters':
        return { type: 'meters.found', lookup: bank.lookupMeters(f.subscriber) };
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadReader':
        return { type: 'reader.loaded', person: bank.person(f.personId) };
      case 'recordReading':
        return stored('meter reading', () => {
          const r = bank.recordReading(request(f));
          return r.ok ? { type: 'reading.recorded', receipt: r.receipt } : { type: 'reading.declined', reason: r.reason };
        }, { type: 'reading.declined', reason: 'store-error' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const mandate: Perform<MandateEvent, MandateEffect> = async (f, signal) => {
    switch (f.type) {
      case 'lookupMeters':
        return { type: 'meters.found', lookup: bank.lookupMeters(f.subscriber) };
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadSigner':
        return { type: 'signer.loaded', ...personWithPin(f.personId) };
      case 'verifyCustomerPin':
        return { type: 'pin.result', result: await bank.verifyCustomerPin(f.personId, f.pin) };
      case 'loadMandates':
        return { type: 'mandates.loaded', mandates: bank.mandatesOf(f.personId) };
      case 'recordMandate':
        return stored('mandate', () => {
          const r = bank.recordMandate(request(f));
          return r.ok ? { type: 'mandate.recorded', receipt: r.receipt } : { type: 'mandate.declined', reason: r.reason };
        }, { type: 'mandate.declined', reason: 'store-error' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  // ---- issue 17f: a customer's PIN set at a supervised counter ----
  const pinSet: Perform<PinSetEvent, PinSetEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyOperator':
      case 'verifyOperatorPin':
        return auth(f, signal);
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadHolder':
        return { type: 'holder.loaded', ...personWithPin(f.personId) };
      case 'setPin':
        return stored('the PIN', async () => {
          const r = await bank.setCustomerPin(request(f));
          return r.ok ? { type: 'pin.recorded', receipt: r.receipt } : { type: 'pin.declined', reason: r.reason };
        }, { type: 'pin.declined', reason: 'store-error' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const reversal: Perform<ReversalEvent, ReversalEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyOperator':
      case 'verifyOperatorPin':
        return auth(f, signal);
      case 'findRecord':
        return { type: 'record.found', original: bank.findRecord(f.seq) };
      case 'recordReversal':
        return stored('reversal', () => {
          const r = bank.recordReversal(request(f));
          return r.ok ? { type: 'reversal.recorded', receipt: r.receipt } : { type: 'reversal.failed', reason: r.reason };
        }, { type: 'reversal.failed', reason: 'store-error' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const enrolment: Perform<EnrolmentEvent, EnrolmentEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyOperator':
      case 'verifyOperatorPin':
        return auth(f, signal);
      case 'captureSample': {
        const r = await read({ purpose: 'enrol', hand: f.hand, signal });
        if (!r.ok) return [...qualityEvent(r.quality, r.reason), { type: 'capture.result', hand: f.hand, ok: false, reason: r.reason, quality: r.quality }];
        const sampleId = crypto.randomUUID();
        samples.set(sampleId, { hand: f.hand, template: r.template });
        return [...qualityEvent(r.quality, null), { type: 'capture.result', hand: f.hand, ok: true, sampleId, quality: r.quality }];
      }
      case 'discardSample':
        samples.delete(f.sampleId);
        return;
      case 'checkDuplicate': {
        const templates = f.sampleIds.flatMap((id) => (samples.has(id) ? [samples.get(id)!.template] : []));
        const ids = await identifier.duplicates(templates);
        return { type: 'duplicate.result', candidates: bank.duplicateCandidates(ids) };
      }
      case 'saveEnrolment': {
        const pick = (hand: EnrolHand) => f.captures[hand].flatMap((c) => (samples.has(c.sampleId) ? [samples.get(c.sampleId)!.template] : []));
        try {
          const templates = { left: pick('left'), right: pick('right') };
          const r = await bank.saveEnrolment({ draft: f.draft, templates, operatorId: f.operatorId, overrideBy: f.overrideBy, pin: f.pin, ...(f.enrolAs ? { enrolAs: f.enrolAs } : {}) });
          samples.clear();
          identifier.add?.(r.personId, [...templates.left, ...templates.right]);
          return { type: 'enrolment.saved', personId: r.personId, receipt: r.receipt };
        } catch (err) {
          log('enrolment could not be saved', err);
          return { type: 'enrolment.failed' };
        }
      }
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const statement: Perform<StatementEvent, StatementEffect> = async (f, signal) => {
    if (f.type === 'identifyPalm') return identifiedPalm(signal);
    return { type: 'statement.loaded', person: bank.person(f.personId), entries: bank.statement(f.personId, STATEMENT_LINES), allowance: bank.allowanceLeft(f.personId) };
  };

  const dayClose: Perform<DayCloseEvent, DayCloseEffect> = async (f, signal) => {
    switch (f.type) {
      case 'loadDayTotals':
        try {
          return { type: 'totals.loaded', totals: bank.dayTotals() };
        } catch (err) {
          log('day totals could not be read', err);
          return { type: 'totals.failed', reason: 'store-error' };
        }
      case 'recordDayClose':
        return stored<DayCloseEvent>('day close', () => ({ type: 'dayclose.recorded', receipt: bank.recordDayClose(request(f)) }), { type: 'dayclose.failed' });
      case 'print':
        return print(f.receipt, signal);
    }
  };

  const report: Perform<ReportEvent, ReportEffect> = async (f, signal) => {
    switch (f.type) {
      case 'identifyPalm':
        return identifiedPalm(signal);
      case 'loadPerson':
        return { type: 'person.loaded', ...personWithPin(f.personId) };
      case 'verifyCustomerPin':
        return { type: 'pin.result', result: await bank.verifyCustomerPin(f.personId, f.pin) };
      case 'fetchReport': {
        if (!ports.centre) return { type: 'report.fetched', result: { ok: false, reason: 'centre-unreachable' } };
        try {
          return { type: 'report.fetched', result: await ports.centre.report({ personId: f.personId, month: f.month, person: f.person, operatorId: f.operatorId, pin: f.pin }, signal) };
        } catch (err) {
          log('the report could not be fetched', err);
          return { type: 'report.fetched', result: { ok: false, reason: 'centre-unreachable' } };
        }
      }
      case 'print':
        return print(f.receipt, signal);
    }
  };

  // Every failure becomes the screen's answer (unplugged, timed out, refused), never a thrown effect.
  const scannerCheck: Perform<ScannerCheckEvent, ScannerCheckEffect> = async (f, signal) => {
    const port = ports.scanner;
    const why = (err: unknown) => ({ code: (err as { code?: string }).code ?? 'SCANNER_CHECK_FAILED', message: err instanceof Error ? err.message : String(err) });
    if (f.type === 'identifyScanner') {
      if (!port) return { type: 'scanner.unavailable', code: 'SCANNER_CHECK_UNAVAILABLE', message: 'this counter has no scanner check' };
      try {
        return { type: 'scanner.identified', identity: await port.identify(signal) };
      } catch (err) {
        return { type: 'scanner.unavailable', ...why(err) };
      }
    }
    if (!port) return { type: 'scanner.tested', result: { ok: false, code: 'SCANNER_CHECK_UNAVAILABLE', message: 'this counter has no scanner check' } };
    try {
      return { type: 'scanner.tested', result: await port.testCapture(signal) };
    } catch (err) {
      return { type: 'scanner.tested', result: { ok: false, ...why(err) } };
    }
  };

  return { auth, payout, purchase, bill, reading, mandate, pinSet, reversal, enrolment, statement, report, dayClose, scannerCheck, discardSamples: () => samples.clear() };
}
