// A tiny typed fan-out for host → renderer events. Each transport subscribes once per connection/window.
import type { HostEvent } from '../api/index.ts';

export type EventListener = (event: HostEvent) => void;

export interface EventHub {
  emit(event: HostEvent): void;
  subscribe(listener: EventListener): () => void;
  readonly size: number;
}

export function createEventHub(onListenerError: (err: unknown) => void = () => {}): EventHub {
  const listeners = new Set<EventListener>();
  return {
    emit(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch (err) {
          onListenerError(err); // one broken connection must not starve the others
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get size() {
      return listeners.size;
    },
  };
}
