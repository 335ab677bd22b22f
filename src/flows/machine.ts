// The shape every flow shares: a pure reducer (state, event) → { state, effects }. Effects are data that
// describe I/O (scan, identify, append a record, open the drawer, print); a thin driver performs them and feeds
// the results back as events. So each flow is unit-testable without a scanner, a database or a browser.

export interface Step<S, F> {
  state: S;
  effects: F[];
}

export type Reducer<S, E, F> = (state: S, event: E) => Step<S, F>;

/** No change: the event does not apply in this state (a double click, a late result). */
export function stay<S, F>(state: S): Step<S, F> {
  return { state, effects: [] };
}

export function go<S, F>(state: S, ...effects: F[]): Step<S, F> {
  return { state, effects };
}

/** Runs a list of events through a reducer; returns the final state and every effect asked for (tests, replay). */
export function run<S, E, F>(reducer: Reducer<S, E, F>, state: S, events: E[]): Step<S, F> {
  const effects: F[] = [];
  for (const event of events) {
    const step = reducer(state, event);
    state = step.state;
    effects.push(...step.effects);
  }
  return { state, effects };
}
