/**
 * Our HID image-scanner profile (drivers/PROTOCOL.md): fixed 64-byte reports, byte 0 is the type.
 * Pure encode/parse; parse validates every field and throws only DriverError('PROTO_BAD_REPORT').
 * (node-hid prefixes writes with a report-id byte; that is the transport's business, not this codec's.)
 */
import { DriverError } from '../errors.ts';
import { Reader, Writer } from '../util/bytes.ts';

export const REPORT_BYTES = 64;
export const CHUNK_HEADER = 8; // type(1) seq(2) offset(4) len(1)
export const CHUNK_DATA = REPORT_BYTES - CHUNK_HEADER; // 56
export const MAX_FRAME_SIDE = 2048;

export const HOST = { GET_INFO: 0x01, SET_INDICATOR: 0x02, START_CAPTURE: 0x03, STOP_CAPTURE: 0x04, SET_EXPOSURE: 0x05, RESET: 0x06, RESEND_FRAME: 0x07, GET_STATUS: 0x08 } as const;
export const DEV = { INFO: 0x81, ACK: 0x82, STATUS: 0x83, EVENT: 0x90, FRAME_BEGIN: 0xa0, FRAME_CHUNK: 0xa1, FRAME_END: 0xa2 } as const;

export const ACK_STATUS = ['ok', 'busy', 'bad_param', 'unknown_command', 'no_frame'] as const;
export type AckStatus = (typeof ACK_STATUS)[number];
export const HID_EVENTS = ['ready', 'palm_present', 'palm_removed', 'distance'] as const;
export type HidEventKind = (typeof HID_EVENTS)[number];
export const HID_INDICATORS = ['off', 'idle', 'busy', 'ok', 'error'] as const;
export const HID_PALM = ['none', 'present', 'too_far', 'too_close', 'off_center'] as const;

export type HostReport =
  | { type: 'get_info' }
  | { type: 'set_indicator'; led: (typeof HID_INDICATORS)[number]; beepMs: number }
  | { type: 'start_capture'; timeoutS: number }
  | { type: 'stop_capture' }
  | { type: 'set_exposure'; exposureUs: number }
  | { type: 'reset' }
  | { type: 'resend_frame'; seq: number }
  | { type: 'get_status' };

export interface HidInfo {
  vendorId: number;
  productId: number;
  firmware: string; // "major.minor"
  width: number;
  height: number;
  serial: string;
  model: string;
}

export type DeviceReport =
  | ({ type: 'info' } & HidInfo)
  | { type: 'ack'; cmd: number; status: AckStatus; seq: number }
  | { type: 'status'; palm: (typeof HID_PALM)[number]; distanceMm: number; capturing: boolean }
  | { type: 'event'; event: HidEventKind; distanceMm: number }
  | { type: 'frame_begin'; seq: number; width: number; height: number; total: number; crc: number }
  | { type: 'frame_chunk'; seq: number; offset: number; data: Uint8Array }
  | { type: 'frame_end'; seq: number; chunks: number };

const bad = (m: string) => new DriverError('PROTO_BAD_REPORT', m);

function pad(b: Uint8Array): Uint8Array {
  if (b.length > REPORT_BYTES) throw new DriverError('CONFIG_INVALID', `report of ${b.length} bytes exceeds ${REPORT_BYTES}`);
  const out = new Uint8Array(REPORT_BYTES);
  out.set(b);
  return out;
}

function index<T extends readonly string[]>(list: T, v: string, what: string): number {
  const i = list.indexOf(v);
  if (i < 0) throw new DriverError('CONFIG_INVALID', `unknown ${what} '${v}'`);
  return i;
}

export function encodeHostReport(r: HostReport): Uint8Array {
  const w = new Writer();
  switch (r.type) {
    case 'get_info':
      return pad(w.u8(HOST.GET_INFO).build());
    case 'set_indicator':
      return pad(w.u8(HOST.SET_INDICATOR).u8(index(HID_INDICATORS, r.led, 'indicator')).u16(Math.max(0, Math.min(0xffff, Math.round(r.beepMs)))).build());
    case 'start_capture':
      return pad(w.u8(HOST.START_CAPTURE).u8(Math.max(1, Math.min(255, Math.round(r.timeoutS)))).build());
    case 'stop_capture':
      return pad(w.u8(HOST.STOP_CAPTURE).build());
    case 'set_exposure':
      return pad(w.u8(HOST.SET_EXPOSURE).u16(r.exposureUs).build());
    case 'reset':
      return pad(w.u8(HOST.RESET).build());
    case 'resend_frame':
      return pad(w.u8(HOST.RESEND_FRAME).u16(r.seq).build());
    case 'get_status':
      return pad(w.u8(HOST.GET_STATUS).build());
  }
}

function checkLen(b: Uint8Array): void {
  if (b.length !== REPORT_BYTES) throw bad(`report of ${b.length} bytes (want ${REPORT_BYTES})`);
}

export function parseHostReport(b: Uint8Array): HostReport {
  checkLen(b);
  const r = new Reader(b, 'host report', 'PROTO_BAD_REPORT');
  const t = r.u8();
  switch (t) {
    case HOST.GET_INFO:
      return { type: 'get_info' };
    case HOST.SET_INDICATOR: {
      const led = HID_INDICATORS[r.u8()];
      if (!led) throw bad('unknown indicator');
      return { type: 'set_indicator', led, beepMs: r.u16() };
    }
    case HOST.START_CAPTURE:
      return { type: 'start_capture', timeoutS: r.u8() };
    case HOST.STOP_CAPTURE:
      return { type: 'stop_capture' };
    case HOST.SET_EXPOSURE:
      return { type: 'set_exposure', exposureUs: r.u16() };
    case HOST.RESET:
      return { type: 'reset' };
    case HOST.RESEND_FRAME:
      return { type: 'resend_frame', seq: r.u16() };
    case HOST.GET_STATUS:
      return { type: 'get_status' };
    default:
      throw bad(`unknown host report type 0x${t.toString(16)}`);
  }
}

export function encodeDeviceReport(r: DeviceReport): Uint8Array {
  const w = new Writer();
  switch (r.type) {
    case 'info': {
      const [maj, min] = r.firmware.split('.').map((x) => Number(x) || 0);
      return pad(w.u8(DEV.INFO).u16(r.vendorId).u16(r.productId).u8(maj ?? 0).u8(min ?? 0).u16(r.width).u16(r.height).ascii(r.serial, 16).ascii(r.model, 24).build());
    }
    case 'ack':
      return pad(w.u8(DEV.ACK).u8(r.cmd).u8(index(ACK_STATUS, r.status, 'ack status')).u16(r.seq).build());
    case 'status':
      return pad(w.u8(DEV.STATUS).u8(index(HID_PALM, r.palm, 'palm state')).u16(r.distanceMm).u8(r.capturing ? 1 : 0).build());
    case 'event':
      return pad(w.u8(DEV.EVENT).u8(index(HID_EVENTS, r.event, 'event')).u16(r.distanceMm).build());
    case 'frame_begin':
      return pad(w.u8(DEV.FRAME_BEGIN).u16(r.seq).u16(r.width).u16(r.height).u8(8).u32(r.total).u32(r.crc).build());
    case 'frame_chunk': {
      // The hot path (5,486 per 640×480 frame): written directly.
      if (r.data.length === 0 || r.data.length > CHUNK_DATA) throw new DriverError('CONFIG_INVALID', `chunk of ${r.data.length} bytes`);
      const b = new Uint8Array(REPORT_BYTES);
      b[0] = DEV.FRAME_CHUNK;
      b[1] = r.seq >> 8;
      b[2] = r.seq;
      b[3] = r.offset >>> 24;
      b[4] = r.offset >>> 16;
      b[5] = r.offset >>> 8;
      b[6] = r.offset;
      b[7] = r.data.length;
      b.set(r.data, CHUNK_HEADER);
      return b;
    }
    case 'frame_end':
      return pad(w.u8(DEV.FRAME_END).u16(r.seq).u32(r.chunks).build());
  }
}

export function parseDeviceReport(b: Uint8Array): DeviceReport {
  checkLen(b);
  if (b[0] === DEV.FRAME_CHUNK) {
    // The hot path, read directly (same checks as the Reader would make).
    const len = b[7]!;
    if (len === 0 || len > CHUNK_DATA) throw bad(`frame chunk: length ${len}`);
    const offset = ((b[3]! << 24) | (b[4]! << 16) | (b[5]! << 8) | b[6]!) >>> 0;
    return { type: 'frame_chunk', seq: (b[1]! << 8) | b[2]!, offset, data: b.subarray(CHUNK_HEADER, CHUNK_HEADER + len) };
  }
  const r = new Reader(b, 'device report', 'PROTO_BAD_REPORT');
  const t = r.u8();
  switch (t) {
    case DEV.INFO: {
      const vendorId = r.u16();
      const productId = r.u16();
      const firmware = `${r.u8()}.${r.u8()}`;
      const width = r.u16();
      const height = r.u16();
      if (width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) throw bad(`info: impossible frame size ${width}×${height}`);
      return { type: 'info', vendorId, productId, firmware, width, height, serial: r.ascii(16), model: r.ascii(24) };
    }
    case DEV.ACK: {
      const cmd = r.u8();
      const status = ACK_STATUS[r.u8()];
      if (!status) throw bad('ack: unknown status');
      return { type: 'ack', cmd, status, seq: r.u16() };
    }
    case DEV.STATUS: {
      const palm = HID_PALM[r.u8()];
      const distanceMm = r.u16();
      const cap = r.u8();
      if (!palm || cap > 1) throw bad('status: field out of range');
      return { type: 'status', palm, distanceMm, capturing: cap === 1 };
    }
    case DEV.EVENT: {
      const event = HID_EVENTS[r.u8()];
      if (!event) throw bad('event: unknown kind');
      return { type: 'event', event, distanceMm: r.u16() };
    }
    case DEV.FRAME_BEGIN: {
      const seq = r.u16();
      const width = r.u16();
      const height = r.u16();
      const bpp = r.u8();
      const total = r.u32();
      const crc = r.u32();
      if (bpp !== 8) throw bad(`frame begin: ${bpp} bits per pixel (only 8)`);
      if (width === 0 || height === 0 || width > MAX_FRAME_SIDE || height > MAX_FRAME_SIDE) throw bad(`frame begin: impossible size ${width}×${height}`);
      if (total !== width * height) throw bad(`frame begin: ${total} bytes for ${width}×${height}`);
      return { type: 'frame_begin', seq, width, height, total, crc };
    }
    case DEV.FRAME_CHUNK: {
      const seq = r.u16();
      const offset = r.u32();
      const len = r.u8();
      if (len === 0 || len > CHUNK_DATA) throw bad(`frame chunk: length ${len}`);
      return { type: 'frame_chunk', seq, offset, data: r.bytes(len) };
    }
    case DEV.FRAME_END:
      return { type: 'frame_end', seq: r.u16(), chunks: r.u32() };
    default:
      throw bad(`unknown device report type 0x${t.toString(16)}`);
  }
}
