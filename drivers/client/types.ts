// What the host sees of a scanner, whichever kind it is.
import type { DriverError, DriverErrorCode } from '../errors.ts';
import type { CallOptions } from '../util/abort.ts';

export type DeviceState = 'disconnected' | 'connected' | 'ready' | 'busy' | 'unresponsive';
export type ScannerKind = 'serial-module' | 'hid-image';
export type Indicator = 'off' | 'idle' | 'busy' | 'ok' | 'error';
export type PalmState = 'none' | 'present' | 'too_far' | 'too_close' | 'off_center';

export interface ScannerInfo {
  kind: ScannerKind;
  model: string;
  serial: string;
  firmware: string;
  width: number;
  height: number;
  /** What capture() returns by default ('none': a module that only verifies and enrols on itself). */
  captures: 'frame' | 'feature' | 'none';
  /** Serial modules: the family's GET_VERSION text. */
  version?: string;
  /** Serial modules: what discovery found (drivers/PROTOCOL.md table 2), e.g. ['family_images', 'feature_transfer']. */
  capabilities?: string[];
  /** Serial modules: users in the module's table (GET_ALL_USERID), when it answered. */
  users?: number;
}

export type Capture =
  | { kind: 'frame'; width: number; height: number; pixels: Uint8Array }
  | { kind: 'feature'; bytes: Uint8Array };

export interface PalmEvent {
  state: PalmState;
  distanceMm: number;
}

export interface CaptureOptions extends CallOptions {
  /** Serial modules can give the image or the module's feature; default: what info() says. */
  want?: 'frame' | 'feature';
}

export interface IndicatorOptions extends CallOptions {
  beepMs?: number;
}

/** A protocol driver: one per wire protocol, driven by ScannerClient (which serialises the calls). */
export interface ProtocolDriver {
  readonly kind: ScannerKind;
  /** Incoming bytes (serial) or reports (HID). */
  onData(data: Uint8Array): void;
  onDisconnected(err: DriverError | null): void;
  info(opts: CallOptions): Promise<ScannerInfo>;
  waitForPalm(opts: CallOptions): Promise<PalmEvent>;
  capture(opts: CaptureOptions): Promise<Capture>;
  setIndicator(led: Indicator, opts: IndicatorOptions): Promise<void>;
  reset(opts: CallOptions): Promise<void>;
}

/** What a driver reports to the client while it works. */
export interface DriverSink {
  /** A fault seen on the wire (typed), whether or not it was recovered. */
  fault(error: DriverError): void;
  /** A transparent retry was made after `error`. */
  retry(what: string, error: DriverError): void;
  palm(event: PalmEvent): void;
  /** The device announced a (re)start. */
  deviceReady(): void;
  /** Retries exhausted without an answer. */
  unresponsive(error: DriverError): void;
  /** A reply carried `bytes` beyond the fields we know (later firmware); `first`: first time for this module and message. */
  trailingBytes(what: string, bytes: number, first: boolean): void;
}

export interface ScannerStats {
  exchanges: number;
  faults: Partial<Record<DriverErrorCode, number>>;
  retries: number;
  /** Faults per call name that ended in a typed error for the caller. */
  failedCalls: number;
  /** Bytes beyond the known fields, per reply kind (accepted: later firmware grows replies). */
  trailingBytes: Record<string, number>;
}
