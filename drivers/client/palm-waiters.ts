// Palm-presence notes fan out to whoever is waiting; both device kinds share this.
import { waitFor } from '../util/abort.ts';
import type { PalmEvent } from './types.ts';

export class PalmWaiters {
  private readonly waiters = new Set<(e: PalmEvent) => void>();

  /** Delivers a palm event from the device to every waiter. */
  notify(e: PalmEvent): void {
    for (const w of [...this.waiters]) w(e);
  }

  /**
   * Resolves with the next "present" note, or null after `pollMs` so the caller polls the device again
   * (a note can be lost on the wire).
   */
  nextPresent(pollMs: number, signal: AbortSignal | undefined): Promise<PalmEvent | null> {
    return waitFor<PalmEvent | null>('wait for palm', { signal }, (resolve) => {
      const w = (ev: PalmEvent) => ev.state === 'present' && resolve(ev);
      this.waiters.add(w);
      const t = setTimeout(() => resolve(null), pollMs);
      return () => {
        clearTimeout(t);
        this.waiters.delete(w);
      };
    });
  }
}
