/**
 * Fault injection for the simulated devices: with probability `rate` per exchange, one fault from
 * `kinds` is applied to that exchange's answer. Seeded, so a failing run can be replayed; counted,
 * so tests can report what was injected.
 */
import { rng } from './rng.ts';

export const SERIAL_FAULTS = ['garbage', 'bitflip', 'drop', 'duplicate', 'delay', 'truncate', 'power_up'] as const;
export const HID_FAULTS = ['garbage', 'drop', 'duplicate', 'delay', 'power_up', 'drop_chunk', 'dup_chunk', 'corrupt_chunk', 'stall'] as const;
export type FaultKind = (typeof SERIAL_FAULTS)[number] | (typeof HID_FAULTS)[number];

export interface FaultPlan {
  /** Probability that an exchange gets a fault (0..1). */
  rate: number;
  kinds?: readonly FaultKind[];
  seed?: number;
  /** Delay range for 'delay' (ms). */
  delayMs?: [number, number];
}

export class FaultInjector {
  readonly counts: Partial<Record<FaultKind, number>> = {};
  exchanges = 0;
  readonly random: () => number;
  constructor(
    readonly plan: FaultPlan,
    private readonly defaults: readonly FaultKind[],
  ) {
    this.random = rng(plan.seed ?? 1);
  }

  get injected(): number {
    return Object.values(this.counts).reduce((a, b) => a + (b ?? 0), 0);
  }

  /** Called once per exchange: the fault to apply, or null. */
  next(allowed?: readonly FaultKind[]): FaultKind | null {
    this.exchanges++;
    if (this.plan.rate <= 0 || this.random() >= this.plan.rate) return null;
    const kinds = (this.plan.kinds ?? this.defaults).filter((k) => !allowed || allowed.includes(k));
    if (kinds.length === 0) return null;
    const k = kinds[Math.floor(this.random() * kinds.length)]!;
    this.counts[k] = (this.counts[k] ?? 0) + 1;
    return k;
  }

  delay(): number {
    const [lo, hi] = this.plan.delayMs ?? [20, 600];
    return lo + (hi - lo) * this.random();
  }

  int(n: number): number {
    return Math.floor(this.random() * n);
  }

  garbage(): Uint8Array {
    const b = new Uint8Array(1 + this.int(40));
    for (let i = 0; i < b.length; i++) b[i] = this.int(256);
    return b;
  }
}
