// The counter's questions to the centre while the person waits (flows/ports.ts CentreReports): the person's
// financial report for a month, asked over the terminal's signed link (src/sync: Sync.report). No copy is kept
// here (flows/report.ts says why): the link down, or the centre silent, is 'centre-unreachable'.
import type { CentreReports } from '../../flows/ports.ts';
import { reportReceipt } from '../../flows/receipts.ts';
import { CentreRefusal, type Sync } from '../../sync/index.ts';

export function centreReports(o: { sync: Pick<Sync, 'report'>; terminalId: string; now?: () => number }): CentreReports {
  const now = o.now ?? Date.now;
  return {
    async report(req, signal) {
      signal.throwIfAborted();
      try {
        const report = await o.sync.report(req.personId, req.month);
        if (report.person !== req.personId || report.month !== req.month) return { ok: false, reason: 'centre-unreachable' }; // not the answer asked for
        const receipt = reportReceipt({ terminalId: o.terminalId, operatorId: req.operatorId, at: new Date(now()).toISOString() }, req.person, report);
        return { ok: true, report, receipt };
      } catch (err) {
        // A 404 is the centre's uniform "not in this region"; anything else (link down, a 5xx, a timeout) is unreachable.
        if (err instanceof CentreRefusal && err.status === 404) return { ok: false, reason: 'report-not-found' };
        return { ok: false, reason: 'centre-unreachable' };
      }
    },
  };
}
