// The palm side over the SIMULATED scanner (drivers/sim), through the real ScannerClient: presence and
// distance events, waitForPalm, a real frame capture over the wire protocol. What is NOT real yet is the
// recognition: the synthetic palms do not yet separate under src/biometrics' extractor, so this reader takes
// the identity label the simulator put on the glass as the "template", and LabelIdentifier matches labels.
// It is a placeholder and says so (PLACEHOLDER_DESCRIPTION) on screen and in the log.
import type { ScannerClient } from '../../../drivers/client/client.ts';
import type { PalmEvent } from '../../../drivers/client/types.ts';
import type { Stage } from '../../../drivers/sim/stage.ts';
import type { Identifier, PalmRead, PalmReader } from './ports.ts';
import type { IdentifyOutcome, PlacementEvent } from './types.ts';

export const PLACEHOLDER_DESCRIPTION =
  'identification by the simulator’s identity labels (real scanner protocol and frames; palm-vein matching not wired yet)';

/** The sim's good working distance (mm); outside it a capture is a failure to acquire. */
const NEAR_MM = 35;
const FAR_MM = 95;

export function distanceHint(mm: number): PlacementEvent & { type: 'scanner.distance' } {
  return { type: 'scanner.distance', distance: mm <= 0 ? 'unknown' : mm < NEAR_MM ? 'farther' : mm > FAR_MM ? 'closer' : 'ok' };
}

export class SimLabelPalmReader implements PalmReader<string> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(e: PlacementEvent) => void>();

  constructor(
    private readonly client: ScannerClient,
    private readonly stage: Stage,
  ) {
    client.on('palm', (e: PalmEvent) => {
      const present = e.state !== 'none';
      this.emit({ type: 'scanner.presence', present });
      if (present) this.emit(distanceHint(e.distanceMm));
    });
  }

  onPlacement(listener: (e: PlacementEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: PlacementEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** One read at a time: the scanner runs one exchange at a time, and two screens wait their turn. */
  read(opts: { signal: AbortSignal }): Promise<PalmRead<string>> {
    const run = this.chain.then(() => this.readOnce(opts.signal));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readOnce(signal: AbortSignal): Promise<PalmRead<string>> {
    signal.throwIfAborted();
    await this.client.waitForPalm({ signal, timeoutMs: 24 * 3600_000 });
    const onGlass = this.stage.palm;
    await this.client.capture({ signal, want: 'frame' });
    if (!onGlass) return { ok: false, reason: 'no-hand', quality: 0 };
    if (onGlass.distanceMm > FAR_MM) return { ok: false, reason: 'too-far', quality: 0.3 };
    if (onGlass.distanceMm < NEAR_MM) return { ok: false, reason: 'too-close', quality: 0.3 };
    return { ok: true, template: onGlass.identity, quality: 0.9 };
  }
}

/**
 * Matches identity labels: a label enrolled under one person matches them; under two people it is ambiguous
 * (the simulator's stand-in for two palms too close to tell apart); unknown labels match no one.
 */
export class LabelIdentifier implements Identifier<string> {
  private readonly owners = new Map<string, Set<string>>();

  add(personId: string, labels: string[]): void {
    for (const l of labels) {
      const set = this.owners.get(l) ?? new Set<string>();
      set.add(personId);
      this.owners.set(l, set);
    }
  }

  identify(probe: string): IdentifyOutcome {
    const owners = this.owners.get(probe);
    if (!owners || owners.size === 0) return { kind: 'no-match' };
    if (owners.size > 1) return { kind: 'ambiguous' };
    return { kind: 'match', personId: [...owners][0]! };
  }

  verify(personId: string, probe: string): boolean {
    return this.owners.get(probe)?.has(personId) ?? false;
  }

  duplicates(samples: string[]): string[] {
    return [...new Set(samples.flatMap((s) => [...(this.owners.get(s) ?? [])]))];
  }
}
