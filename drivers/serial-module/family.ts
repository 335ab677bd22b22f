/**
 * The EF AA module family's own message layouts (../shared/protocols/efaa-family.md), pure.
 * Requests are encoded exactly as the family publishes them. Replies are parsed by the family's fields:
 * bytes beyond them are accepted and counted (later firmware grows replies), a reply shorter than the
 * fields is refused (`MODULE_REPLY_SHORT`, not retried: the module means it). Every result code has its
 * own typed error and a message a technician can act on.
 */
import { DriverError, type DriverErrorCode } from '../errors.ts';
import { Reader, Writer } from '../util/bytes.ts';

/** The family's message ids that PalmPay sends or receives. */
export const FAMILY = {
  REPLY: 0x00,
  NOTE: 0x01,
  IMAGE: 0x02,
  RESET: 0x10,
  GETSTATUS: 0x11,
  VERIFY: 0x12,
  ENROLL: 0x13,
  SNAPIMAGE: 0x16,
  GETSAVEDIMAGE: 0x17,
  UPLOADIMAGE: 0x18,
  ENROLL_SINGLE: 0x1d,
  DELUSER: 0x20,
  DELALL: 0x21,
  GETUSERINFO: 0x22,
  FACERESET: 0x23,
  GET_ALL_USERID: 0x24,
  ENROLL_ITG: 0x26,
  GET_VERSION: 0x30,
  /** Palm variants: store a feature for a user / read a user's or the last capture's feature (payloads ours). */
  ENROLL_PALM_FEATURE: 0xf9,
  GET_PALM_FEATURE: 0xfa,
} as const;

/** Every id the family's published list uses (ours must avoid them all). */
export const FAMILY_IDS: ReadonlySet<number> = new Set([
  0x00, 0x01, 0x02, 0x10, 0x11, 0x12, 0x13, 0x16, 0x17, 0x18, 0x1d, 0x20, 0x21, 0x22, 0x23, 0x24, 0x26, 0x28, 0x30, 0x40, 0x41, 0x42, 0x43, 0x44, 0x50, 0x51, 0x52,
  0x53, 0x60, 0x61, 0x93, 0xac, 0xb0, 0xb1, 0xd4, 0xed, 0xf0, 0xf1, 0xf2, 0xf3, 0xf6, 0xf7, 0xf9, 0xfa, 0xfe,
]);

export const NOTE_ID = { READY: 0, STATE: 1, UNKNOWN_ERROR: 2, OTA_DONE: 3 } as const;

/** The family's result code numbers. */
export const R = {
  SUCCESS: 0,
  REJECTED: 1,
  ABORTED: 2,
  CAMERA_FAILED: 4,
  FAILED: 5,
  INVALID_PARAM: 6,
  NO_MEMORY: 7,
  UNKNOWN_USER: 8,
  TABLE_FULL: 9,
  ALREADY_ENROLLED: 10,
  LIVENESS_FAILED: 12,
  TIMEOUT: 13,
  AUTH_FAILED: 14,
  FILE_READ_FAILED: 19,
  FILE_WRITE_FAILED: 20,
  ENCRYPTION_REQUIRED: 21,
} as const;

/** The family's result codes: number → (name, typed error code, what a technician should do). */
export const RESULTS: Readonly<Record<number, { name: string; code: DriverErrorCode | null; message: string }>> = {
  0: { name: 'success', code: null, message: 'success' },
  1: { name: 'rejected', code: 'MODULE_REJECTED', message: 'the module rejected the command (it may not support it, or is in a state that refuses it)' },
  2: { name: 'aborted', code: 'MODULE_ABORTED', message: 'the module aborted the task (a reset or a new command interrupted it)' },
  4: { name: 'camera failed', code: 'MODULE_CAMERA_FAILED', message: 'the module could not use its camera: check the sensor cable and the module power' },
  5: { name: 'unknown reason', code: 'MODULE_FAILED', message: 'the module failed for an unknown reason: reset it and try again; if it repeats, replace the module' },
  6: { name: 'invalid parameter', code: 'MODULE_INVALID_PARAM', message: 'the module refused a parameter: its firmware may use another layout for this message' },
  7: { name: 'no memory', code: 'MODULE_NO_MEMORY', message: 'the module ran out of memory: reset it' },
  8: { name: 'unknown user', code: 'MODULE_UNKNOWN_USER', message: 'the module does not know this user (or did not recognise the palm)' },
  9: { name: 'user table full', code: 'MODULE_TABLE_FULL', message: "the module's user table is full: delete users it no longer needs" },
  10: { name: 'already enrolled', code: 'MODULE_ALREADY_ENROLLED', message: 'this palm is already enrolled on the module' },
  12: { name: 'liveness check failed', code: 'MODULE_LIVENESS_FAILED', message: 'the module judged the palm not live: lay a real hand flat on the glass' },
  13: { name: 'timeout', code: 'NO_PALM', message: 'the module saw no palm in time' },
  14: { name: 'authorisation failed', code: 'MODULE_AUTH_FAILED', message: 'the module refused the command as unauthorised: it expects another key or mode' },
  19: { name: 'file read failed', code: 'MODULE_FILE_READ_FAILED', message: 'the module could not read its storage (e.g. no saved image at that number)' },
  20: { name: 'file write failed', code: 'MODULE_FILE_WRITE_FAILED', message: 'the module could not write its storage: its flash may be worn; replace the module' },
  21: { name: 'encryption required', code: 'MODULE_ENCRYPTION_REQUIRED', message: 'the module requires the encrypted link: it was provisioned with a key PalmPay does not hold' },
};

export function resultName(result: number): string {
  return RESULTS[result]?.name ?? `result ${result}`;
}

/** The typed error for a non-success result of command `what`. */
export function resultError(what: string, result: number): DriverError {
  const r = RESULTS[result];
  if (!r || !r.code) return new DriverError('MODULE_RESULT_UNKNOWN', `${what}: the module answered result code ${result}, which the family does not define`);
  return new DriverError(r.code, `${what}: ${r.message} (module result ${result}, ${r.name})`);
}

// ---------- lenient field reading ----------

/** Reads a reply's fields; `remaining` is what lies beyond them. Short → MODULE_REPLY_SHORT (not retried). */
export class Fields extends Reader {
  constructor(b: Uint8Array, what: string) {
    super(b, what, 'MODULE_REPLY_SHORT');
  }
}

/** A parsed reply payload and how many bytes lay beyond the family's fields. */
export interface Parsed<T> {
  value: T;
  extra: number;
}

function done<T>(value: T, f: Fields): Parsed<T> {
  return { value, extra: f.remaining };
}

// ---------- requests ----------

const NAME_BYTES = 32;
const VERSION_BYTES = 32;
/** The family's UPLOADIMAGE cap. */
export const MAX_UPLOAD_CHUNK = 4000;
/** Our cap on an announced image size before allocating (a 2048×2048 8-bit PNG with headroom). */
export const MAX_SAVED_IMAGE_BYTES = 6 * 1024 * 1024;
/** ENROLL_SINGLE / ENROLL direction: straight (the one direction a single-frame enrolment uses). */
export const DIRECTION_STRAIGHT = 0x01;

const clampS = (s: number) => Math.max(1, Math.min(255, Math.round(s)));

/**
 * `user_name` on the module holds a pseudonymous id (never a person's name): letters, digits and `._:-`,
 * 1–32 characters. A stolen module then gives away no names.
 */
export const PSEUDONYM = /^[A-Za-z0-9._:-]{1,32}$/;
export function checkPseudonym(name: string): string {
  if (!PSEUDONYM.test(name)) throw new DriverError('CONFIG_BAD_PSEUDONYM', `user_name '${name.slice(0, 40)}' is not a pseudonymous id (1–32 of A–Z a–z 0–9 . _ : -; never a person's name)`);
  return name;
}

export interface VerifyRequest {
  powerDownAfter: boolean;
  timeoutS: number;
}
export function encodeVerify(r: VerifyRequest): Uint8Array {
  return new Writer().u8(r.powerDownAfter ? 1 : 0).u8(clampS(r.timeoutS)).build();
}
export function parseVerifyRequest(p: Uint8Array): VerifyRequest {
  const f = new Fields(p, 'VERIFY request');
  return { powerDownAfter: f.u8() !== 0, timeoutS: f.u8() };
}

export interface EnrollRequest {
  admin: boolean;
  /** A pseudonymous id (checkPseudonym). */
  name: string;
  direction: number;
  timeoutS: number;
}
/** ENROLL (0x13) and ENROLL_SINGLE (0x1D): admin u8, user_name[32], direction u8, timeout u8 (35 bytes). */
export function encodeEnroll(r: EnrollRequest): Uint8Array {
  return new Writer().u8(r.admin ? 1 : 0).ascii(checkPseudonym(r.name), NAME_BYTES).u8(r.direction).u8(clampS(r.timeoutS)).build();
}
export function parseEnrollRequest(p: Uint8Array): EnrollRequest {
  const f = new Fields(p, 'ENROLL request');
  return { admin: f.u8() !== 0, name: f.text(NAME_BYTES), direction: f.u8(), timeoutS: f.u8() };
}

export interface EnrollItgRequest {
  admin: boolean;
  name: string;
  enrollType: number;
  direction: number;
  enableDuplicate: boolean;
  timeoutS: number;
}
/** ENROLL_ITG (0x26): admin, user_name[32], enroll_type, direction, enable_duplicate, timeout, reserved[3] (40 bytes). */
export function encodeEnrollItg(r: EnrollItgRequest): Uint8Array {
  return new Writer()
    .u8(r.admin ? 1 : 0)
    .ascii(checkPseudonym(r.name), NAME_BYTES)
    .u8(r.enrollType)
    .u8(r.direction)
    .u8(r.enableDuplicate ? 1 : 0)
    .u8(clampS(r.timeoutS))
    .u8(0)
    .u8(0)
    .u8(0)
    .build();
}
export function parseEnrollItgRequest(p: Uint8Array): EnrollItgRequest {
  const f = new Fields(p, 'ENROLL_ITG request');
  return { admin: f.u8() !== 0, name: f.text(NAME_BYTES), enrollType: f.u8(), direction: f.u8(), enableDuplicate: f.u8() !== 0, timeoutS: f.u8() };
}

export function encodeUserId(id: number): Uint8Array {
  return new Writer().u16(id).build();
}
export function parseUserIdRequest(p: Uint8Array): number {
  return new Fields(p, 'user id').u16();
}

/** SNAPIMAGE (0x16): image_count u8, start_number u8. */
export function encodeSnapImage(count: number, start: number): Uint8Array {
  return new Writer().u8(count).u8(start).build();
}
export function parseSnapImageRequest(p: Uint8Array): { count: number; start: number } {
  const f = new Fields(p, 'SNAPIMAGE request');
  return { count: f.u8(), start: f.u8() };
}
/** GETSAVEDIMAGE (0x17): image_number u8. */
export function encodeGetSavedImage(n: number): Uint8Array {
  return new Writer().u8(n).build();
}
/** UPLOADIMAGE (0x18): offset u32, size u32 (≤ 4000). */
export function encodeUploadImage(offset: number, size: number): Uint8Array {
  if (size < 1 || size > MAX_UPLOAD_CHUNK) throw new DriverError('CONFIG_INVALID', `UPLOADIMAGE of ${size} bytes (the family allows 1–${MAX_UPLOAD_CHUNK})`);
  return new Writer().u32(offset).u32(size).build();
}
export function parseUploadImageRequest(p: Uint8Array): { offset: number; size: number } {
  const f = new Fields(p, 'UPLOADIMAGE request');
  return { offset: f.u32(), size: f.u32() };
}

// ---------- replies ----------

export type ModuleStatusCode = 'idle' | 'busy' | 'error' | 'invalid';
const STATUSES: readonly ModuleStatusCode[] = ['idle', 'busy', 'error', 'invalid'];
export function encodeStatus(s: ModuleStatusCode): Uint8Array {
  return Uint8Array.of(STATUSES.indexOf(s));
}
export function parseStatus(p: Uint8Array): Parsed<ModuleStatusCode> {
  const f = new Fields(p, 'GETSTATUS reply');
  const v = f.u8();
  const s = STATUSES[v];
  if (!s) throw new DriverError('PROTO_BAD_MESSAGE', `GETSTATUS reply: status ${v} is not one the family defines (0–3)`);
  return done(s, f);
}

export interface VerifyReply {
  userId: number;
  name: string;
  admin: boolean;
  unlockStatus: number;
}
/** VERIFY reply: user_id u16, user_name[32], admin u8, unlock_status u8 (36 bytes). */
export function encodeVerifyReply(v: VerifyReply): Uint8Array {
  return new Writer().u16(v.userId).ascii(v.name, NAME_BYTES).u8(v.admin ? 1 : 0).u8(v.unlockStatus).build();
}
export function parseVerifyReply(p: Uint8Array): Parsed<VerifyReply> {
  const f = new Fields(p, 'VERIFY reply');
  return done({ userId: f.u16(), name: f.text(NAME_BYTES), admin: f.u8() !== 0, unlockStatus: f.u8() }, f);
}

export interface EnrollReply {
  userId: number;
  direction: number;
}
/** ENROLL / ENROLL_SINGLE / ENROLL_ITG reply: user_id u16, direction u8. */
export function encodeEnrollReply(r: EnrollReply): Uint8Array {
  return new Writer().u16(r.userId).u8(r.direction).build();
}
export function parseEnrollReply(p: Uint8Array): Parsed<EnrollReply> {
  const f = new Fields(p, 'ENROLL reply');
  return done({ userId: f.u16(), direction: f.u8() }, f);
}

export interface UserInfo {
  userId: number;
  name: string;
  admin: boolean;
}
/** GETUSERINFO reply: user_id u16, user_name[32], admin u8. */
export function encodeUserInfo(u: UserInfo): Uint8Array {
  return new Writer().u16(u.userId).ascii(u.name, NAME_BYTES).u8(u.admin ? 1 : 0).build();
}
export function parseUserInfo(p: Uint8Array): Parsed<UserInfo> {
  const f = new Fields(p, 'GETUSERINFO reply');
  return done({ userId: f.u16(), name: f.text(NAME_BYTES), admin: f.u8() !== 0 }, f);
}

/** GET_ALL_USERID reply: count u8, then count × user_id u16. */
export function encodeAllUserIds(ids: readonly number[]): Uint8Array {
  const w = new Writer().u8(ids.length);
  for (const id of ids) w.u16(id);
  return w.build();
}
export function parseAllUserIds(p: Uint8Array): Parsed<number[]> {
  const f = new Fields(p, 'GET_ALL_USERID reply');
  const n = f.u8();
  const ids: number[] = [];
  for (let i = 0; i < n; i++) ids.push(f.u16());
  return done(ids, f);
}

/** GET_VERSION reply: version[32] (text). */
export function encodeVersion(v: string): Uint8Array {
  return new Writer().ascii(v, VERSION_BYTES).build();
}
export function parseVersion(p: Uint8Array): Parsed<string> {
  const f = new Fields(p, 'GET_VERSION reply');
  return done(f.text(VERSION_BYTES), f);
}

/** GETSAVEDIMAGE reply: image_size u32. */
export function encodeImageSize(n: number): Uint8Array {
  return new Writer().u32(n).build();
}
export function parseImageSize(p: Uint8Array): Parsed<number> {
  const f = new Fields(p, 'GETSAVEDIMAGE reply');
  const n = f.u32();
  if (n === 0 || n > MAX_SAVED_IMAGE_BYTES) throw new DriverError('PROTO_LENGTH', `GETSAVEDIMAGE reply: image of ${n} bytes (accepted: 1–${MAX_SAVED_IMAGE_BYTES})`);
  return done(n, f);
}

// ---------- notes ----------

/** The family's state note: eight i16 (state, left, top, right, bottom, yaw, pitch, roll) = 16 bytes. */
export interface StateNote {
  state: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  yaw: number;
  pitch: number;
  roll: number;
}

export type FamilyNote = { nid: 'ready' } | { nid: 'state'; state: StateNote } | { nid: 'unknown_error' } | { nid: 'ota_done' } | { nid: 'other'; id: number; data: Uint8Array };

export function encodeStateNote(s: StateNote): Uint8Array {
  return new Writer().u8(NOTE_ID.STATE).u16(s.state).u16(s.left).u16(s.top).u16(s.right).u16(s.bottom).u16(s.yaw).u16(s.pitch).u16(s.roll).build();
}

/** Parses a NOTE's data (nid first). Unknown nids are returned as 'other' (an extension may own them). */
export function parseFamilyNote(data: Uint8Array): Parsed<FamilyNote> {
  const f = new Fields(data, 'NOTE');
  const nid = f.u8();
  if (nid === NOTE_ID.READY) return done({ nid: 'ready' }, f);
  if (nid === NOTE_ID.STATE) {
    const state = { state: f.i16(), left: f.i16(), top: f.i16(), right: f.i16(), bottom: f.i16(), yaw: f.i16(), pitch: f.i16(), roll: f.i16() };
    return done({ nid: 'state', state }, f);
  }
  if (nid === NOTE_ID.UNKNOWN_ERROR) return done({ nid: 'unknown_error' }, f);
  if (nid === NOTE_ID.OTA_DONE) return done({ nid: 'ota_done' }, f);
  return { value: { nid: 'other', id: nid, data: data.subarray(1) }, extra: 0 };
}

/**
 * The family's note `state` as a palm placement. The published page gives the field, not its values;
 * this follows the family's face modules (0 normal, 1 nothing seen, 2–5 off to a side, 6 too far,
 * 7 too close); anything else reads as off centre. Used for live guidance only, never for a decision.
 */
export function placementOfState(state: number): 'present' | 'none' | 'too_far' | 'too_close' | 'off_center' {
  if (state === 0) return 'present';
  if (state === 1) return 'none';
  if (state === 6) return 'too_far';
  if (state === 7) return 'too_close';
  return 'off_center';
}
