// Host → renderer events: pushed whenever a part of the status changes, so the status bar needs no polling.
import { z } from 'zod';
import { LinkStatus, PalmsStatus, PrinterStatus, QueueStatus, ScannerStatus, Settings } from './schemas.ts';
import { FlowView, SessionView } from './flows.ts';
import { SetupProgress } from './setup.ts';

export const HostEvent = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('scanner'), scanner: ScannerStatus }),
  z.strictObject({ type: z.literal('link'), link: LinkStatus }),
  z.strictObject({ type: z.literal('queue'), queue: QueueStatus }),
  z.strictObject({ type: z.literal('printer'), printer: PrinterStatus }),
  z.strictObject({ type: z.literal('palms'), palms: PalmsStatus }),
  z.strictObject({ type: z.literal('settings'), settings: Settings }),
  z.strictObject({ type: z.literal('flow'), view: FlowView }),
  z.strictObject({ type: z.literal('session'), session: SessionView }),
  z.strictObject({ type: z.literal('setup'), progress: SetupProgress }),
]);
export type HostEvent = z.infer<typeof HostEvent>;
export type HostEventType = HostEvent['type'];
