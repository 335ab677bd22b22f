// The link state as the status bar shows it, for the screens: a decline's advice must agree with the bar
// ("wait for the link" only while the link is down).
import { createContext, useContext } from 'react';

export type LinkState = 'up' | 'down' | 'unknown';

export const LinkContext = createContext<LinkState>('unknown');

export function useLinkState(): LinkState {
  return useContext(LinkContext);
}

/** The palm index's load (status bar): the lock screen says a hand is read once the palms are loaded. */
export type PalmsState = 'waiting' | 'loading' | 'ready' | 'error' | 'none';
export const PalmsContext = createContext<PalmsState>('none');
