// The thin service around one flow: keeps its state, runs its reducer on every event, performs the effects it
// asks for (I/O through the ports) and feeds their results back as events. Results that arrive after the flow
// has moved to another step (a palm read that finishes after "cancel") are dropped, and their work is aborted.
import type { Reducer, Step } from './machine.ts';

export type Perform<E, F> = (effect: F, signal: AbortSignal) => Promise<E | E[] | void>;

export interface DriverOptions<S> {
  onChange?: (state: S) => void;
  /** An effect threw instead of turning its failure into an event: a bug in a port adapter. Logged by the host. */
  onError?: (err: unknown) => void;
}

export class FlowDriver<S extends { step: string }, E, F> {
  private current: S;
  /** Bumped whenever the step changes: effects from an older generation are stale. */
  private generation = 0;
  private readonly inflight = new Map<AbortController, number>();
  private closed = false;
  private readonly waiters = new Set<() => void>();
  /** Bumped on every state change: a screen that hears of a state twice (call result, event) keeps the newer. */
  private revision = 0;

  constructor(
    private readonly reducer: Reducer<S, E, F>,
    start: Step<S, F>,
    private readonly perform: Perform<E, F>,
    private readonly opts: DriverOptions<S> = {},
  ) {
    this.current = start.state;
    this.runEffects(start.effects);
  }

  get state(): S {
    return this.current;
  }

  get rev(): number {
    return this.revision;
  }

  /** Applies one event now (synchronously) and starts the effects it asks for. Returns the new state. */
  dispatch(event: E): S {
    if (this.closed) return this.current;
    const before = this.current;
    const step = this.reducer(before, event);
    this.current = step.state;
    if (step.state.step !== before.step) {
      this.generation++;
      for (const [ctl, gen] of this.inflight) if (gen !== this.generation) ctl.abort();
    }
    if (step.state !== before) {
      this.revision++;
      this.opts.onChange?.(step.state);
      for (const wake of [...this.waiters]) wake();
    }
    this.runEffects(step.effects);
    return this.current;
  }

  /** Resolves when the state satisfies `pred` (tests, and callers that await a result step). */
  waitFor(pred: (s: S) => boolean, timeoutMs = 10_000): Promise<S> {
    if (pred(this.current)) return Promise.resolve(this.current);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`flow stayed in step '${this.current.step}' for ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        if (!pred(this.current)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(this.current);
      };
      this.waiters.add(check);
    });
  }

  /** Stops the flow: aborts every effect in flight; later results are ignored. */
  close(): void {
    this.closed = true;
    for (const ctl of this.inflight.keys()) ctl.abort();
    this.inflight.clear();
  }

  private runEffects(effects: F[]): void {
    for (const effect of effects) {
      const ctl = new AbortController();
      const gen = this.generation;
      this.inflight.set(ctl, gen);
      this.perform(effect, ctl.signal).then(
        (result) => {
          this.inflight.delete(ctl);
          if (this.closed || ctl.signal.aborted || gen !== this.generation || result === undefined) return;
          for (const e of Array.isArray(result) ? result : [result]) this.dispatch(e);
        },
        (err: unknown) => {
          this.inflight.delete(ctl);
          if (ctl.signal.aborted || this.closed) return; // aborted on purpose
          this.opts.onError?.(err);
        },
      );
    }
  }
}
