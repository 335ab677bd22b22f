// Which screen each role opens. A flow (issue 8 onward) replaces its NotYet entry here.
import type { ReactElement } from 'react';
import type { HostApi } from '@api/index.ts';
import type { Role } from './Home.tsx';
import { NotYet } from './NotYet.tsx';

export interface ScreenProps {
  api: HostApi;
  role: Role;
  /** Intl locale for numbers, money and dates (see format.ts). */
  locale: string;
  onBack(): void;
}

export const roleScreens: Record<Role, (props: ScreenProps) => ReactElement> = {
  salary: NotYet,
  purchase: NotYet,
  enrolment: NotYet,
};
