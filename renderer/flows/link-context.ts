// The link state as the status bar shows it, for the screens: a decline's advice must agree with the bar
// ("wait for the link" only while the link is down).
import { createContext, useContext } from 'react';

export type LinkState = 'up' | 'down' | 'unknown';

export const LinkContext = createContext<LinkState>('unknown');

export function useLinkState(): LinkState {
  return useContext(LinkContext);
}
