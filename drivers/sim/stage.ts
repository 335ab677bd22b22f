/**
 * The scanner's glass: which palm lies on it now, and a scripted queue of presentations.
 * A presentation stays until it has been captured `captures` times, `holdMs` has passed, or remove().
 */
import { Emitter } from '../util/emitter.ts';

export interface Presentation {
  identity: string;
  /** Which sample (session pose) of this identity; default 1. */
  sample?: number;
  /** Wait this long (ms) after the previous presentation ends before laying this palm. */
  afterMs?: number;
  /** Lift the palm after this many captures (default 1 for queued presentations). */
  captures?: number;
  /** Lift the palm after this long (ms). */
  holdMs?: number;
  /** Distance reported while present, mm. */
  distanceMm?: number;
}

export interface OnGlass {
  identity: string;
  sample: number;
  distanceMm: number;
  captured: number;
}

export class Stage extends Emitter<{ change: OnGlass | null }> {
  private current: (OnGlass & { limit: number; holdTimer?: NodeJS.Timeout }) | null = null;
  private readonly queue: Presentation[] = [];
  private nextTimer: NodeJS.Timeout | null = null;
  /** Each identity's running capture number, so repeated shots differ. */
  private readonly shots = new Map<string, number>();
  /** When no palm is queued, lay this one whenever a capture waits (handy for benches). */
  autoPresent: (() => Presentation) | null = null;

  get palm(): OnGlass | null {
    return this.current;
  }

  /** Lays a palm now (replacing any). Stays until removed unless `captures`/`holdMs` say otherwise. */
  present(p: Presentation): void {
    this.lift(false);
    const cur = { identity: p.identity, sample: p.sample ?? 1, distanceMm: p.distanceMm ?? 60, captured: 0, limit: p.captures ?? Infinity } as OnGlass & { limit: number; holdTimer?: NodeJS.Timeout };
    if (p.holdMs !== undefined) cur.holdTimer = setTimeout(() => this.current === cur && this.remove(), p.holdMs);
    this.current = cur;
    this.emit('change', cur);
  }

  remove(): void {
    this.lift(true);
  }

  /** Queues presentations, played one after another (each defaults to one capture). */
  enqueue(...ps: Presentation[]): void {
    this.queue.push(...ps);
    if (!this.current) this.playNext();
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Makes a palm available for a capture if the script allows; returns what is on the glass. */
  ensurePalm(): OnGlass | null {
    if (!this.current && !this.nextTimer && this.queue.length === 0 && this.autoPresent) this.present({ captures: 1, ...this.autoPresent() });
    return this.current;
  }

  /** Records a capture; returns the shot number for image variation. */
  shoot(): number {
    const cur = this.current!;
    const key = `${cur.identity}:${cur.sample}`;
    const n = this.shots.get(key) ?? 0;
    this.shots.set(key, n + 1);
    cur.captured++;
    if (cur.captured >= cur.limit) setImmediate(() => this.current === cur && this.remove());
    return n;
  }

  private lift(playNext: boolean): void {
    const cur = this.current;
    if (cur) {
      if (cur.holdTimer) clearTimeout(cur.holdTimer);
      this.current = null;
      this.emit('change', null);
    }
    if (playNext) this.playNext();
  }

  private playNext(): void {
    if (this.nextTimer || this.queue.length === 0) return;
    const p = this.queue.shift()!;
    this.nextTimer = setTimeout(() => {
      this.nextTimer = null;
      this.present({ captures: 1, ...p });
    }, p.afterMs ?? 0);
  }

  dispose(): void {
    if (this.nextTimer) clearTimeout(this.nextTimer);
    this.nextTimer = null;
    if (this.current?.holdTimer) clearTimeout(this.current.holdTimer);
  }
}
