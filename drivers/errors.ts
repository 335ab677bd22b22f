/**
 * The drivers' typed errors. Drivers cannot import src/, so this is their own base: same shape as
 * PalmPayError (a stable machine-readable `code`, a one-line `message`). The host switches on `code`.
 */
export const DRIVER_ERROR_CODES = [
  // wire / protocol: a byte or report from the device failed validation
  'PROTO_PARITY', // serial message parity byte wrong
  'PROTO_LENGTH', // impossible or over-cap length field
  'PROTO_GARBAGE', // bytes before a sync word, dropped while resynchronising
  'PROTO_TRUNCATED', // a partial message abandoned after a timeout
  'PROTO_BAD_MESSAGE', // well-framed message whose payload does not follow our layout
  'PROTO_BAD_REPORT', // HID report with an unknown type or impossible field
  'PROTO_CRC', // frame CRC-32 mismatch
  'PROTO_FRAME_CORRUPT', // a packed (compressed) frame that does not unpack to its declared size
  'PROTO_CHUNK_LOST', // a chunk is missing (gap in offsets, or end before all bytes)
  'PROTO_CHUNK_DUP', // a chunk arrived twice
  'PROTO_CHUNK_STRAY', // a chunk or end without a matching begin
  'PROTO_TRANSFER_TIMEOUT', // a chunked transfer stalled
  'PROTO_STALE_REPLY', // a well-formed answer nobody is waiting for (late, duplicated)
  // device said no
  'DEVICE_REJECTED', // a HID scanner refused a command (serial modules: the MODULE_* codes below)
  // a serial module's result code (the EF AA family's list; drivers/serial-module/family.ts RESULTS)
  'MODULE_REJECTED', // 1
  'MODULE_ABORTED', // 2
  'MODULE_CAMERA_FAILED', // 4
  'MODULE_FAILED', // 5 unknown reason
  'MODULE_INVALID_PARAM', // 6
  'MODULE_NO_MEMORY', // 7
  'MODULE_UNKNOWN_USER', // 8
  'MODULE_TABLE_FULL', // 9
  'MODULE_ALREADY_ENROLLED', // 10
  'MODULE_LIVENESS_FAILED', // 12
  'MODULE_AUTH_FAILED', // 14
  'MODULE_FILE_READ_FAILED', // 19
  'MODULE_FILE_WRITE_FAILED', // 20
  'MODULE_ENCRYPTION_REQUIRED', // 21
  'MODULE_RESULT_UNKNOWN', // a result code outside the family's list
  'MODULE_REPLY_SHORT', // a well-framed reply shorter than the family's fields (not retried: the module means it)
  'MODULE_IMAGE_INVALID', // an uploaded image that does not match its announced size or does not decode
  'CAPABILITY_MISSING', // the module does not have what the call needs (discovered, not assumed)
  'ENROL_UNCERTAIN', // an enrolment's outcome could not be established even after reconciling
  'VERDICT_UNCONFIRMED', // a module's verify verdict was not confirmed on the host (ask for the PIN)
  'VERDICT_CONTRADICTED', // the host's match says the palm on the glass is not the user the module claims
  'MODULE_FEATURE_FOREIGN', // a feature blob of another module family or format than this module's (never sent)
  'CONFIG_BAD_PSEUDONYM', // a user_name that is not a pseudonymous id
  'DEVICE_RESTARTED', // a power-up note arrived in the middle of an exchange
  'NO_PALM', // the device waited for a palm and none came
  // exchange / transport
  'SCANNER_TIMEOUT',
  'SCANNER_ABORTED',
  'SCANNER_BUSY',
  'SCANNER_UNRESPONSIVE', // retries exhausted
  'TRANSPORT_NOT_OPEN',
  'TRANSPORT_OPEN_FAILED',
  'TRANSPORT_DISCONNECTED',
  'TRANSPORT_WRITE_FAILED',
  'DISCOVERY_FAILED',
  'DEVICE_NOT_FOUND',
  'CONFIG_INVALID',
  // record / replay
  'REPLAY_UNEXPECTED',
  'REPLAY_UNCONSUMED',
  'REPLAY_BAD_FIXTURE',
  // receipt printer (ESC/POS): what the printer's real-time status (DLE EOT) says, or that it said nothing
  'PRINTER_PAPER_OUT', // the roll is empty (paper-end sensor)
  'PRINTER_COVER_OPEN', // the cover is open
  'PRINTER_OFFLINE', // offline for another reason (an error, paper being fed by hand)
  'PRINTER_TIMEOUT', // no status byte in time: unplugged, switched off, or not an ESC/POS printer
  // simulator
  'SIM_FAILED',
] as const;

export type DriverErrorCode = (typeof DRIVER_ERROR_CODES)[number];

export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DriverError';
  }
}

export function isDriverError(err: unknown, code?: DriverErrorCode): err is DriverError {
  return err instanceof DriverError && (code === undefined || err.code === code);
}

/** Protocol errors come from bad bytes on the wire: retrying the exchange may succeed. */
export function isWireError(err: unknown): boolean {
  return err instanceof DriverError && (err.code.startsWith('PROTO_') || err.code === 'SCANNER_TIMEOUT' || err.code === 'DEVICE_RESTARTED');
}

/** Wraps anything thrown by a library into a DriverError with the given code (keeps DriverErrors). */
export function asDriverError(err: unknown, code: DriverErrorCode, context: string): DriverError {
  if (err instanceof DriverError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return new DriverError(code, `${context}: ${msg}`, { cause: err });
}
