// The technician's setup screen over the API: a terminal started without a centre shows it instead of the kiosk.
// It runs the same provisioning as `palmpay terminal provision` (src/host/provision.ts) and reports its progress.
import { z } from 'zod';

export const SetupView = z.strictObject({
  /** True until this counter is provisioned for a centre (the renderer shows the setup screen). */
  needed: z.boolean(),
  /** The identity this counter already has (a counter keeps its terminal id), or null for a new one. */
  terminalId: z.string().max(64).nullable(),
  /** A provisioning is running now. */
  busy: z.boolean(),
});
export type SetupView = z.infer<typeof SetupView>;

export const SetupProvisionInput = z.strictObject({
  centre: z.string().trim().min(1).max(2048),
  code: z.string().trim().min(1).max(128),
  terminalId: z.string().trim().min(1).max(64),
  /** Plain http to a centre off this machine: only when the technician says so (the status bar shows it). */
  insecureHttp: z.boolean().optional(),
});
export type SetupProvisionInput = z.infer<typeof SetupProvisionInput>;

export const SetupResult = z.strictObject({
  terminalId: z.string().max(64),
  publicKeyFingerprint: z.string().max(128),
  centreUrl: z.string().max(2048),
  centreKeyFingerprint: z.string().max(128),
  feedEvents: z.number().int().nonnegative(),
  /** Why the first feed did not complete (the counter keeps pulling it once it runs), or null. */
  feedError: z.string().max(1000).nullable(),
  createdIdentity: z.boolean(),
});
export type SetupResult = z.infer<typeof SetupResult>;

export const SetupProgress = z.strictObject({
  phase: z.enum(['register', 'feed']),
  /** Feed events applied so far. */
  events: z.number().int().nonnegative(),
});
export type SetupProgress = z.infer<typeof SetupProgress>;
