// The counter's questions to the centre while the person waits (flows/ports.ts CentreReports): the person's
// financial report for a month, asked over the terminal's signed link (src/sync: Sync.report). Each request is a
// signed `report_request` record appended to the journal (who asked, for whom, which month) and carries the
// person's PIN sealed to the centre for that request only; the centre checks both (src/server/report/access.ts).
// No copy is kept here (flows/report.ts says why): the link down, or the centre silent, is 'centre-unreachable'.
import type { CentreReports } from '../../flows/ports.ts';
import type { ReportFetch, ReportFetchRefusal } from '../../flows/report.ts';
import { reportReceipt } from '../../flows/receipts.ts';
import type { RecordDraft, SignedRecord } from '../../protocol/record.ts';
import { CentreRefusal, type Sync } from '../../sync/index.ts';

/** The centre's refusal codes, as the counter's screens say them. */
const REFUSALS: Record<string, ReportFetchRefusal> = {
  REPORT_NOT_FOUND: 'report-not-found',
  REPORT_PIN_LOCKED: 'pin-locked',
  REPORT_PIN_NOT_SET: 'pin-not-set',
  REPORT_RATE_LIMITED: 'rate-limited',
};

export function centreReports(o: { sync: Pick<Sync, 'report'>; terminalId: string; append: (draft: RecordDraft) => SignedRecord; now?: () => number }): CentreReports {
  const now = o.now ?? Date.now;
  return {
    async report(req, signal): Promise<ReportFetch> {
      signal.throwIfAborted();
      try {
        const { personId, month, operatorId } = req;
        const report = await o.sync.report({
          personId, month, pin: req.pin,
          sign: ({ requestId, sealedPinDigest }) => o.append({ type: 'report_request', operatorId, requestId, personId, month, sealedPinDigest }),
        });
        if (report.person !== req.personId || report.month !== req.month) return { ok: false, reason: 'centre-unreachable' }; // not the answer asked for
        const receipt = reportReceipt({ terminalId: o.terminalId, operatorId: req.operatorId, at: new Date(now()).toISOString() }, req.person, report);
        return { ok: true, report, receipt };
      } catch (err) {
        if (err instanceof CentreRefusal) {
          if (err.remoteCode === 'REPORT_PIN_WRONG') return { ok: false, reason: 'pin-wrong', attemptsLeft: err.attemptsLeft ?? 0 };
          // Any other refusal of this counter's signed request (replayed, forged, an unbound PIN, malformed).
          return { ok: false, reason: REFUSALS[err.remoteCode] ?? 'request-refused' };
        }
        // A typed error of ours (a report or key not signed by the pinned centre key) or the link: unreachable.
        return { ok: false, reason: 'centre-unreachable' };
      }
    },
  };
}
