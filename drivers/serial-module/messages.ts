/**
 * PalmPay's extensions to the EF AA family (drivers/PROTOCOL.md, table 2): message ids the family does not
 * use (0xC0–0xC4, checked against family.ts FAMILY_IDS by a test), plus our payloads for the palm
 * variants' feature transfer (0xF9/0xFA, whose payloads the family does not publish). A module has each
 * extension only if it answers it (discovery in client/serial-driver.ts). Every parser validates lengths
 * and ranges and throws only DriverError('PROTO_BAD_MESSAGE'); replies may carry trailing bytes.
 */
import { DriverError } from '../errors.ts';
import { Reader, Writer } from '../util/bytes.ts';
import { FAMILY, checkPseudonym } from './family.ts';
import { FRAME_ENCODING, maxPackedBytes, type FrameEncoding } from './frame-packing.ts';

export const MID = {
  REPLY: FAMILY.REPLY,
  NOTE: FAMILY.NOTE,
  /** Ours: module id, capability bits, image size, chunk cap. */
  PP_INFO: 0xc0,
  /** Ours: busy flag and palm placement. */
  PP_STATUS: 0xc1,
  /** Ours: LED and beeper. */
  PP_INDICATOR: 0xc2,
  /** Ours: take a picture and keep it under a sequence number, with its CRC-32 and its feature's. */
  PP_SNAP: 0xc3,
  /** Ours: read a chunk of a snap, addressed by sequence number and offset. */
  PP_UPLOAD: 0xc4,
  ENROLL_PALM_FEATURE: FAMILY.ENROLL_PALM_FEATURE,
  GET_PALM_FEATURE: FAMILY.GET_PALM_FEATURE,
} as const;

/** Our note id (the family's are 0–3): palm placement with distance, sent on every change. */
export const PP_NOTE_PALM = 0xc1;

/** PP_INFO capability bits. */
export const CAP = { CRC_IMAGES: 1, FEATURES: 2, INDICATOR: 4, STATUS: 8, PACKED_FRAMES: 16 } as const;

export const PALM_STATES = ['none', 'present', 'too_far', 'too_close', 'off_center'] as const;
export type PalmState = (typeof PALM_STATES)[number];

export const INDICATORS = ['off', 'idle', 'busy', 'ok', 'error'] as const;
export type Indicator = (typeof INDICATORS)[number];

/** user id meaning "the palm of the last capture" (snap, verify or enrol), for GET_PALM_FEATURE. */
export const LAST_SNAP_USER = 0xffff;
/** Data bytes per UPLOAD_IMAGE / feature chunk the host asks for by default (socat-friendly, < MAX_DATA). */
export const DEFAULT_CHUNK = 4096;
export const MAX_CHUNK = 4096;
export const MAX_IMAGE_SIDE = 2048;
export const MAX_FEATURE_BYTES = 65536;
const MODULE_ID_BYTES = 32;

const bad = (what: string) => new DriverError('PROTO_BAD_MESSAGE', what);

// ---------- replies and our palm note ----------

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

export interface PalmNote {
  state: PalmState;
  distanceMm: number;
}

export function encodePalmNote(n: PalmNote): Uint8Array {
  return new Writer().u8(PP_NOTE_PALM).u8(PALM_STATES.indexOf(n.state)).u16(n.distanceMm).build();
}

/** Our palm note's body (after the nid). */
export function parsePalmNote(body: Uint8Array): PalmNote {
  const r = new Reader(body, 'palm note');
  const s = r.u8();
  const state = PALM_STATES[s];
  if (!state) throw bad(`palm note with unknown state ${s}`);
  return { state, distanceMm: r.u16() };
}

// ---------- module id ----------

export interface ModuleInfo {
  moduleId: string;
  /** Capability bits (CAP): our CRC-checked image upload, feature transfer, indicator, status. */
  canImage: boolean;
  canFeature: boolean;
  canIndicator: boolean;
  canStatus: boolean;
  /** Bit 4: PP_SNAP takes an `encoding` byte and sends the frame packed (frame-packing.ts) when asked. */
  canPackFrames?: boolean;
  width: number;
  height: number;
  maxChunk: number;
  /**
   * How many PP_UPLOAD requests the module takes in flight at once (a trailing `max_outstanding u8`; absent: 1, one
   * at a time, as modules before it). The host keeps at most this many chunk requests outstanding.
   */
  window?: number;
}

/** The most chunk requests a module may take in flight (its receive buffer holds them: 16 × 14 bytes). */
export const MAX_WINDOW = 16;

export function encodeModuleInfo(i: ModuleInfo): Uint8Array {
  const w = new Writer()
    .ascii(i.moduleId, MODULE_ID_BYTES)
    .u8((i.canImage ? CAP.CRC_IMAGES : 0) | (i.canFeature ? CAP.FEATURES : 0) | (i.canIndicator ? CAP.INDICATOR : 0) | (i.canStatus ? CAP.STATUS : 0) | (i.canPackFrames ? CAP.PACKED_FRAMES : 0))
    .u16(i.width)
    .u16(i.height)
    .u16(i.maxChunk);
  return (i.window !== undefined && i.window > 1 ? w.u8(i.window) : w).build();
}

export function parseModuleInfo(p: Uint8Array): ModuleInfo {
  const r = new Reader(p, 'module id reply');
  const moduleId = r.ascii(MODULE_ID_BYTES);
  const caps = r.u8();
  const width = r.u16();
  const height = r.u16();
  const maxChunk = r.u16();
  if (width > MAX_IMAGE_SIDE || height > MAX_IMAGE_SIDE) throw bad(`module reports impossible image size ${width}×${height}`);
  if (maxChunk < 16 || maxChunk > MAX_CHUNK) throw bad(`module reports impossible chunk size ${maxChunk}`);
  // Older modules end here (one chunk request at a time); a window beyond what we allow is used at our cap.
  const window = r.remaining >= 1 ? r.u8() : 1;
  if (window < 1) throw bad('module reports a window of 0 chunk requests');
  return { moduleId, canImage: (caps & CAP.CRC_IMAGES) !== 0, canFeature: (caps & CAP.FEATURES) !== 0, canIndicator: (caps & CAP.INDICATOR) !== 0, canStatus: (caps & CAP.STATUS) !== 0, canPackFrames: (caps & CAP.PACKED_FRAMES) !== 0, width, height, maxChunk, window: Math.min(window, MAX_WINDOW) };
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

// ---------- timeouts and user ids ----------

export function encodeTimeoutRequest(timeoutS: number): Uint8Array {
  return new Writer().u8(Math.max(1, Math.min(255, Math.round(timeoutS)))).build();
}
export function parseTimeoutRequest(p: Uint8Array): number {
  const r = new Reader(p, 'timeout request');
  const t = r.u8();
  r.end();
  return t;
}

export function encodeUserId(id: number): Uint8Array {
  return new Writer().u16(id).build();
}
export function parseUserId(p: Uint8Array): number {
  return new Reader(p, 'user id').u16();
}

// ---------- snap + chunked image upload ----------

/**
 * PP_SNAP's request: `timeout_s u8`, then `encoding u8` only to a module whose PP_INFO has bit 4 (PACKED_FRAMES);
 * a module without it is sent the one byte it has always been sent.
 */
export interface SnapRequest {
  timeoutS: number;
  encoding: FrameEncoding;
}
export function encodeSnapRequest(timeoutS: number, encoding: FrameEncoding = FRAME_ENCODING.RAW): Uint8Array {
  const w = new Writer().u8(Math.max(1, Math.min(255, Math.round(timeoutS))));
  return (encoding === FRAME_ENCODING.RAW ? w : w.u8(encoding)).build();
}
export function parseSnapRequest(p: Uint8Array): SnapRequest {
  const r = new Reader(p, 'snap request');
  const timeoutS = r.u8();
  const encoding = r.remaining >= 1 ? r.u8() : FRAME_ENCODING.RAW;
  r.end();
  if (encoding !== FRAME_ENCODING.RAW && encoding !== FRAME_ENCODING.UP_DEFLATE) throw bad(`snap request for unknown frame encoding ${encoding}`);
  return { timeoutS, encoding };
}

export interface SnapResult {
  seq: number;
  width: number;
  height: number;
  imageCrc: number;
  featureBytes: number;
  featureCrc: number;
  /**
   * Present when the snap was asked for packed: how PP_UPLOAD serves this snap (`encoding u8`, then `wire_bytes u32`,
   * the packed length PP_UPLOAD's `total` then counts). `imageCrc` stays the CRC-32 of the unpacked pixels. A module
   * may answer RAW (its frame would not pack smaller); absent = raw, as from every module before bit 4.
   */
  packing?: { encoding: FrameEncoding; wireBytes: number };
}
export function encodeSnapResult(s: SnapResult): Uint8Array {
  const w = new Writer().u16(s.seq).u16(s.width).u16(s.height).u32(s.imageCrc).u16(s.featureBytes).u32(s.featureCrc);
  return (s.packing ? w.u8(s.packing.encoding).u32(s.packing.wireBytes) : w).build();
}
/** `askedPacked`: the request carried an encoding, so the packing fields are read (and required); otherwise bytes
 * after the fields are a later firmware's, tolerated as in every reply. */
export function parseSnapResult(p: Uint8Array, askedPacked = false): SnapResult {
  const r = new Reader(p, 'snap reply');
  const s: SnapResult = { seq: r.u16(), width: r.u16(), height: r.u16(), imageCrc: r.u32(), featureBytes: r.u16(), featureCrc: r.u32() };
  if (s.width > MAX_IMAGE_SIDE || s.height > MAX_IMAGE_SIDE) throw bad(`snap reply: impossible image size ${s.width}×${s.height}`);
  if (askedPacked) {
    const encoding = r.u8();
    const wireBytes = r.u32();
    const pixels = s.width * s.height;
    if (encoding === FRAME_ENCODING.RAW) {
      if (wireBytes !== pixels) throw bad(`snap reply: raw frame of ${wireBytes} bytes for ${s.width}×${s.height}`);
    } else if (encoding === FRAME_ENCODING.UP_DEFLATE) {
      if (wireBytes < 1 || wireBytes > maxPackedBytes(pixels)) throw bad(`snap reply: packed frame of ${wireBytes} bytes for ${s.width}×${s.height}`);
    } else throw bad(`snap reply: unknown frame encoding ${encoding}`);
    s.packing = { encoding, wireBytes };
  }
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
/** A successful chunk REPLY's data as two parts, the fields and the chunk itself (for encodeMessage, which copies
 * the chunk once: a module sends ~75 of these per frame). Same bytes as encodeReply(cmd, 0, encodeChunkReply(c)). */
export function chunkReplyParts(cmd: number, c: ChunkReply): [Uint8Array, Uint8Array] {
  return [new Writer().u8(cmd).u8(0).u16(c.seq).u32(c.total).u32(c.offset).build(), c.bytes];
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

/** user_name's width, as in the family's ENROLL_SINGLE. */
const FEATURE_NAME_BYTES = 32;

export interface PutFeatureChunk {
  userId: number;
  /** The pseudonymous id stored as the user's user_name (family.ts checkPseudonym), in every chunk. */
  name: string;
  total: number;
  offset: number;
  bytes: Uint8Array;
}
export function encodePutFeature(c: PutFeatureChunk): Uint8Array {
  return new Writer().u16(c.userId).ascii(checkPseudonym(c.name), FEATURE_NAME_BYTES).u32(c.total).u32(c.offset).bytes(c.bytes).build();
}
export function parsePutFeature(p: Uint8Array): PutFeatureChunk {
  const r = new Reader(p, 'put-feature request');
  const userId = r.u16();
  const name = r.ascii(FEATURE_NAME_BYTES);
  const total = r.u32();
  const offset = r.u32();
  const bytes = r.rest();
  if (total > MAX_FEATURE_BYTES || offset > total || total - offset < bytes.length || bytes.length > MAX_CHUNK) throw bad('put-feature chunk outside the transfer');
  return { userId, name, total, offset, bytes };
}
