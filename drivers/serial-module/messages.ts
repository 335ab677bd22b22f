/**
 * Our payload layouts inside EF AA messages (drivers/PROTOCOL.md). The message ids are the public ones
 * of the L015-type family; payloads, the indicator/status commands and the chunked image upload are ours.
 * Every parser validates lengths and ranges and throws only DriverError('PROTO_BAD_MESSAGE').
 */
import { DriverError } from '../errors.ts';
import { Reader, Writer } from '../util/bytes.ts';

export const MID = {
  REPLY: 0x00,
  NOTE: 0x01,
  RESET: 0x10,
  GET_STATUS: 0x11,
  VERIFY: 0x12,
  SNAP_IMAGE: 0x16,
  UPLOAD_IMAGE: 0x18,
  ENROLL_SINGLE: 0x1d,
  DELUSER: 0x20,
  DELALL: 0x21,
  SET_INDICATOR: 0x60,
  MODULE_ID: 0xac,
  ENROLL_PALM_FEATURE: 0xf9,
  GET_PALM_FEATURE: 0xfa,
} as const;

export const NID = { READY: 0x00, PALM_STATE: 0x01, ERROR: 0x02 } as const;

/** Result codes (the family's MR_ values). */
export const RESULT = {
  SUCCESS: 0,
  REJECTED: 1,
  ABORTED: 2,
  FAILED_CAMERA: 4,
  FAILED_UNKNOWN: 5,
  INVALID_PARAM: 6,
  NO_MEMORY: 7,
  UNKNOWN_USER: 8,
  MAX_USER: 9,
  ALREADY_ENROLLED: 10,
  LIVENESS: 12,
  TIMEOUT: 13,
} as const;
export const RESULT_NAMES: Record<number, string> = Object.fromEntries(Object.entries(RESULT).map(([k, v]) => [v, k.toLowerCase()]));

export const PALM_STATES = ['none', 'present', 'too_far', 'too_close', 'off_center'] as const;
export type PalmState = (typeof PALM_STATES)[number];

export const INDICATORS = ['off', 'idle', 'busy', 'ok', 'error'] as const;
export type Indicator = (typeof INDICATORS)[number];

/** user id meaning "the palm of the last SNAP_IMAGE", for GET_PALM_FEATURE. */
export const LAST_SNAP_USER = 0xffff;
/** Data bytes per UPLOAD_IMAGE / feature chunk the host asks for by default (socat-friendly, < MAX_DATA). */
export const DEFAULT_CHUNK = 4096;
export const MAX_CHUNK = 4096;
export const MAX_IMAGE_SIDE = 2048;
export const MAX_FEATURE_BYTES = 65536;
const NAME_BYTES = 32;
const MODULE_ID_BYTES = 32;

const bad = (what: string) => new DriverError('PROTO_BAD_MESSAGE', what);

// ---------- replies and notes ----------

export interface Reply {
  cmd: number;
  result: number;
  payload: Uint8Array;
}

export function encodeReply(cmd: number, result: number, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  return new Writer().u8(cmd).u8(result).bytes(payload).build();
}

export function parseReply(data: Uint8Array): Reply {
  if (data.length < 2) throw bad(`reply of ${data.length} bytes has no command id and result`);
  return { cmd: data[0]!, result: data[1]!, payload: data.subarray(2) };
}

export type Note = { nid: 'ready' } | { nid: 'palm_state'; state: PalmState; distanceMm: number } | { nid: 'error'; code: number };

export function encodeNote(note: Note): Uint8Array {
  const w = new Writer();
  if (note.nid === 'ready') return w.u8(NID.READY).build();
  if (note.nid === 'palm_state') return w.u8(NID.PALM_STATE).u8(PALM_STATES.indexOf(note.state)).u16(note.distanceMm).build();
  return w.u8(NID.ERROR).u8(note.code).build();
}

export function parseNote(data: Uint8Array): Note {
  const r = new Reader(data, 'note');
  const nid = r.u8();
  let note: Note;
  if (nid === NID.READY) note = { nid: 'ready' };
  else if (nid === NID.PALM_STATE) {
    const s = r.u8();
    const state = PALM_STATES[s];
    if (!state) throw bad(`palm-state note with unknown state ${s}`);
    note = { nid: 'palm_state', state, distanceMm: r.u16() };
  } else if (nid === NID.ERROR) note = { nid: 'error', code: r.u8() };
  else throw bad(`unknown note id 0x${nid.toString(16)}`);
  r.end();
  return note;
}

// ---------- module id ----------

export interface ModuleInfo {
  moduleId: string;
  /** bit 0: can upload images; bit 1: can give features. */
  canImage: boolean;
  canFeature: boolean;
  width: number;
  height: number;
  maxChunk: number;
}

export function encodeModuleInfo(i: ModuleInfo): Uint8Array {
  return new Writer()
    .ascii(i.moduleId, MODULE_ID_BYTES)
    .u8((i.canImage ? 1 : 0) | (i.canFeature ? 2 : 0))
    .u16(i.width)
    .u16(i.height)
    .u16(i.maxChunk)
    .build();
}

export function parseModuleInfo(p: Uint8Array): ModuleInfo {
  const r = new Reader(p, 'module id reply');
  const moduleId = r.ascii(MODULE_ID_BYTES);
  const caps = r.u8();
  const width = r.u16();
  const height = r.u16();
  const maxChunk = r.u16();
  r.end();
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw bad(`module reports impossible image size ${width}×${height}`);
  if (maxChunk < 16 || maxChunk > MAX_CHUNK) throw bad(`module reports impossible chunk size ${maxChunk}`);
  return { moduleId, canImage: (caps & 1) !== 0, canFeature: (caps & 2) !== 0, width, height, maxChunk };
}

// ---------- status ----------

export interface ModuleStatus {
  busy: boolean;
  palm: PalmState;
}
export function encodeStatus(s: ModuleStatus): Uint8Array {
  return new Writer().u8(s.busy ? 1 : 0).u8(PALM_STATES.indexOf(s.palm)).build();
}
export function parseStatus(p: Uint8Array): ModuleStatus {
  const r = new Reader(p, 'status reply');
  const busy = r.u8();
  const palm = PALM_STATES[r.u8()];
  r.end();
  if (busy > 1 || !palm) throw bad('status reply out of range');
  return { busy: busy === 1, palm };
}

// ---------- indicator ----------

export interface IndicatorRequest {
  led: Indicator;
  beepMs: number;
}
export function encodeIndicator(i: IndicatorRequest): Uint8Array {
  return new Writer().u8(INDICATORS.indexOf(i.led)).u16(Math.max(0, Math.min(0xffff, Math.round(i.beepMs)))).build();
}
export function parseIndicator(p: Uint8Array): IndicatorRequest {
  const r = new Reader(p, 'indicator request');
  const led = INDICATORS[r.u8()];
  const beepMs = r.u16();
  r.end();
  if (!led) throw bad('unknown indicator');
  return { led, beepMs };
}

// ---------- verify / enrol / delete ----------

export function encodeTimeoutRequest(timeoutS: number): Uint8Array {
  return new Writer().u8(Math.max(1, Math.min(255, Math.round(timeoutS)))).build();
}
export function parseTimeoutRequest(p: Uint8Array): number {
  const r = new Reader(p, 'timeout request');
  const t = r.u8();
  r.end();
  return t;
}

export interface VerifyResult {
  userId: number;
  name: string;
}
export function encodeVerifyResult(v: VerifyResult): Uint8Array {
  return new Writer().u16(v.userId).ascii(v.name, NAME_BYTES).build();
}
export function parseVerifyResult(p: Uint8Array): VerifyResult {
  const r = new Reader(p, 'verify reply');
  const userId = r.u16();
  const name = r.ascii(NAME_BYTES);
  r.end();
  return { userId, name };
}

export interface EnrollRequest {
  admin: boolean;
  name: string;
  timeoutS: number;
}
export function encodeEnrollRequest(e: EnrollRequest): Uint8Array {
  return new Writer().u8(e.admin ? 1 : 0).ascii(e.name, NAME_BYTES).u8(Math.max(1, Math.min(255, e.timeoutS))).build();
}
export function parseEnrollRequest(p: Uint8Array): EnrollRequest {
  const r = new Reader(p, 'enrol request');
  const admin = r.u8();
  const name = r.ascii(NAME_BYTES);
  const timeoutS = r.u8();
  r.end();
  if (admin > 1) throw bad('enrol request: admin flag out of range');
  return { admin: admin === 1, name, timeoutS };
}

export function encodeUserId(id: number): Uint8Array {
  return new Writer().u16(id).build();
}
export function parseUserId(p: Uint8Array): number {
  const r = new Reader(p, 'user id');
  const id = r.u16();
  r.end();
  return id;
}

// ---------- snap + chunked image upload ----------

export interface SnapResult {
  seq: number;
  width: number;
  height: number;
  imageCrc: number;
  featureBytes: number;
  featureCrc: number;
}
export function encodeSnapResult(s: SnapResult): Uint8Array {
  return new Writer().u16(s.seq).u16(s.width).u16(s.height).u32(s.imageCrc).u16(s.featureBytes).u32(s.featureCrc).build();
}
export function parseSnapResult(p: Uint8Array): SnapResult {
  const r = new Reader(p, 'snap reply');
  const s = { seq: r.u16(), width: r.u16(), height: r.u16(), imageCrc: r.u32(), featureBytes: r.u16(), featureCrc: r.u32() };
  r.end();
  if (s.width > MAX_IMAGE_SIDE || s.height > MAX_IMAGE_SIDE) throw bad(`snap reply: impossible image size ${s.width}×${s.height}`);
  return s;
}

export interface ChunkRequest {
  seq: number; // snap sequence (image) or user id (feature)
  offset: number;
  length: number;
}
export function encodeChunkRequest(c: ChunkRequest): Uint8Array {
  return new Writer().u16(c.seq).u32(c.offset).u16(c.length).build();
}
export function parseChunkRequest(p: Uint8Array): ChunkRequest {
  const r = new Reader(p, 'chunk request');
  const c = { seq: r.u16(), offset: r.u32(), length: r.u16() };
  r.end();
  if (c.length === 0 || c.length > MAX_CHUNK) throw bad(`chunk request for ${c.length} bytes`);
  return c;
}

export interface ChunkReply {
  seq: number;
  total: number;
  offset: number;
  bytes: Uint8Array;
}
export function encodeChunkReply(c: ChunkReply): Uint8Array {
  return new Writer().u16(c.seq).u32(c.total).u32(c.offset).bytes(c.bytes).build();
}
export function parseChunkReply(p: Uint8Array): ChunkReply {
  const r = new Reader(p, 'chunk reply');
  const seq = r.u16();
  const total = r.u32();
  const offset = r.u32();
  const bytes = r.rest();
  if (bytes.length > MAX_CHUNK || offset > total || total - offset < bytes.length) throw bad('chunk reply: offset/length outside the transfer');
  return { seq, total, offset, bytes };
}

// ---------- put feature (host → module, chunked) ----------

export interface PutFeatureChunk {
  userId: number;
  total: number;
  offset: number;
  bytes: Uint8Array;
}
export function encodePutFeature(c: PutFeatureChunk): Uint8Array {
  return new Writer().u16(c.userId).u32(c.total).u32(c.offset).bytes(c.bytes).build();
}
export function parsePutFeature(p: Uint8Array): PutFeatureChunk {
  const r = new Reader(p, 'put-feature request');
  const userId = r.u16();
  const total = r.u32();
  const offset = r.u32();
  const bytes = r.rest();
  if (total > MAX_FEATURE_BYTES || offset > total || total - offset < bytes.length || bytes.length > MAX_CHUNK) throw bad('put-feature chunk outside the transfer');
  return { userId, total, offset, bytes };
}
