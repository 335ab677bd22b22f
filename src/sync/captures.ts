// Template update captures on their way to the centre (issue 19). A counter that admitted a capture into a
// template signs a `template_update` record (it goes up with the other records) and queues the capture here, in
// the same transaction, sealed under the data key. After the records go up, each queued capture is sent to
// `PUT /v1/template-updates/:id/capture`, where the centre re-decides the update on its own copies. The queue keeps
// its own sealed copy: the slot row itself may be replaced (a newer update, or the centre's slots from the feed)
// before the link returns.
import type { Sealer } from '../ledger/sealer.ts';
import type { Store } from '../store/store.ts';
import { CentreRefusal, type CentreClient } from './client.ts';

/** Settings key of the queue: the captures not yet answered by the centre, oldest first. */
export const PENDING_CAPTURES = 'sync.pendingCaptures';

export interface PendingCapture {
  updateId: string;
  /** The plaintext capture sealed under the data key, bound to `updateId` (base64). */
  sealed: string;
}

/** Queues a capture (call inside the transaction that appends its record). */
export function queueCapture(store: Store, c: PendingCapture): void {
  store.settings.set(PENDING_CAPTURES, [...(store.settings.get<PendingCapture[]>(PENDING_CAPTURES) ?? []), c]);
}

export function pendingCaptures(store: Store): PendingCapture[] {
  return store.settings.get<PendingCapture[]>(PENDING_CAPTURES) ?? [];
}

export interface CaptureSendResult {
  applied: number;
  refused: number;
  /** The centre has not received the record yet: kept for the next round. */
  waiting: number;
}

/**
 * Sends every queued capture once. Applied or refused (the centre's decision, final), or refused as not matching
 * the signed digest (it never will): leaves the queue. Not yet known to the centre (its record is still in the
 * outbox): stays. A link failure stops the round and leaves the rest queued.
 */
export async function sendCaptures(o: { store: Store; client: Pick<CentreClient, 'uploadCapture'>; sealer: Sealer }): Promise<CaptureSendResult> {
  const out: CaptureSendResult = { applied: 0, refused: 0, waiting: 0 };
  const done = (updateId: string) =>
    o.store.transaction(() => o.store.settings.set(PENDING_CAPTURES, pendingCaptures(o.store).filter((c) => c.updateId !== updateId)));
  for (const c of pendingCaptures(o.store)) {
    const plain = o.sealer.open(Buffer.from(c.sealed, 'base64'), c.updateId);
    try {
      const r = await o.client.uploadCapture(c.updateId, Buffer.from(plain).toString('base64'));
      if (r.status === 'awaiting-capture') {
        out.waiting++;
        continue;
      }
      if (r.status === 'applied') out.applied++;
      else out.refused++;
      done(c.updateId);
    } catch (err) {
      if (!(err instanceof CentreRefusal)) throw err; // the link: try again next round
      if (err.remoteCode === 'TEMPLATE_UPDATE_UNKNOWN') {
        out.waiting++;
        continue;
      }
      out.refused++;
      done(c.updateId);
    }
  }
  return out;
}
