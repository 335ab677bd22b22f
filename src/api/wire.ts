// How calls and events travel. One message format for the WebSocket (browser mode); the Electron bridge uses
// the same call names as IPC channels and the same result envelope.
import { z } from 'zod';
import { ApiError } from './schemas.ts';
import { HostEvent } from './events.ts';

/** Largest message either side accepts (bytes). Calls are small; anything bigger is an attack or a bug. */
export const MAX_MESSAGE_BYTES = 64 * 1024;

/** Renderer → host. `input` is validated against the call's own schema by the dispatcher. */
export const WireRequest = z.strictObject({
  id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  call: z.string().min(1).max(64),
  input: z.unknown().optional(),
});
export type WireRequest = z.infer<typeof WireRequest>;

/** The outcome of one call: the same envelope over WebSocket and over Electron IPC. */
export const CallResult = z.discriminatedUnion('ok', [
  z.strictObject({ ok: z.literal(true), output: z.unknown() }),
  z.strictObject({ ok: z.literal(false), error: ApiError }),
]);
export type CallResult = z.infer<typeof CallResult>;

/** Host → renderer: a reply to one request, or an event. */
export const WireMessage = z.union([
  z.strictObject({ kind: z.literal('result'), id: z.number().int(), result: CallResult }),
  z.strictObject({ kind: z.literal('event'), event: HostEvent }),
]);
export type WireMessage = z.infer<typeof WireMessage>;

/** Electron IPC channel names, derived from the call names. */
export const ipcChannel = (call: string): string => `palmpay:call:${call}`;
export const IPC_EVENT_CHANNEL = 'palmpay:event';

/** The name under which the preload exposes the API in the renderer's window. */
export const BRIDGE_GLOBAL = 'palmpay';
