// The pure codecs: EF AA framing, our payload layouts, the 64-byte HID reports and frame reassembly.
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../drivers/errors.ts';
import { SerialDecoder, encodeMessage, parity, MAX_DATA, MAX_FRAME } from '../../drivers/serial-module/codec.ts';
import * as F from '../../drivers/serial-module/family.ts';
import * as M from '../../drivers/serial-module/messages.ts';
import { FRAME_ENCODING, maxPackedBytes } from '../../drivers/serial-module/frame-packing.ts';
import { CHUNK_DATA, encodeDeviceReport, encodeHostReport, parseDeviceReport, parseHostReport, REPORT_BYTES, type DeviceReport } from '../../drivers/hid-profile/reports.ts';
import { FrameReassembler } from '../../drivers/hid-profile/reassembly.ts';
import { crc32 } from '../../drivers/util/crc32.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const messages = (evs: ReturnType<SerialDecoder['push']>) => evs.filter((e) => e.type === 'message').map((e) => (e.type === 'message' ? e.message : null)!);
const errors = (evs: ReturnType<SerialDecoder['push']>) => evs.filter((e) => e.type === 'error').map((e) => (e.type === 'error' ? e.error.code : ''));

describe('EF AA framing', () => {
  it('encodes the power-up note exactly as the modules send it', () => {
    expect(hex(encodeMessage(F.FAMILY.NOTE, Uint8Array.of(F.NOTE_ID.READY)))).toBe('efaa0100010000');
  });

  it('decodes byte by byte, and a whole stream at once, to the same messages', () => {
    const a = encodeMessage(0x00, M.encodeReply(F.FAMILY.GET_VERSION, 0, new Uint8Array([1, 2, 3])));
    const b = encodeMessage(0x01, M.encodePalmNote({ state: 'present', distanceMm: 55 }));
    const all = Buffer.concat([a, b]);
    const d1 = new SerialDecoder();
    const one = [...all].flatMap((x) => messages(d1.push(new Uint8Array([x]))));
    const two = messages(new SerialDecoder().push(all));
    expect(one).toEqual(two);
    expect(two.map((m) => m.mid)).toEqual([0, 1]);
    expect(M.parsePalmNote(two[1]!.data.subarray(1))).toEqual({ state: 'present', distanceMm: 55 });
  });

  it('resynchronises after garbage and reports it', () => {
    const msg = encodeMessage(0x00, M.encodeReply(0x10, 0));
    const evs = new SerialDecoder().push(Buffer.concat([Buffer.from([1, 2, 3, 0xef, 9]), msg]));
    expect(errors(evs)).toEqual(['PROTO_GARBAGE']);
    expect(messages(evs)).toHaveLength(1);
  });

  it('parity (four bytes per step) equals the byte-by-byte XOR at every alignment, length and byte value', () => {
    const byByte = (mid: number, d: Uint8Array) => {
      let p = mid ^ ((d.length >> 8) & 0xff) ^ (d.length & 0xff);
      for (const b of d) p ^= b;
      return p & 0xff;
    };
    let x = 7;
    const big = new Uint8Array(MAX_DATA + 8).map(() => ((x = (x * 1103515245 + 12345) & 0x7fffffff) >> 16) & 0xff);
    for (let off = 0; off < 8; off++)
      for (const len of [0, 1, 3, 63, 64, 65, 66, 67, 68, 255, 256, 4095, 4096, 4113, MAX_DATA]) {
        const d = big.subarray(off, off + len);
        expect(parity(0x5a, d), `offset ${off}, ${len} bytes`).toBe(byByte(0x5a, d));
      }
    // A single flipped bit anywhere in a word-sized run changes it.
    const d = big.subarray(3, 3 + 4096);
    const before = parity(0, d);
    for (const i of [0, 1, 2, 3, 4, 2047, 4092, 4095]) {
      d[i]! ^= 0x10;
      expect(parity(0, d)).toBe(before ^ 0x10);
      d[i]! ^= 0x10;
    }
  });

  it('a chunk reply encoded in parts is the same message as the one built whole', () => {
    const chunk = { seq: 513, total: 307_200, offset: 4096 * 7, bytes: new Uint8Array(4096).map((_, i) => (i * 31) & 0xff) };
    const whole = encodeMessage(F.FAMILY.REPLY, M.encodeReply(M.MID.PP_UPLOAD, 0, M.encodeChunkReply(chunk)));
    expect(hex(encodeMessage(F.FAMILY.REPLY, ...M.chunkReplyParts(M.MID.PP_UPLOAD, chunk)))).toBe(hex(whole));
    expect(hex(encodeMessage(0x10))).toBe(hex(encodeMessage(0x10, new Uint8Array(0))));
  });

  it('rejects bad parity and still finds the next frame', () => {
    const bad = encodeMessage(0x00, M.encodeReply(0x10, 0));
    bad[bad.length - 1]! ^= 0xff;
    const good = encodeMessage(0x00, M.encodeReply(0x11, 0));
    const evs = new SerialDecoder().push(Buffer.concat([bad, good]));
    expect(errors(evs)).toContain('PROTO_PARITY');
    expect(messages(evs).map((m) => M.parseReply(m.data).cmd)).toEqual([0x11]);
  });

  it('rejects an impossible length without waiting for (or allocating) it', () => {
    const d = new SerialDecoder();
    const evs = d.push(new Uint8Array([0xef, 0xaa, 0x00, 0xff, 0xff]));
    expect(errors(evs)).toEqual(['PROTO_LENGTH']);
    expect(d.pending).toBeLessThan(5);
  });

  it('finds a real frame hidden behind a false header once the driver gives up on it', () => {
    const d = new SerialDecoder();
    const real = encodeMessage(0x00, M.encodeReply(0x12, 0));
    const evs = d.push(Buffer.concat([Buffer.from([0xef, 0xaa, 0x00, 0x10, 0x00]), real])); // claims 4096 bytes
    expect(messages(evs)).toHaveLength(0);
    const after = d.resync();
    expect(errors(after)).toContain('PROTO_TRUNCATED');
    expect(messages(after)).toHaveLength(1);
  });

  it('never holds more than one maximal frame', () => {
    const d = new SerialDecoder();
    const junk = new Uint8Array(100_000).fill(0xef);
    d.push(junk);
    expect(d.pending).toBeLessThanOrEqual(MAX_FRAME);
    expect(() => encodeMessage(0, new Uint8Array(MAX_DATA + 1))).toThrow(DriverError);
  });
});

describe('serial payload layouts', () => {
  it('round-trips every layout', () => {
    const info = { moduleId: 'PalmSim/SN1/1.2', canImage: true, canFeature: false, canIndicator: true, canStatus: false, canPackFrames: false, width: 640, height: 480, maxChunk: 4096 };
    // A module without the trailing window byte takes one chunk request at a time.
    expect(M.parseModuleInfo(M.encodeModuleInfo(info))).toEqual({ ...info, window: 1 });
    expect(M.parseModuleInfo(M.encodeModuleInfo({ ...info, window: 8 }))).toEqual({ ...info, window: 8 });
    expect(M.parseModuleInfo(M.encodeModuleInfo({ ...info, window: 200 })).window).toBe(M.MAX_WINDOW);
    expect(() => M.parseModuleInfo(new Uint8Array([...M.encodeModuleInfo(info), 0]))).toThrow(DriverError);
    const snap = { seq: 7, width: 640, height: 480, imageCrc: 0xdeadbeef, featureBytes: 1024, featureCrc: 1 };
    expect(M.parseSnapResult(M.encodeSnapResult(snap))).toEqual(snap);
    expect(M.parseModuleInfo(M.encodeModuleInfo({ ...info, canPackFrames: true })).canPackFrames).toBe(true);
    const packedSnap = { ...snap, packing: { encoding: FRAME_ENCODING.UP_DEFLATE, wireBytes: 70_000 } };
    expect(M.parseSnapResult(M.encodeSnapResult(packedSnap), true)).toEqual(packedSnap);
    // Not asked for packing: the same bytes are a later firmware's trailing bytes, tolerated and not read.
    expect(M.parseSnapResult(M.encodeSnapResult(packedSnap))).toEqual(snap);
    expect(M.parseSnapRequest(M.encodeSnapRequest(2))).toEqual({ timeoutS: 2, encoding: FRAME_ENCODING.RAW });
    expect(M.encodeSnapRequest(2)).toEqual(M.encodeTimeoutRequest(2)); // what a module before bit 4 is sent
    expect(M.parseSnapRequest(M.encodeSnapRequest(2, FRAME_ENCODING.UP_DEFLATE))).toEqual({ timeoutS: 2, encoding: FRAME_ENCODING.UP_DEFLATE });
    expect(M.parseChunkRequest(M.encodeChunkRequest({ seq: 1, offset: 4096, length: 4096 }))).toEqual({ seq: 1, offset: 4096, length: 4096 });
    const cr = M.parseChunkReply(M.encodeChunkReply({ seq: 1, total: 10, offset: 8, bytes: new Uint8Array([1, 2]) }));
    expect([cr.seq, cr.total, cr.offset, [...cr.bytes]]).toEqual([1, 10, 8, [1, 2]]);
    expect(M.parseStatus(M.encodeStatus({ busy: true, palm: 'too_far' }))).toEqual({ busy: true, palm: 'too_far' });
    expect(M.parseIndicator(M.encodeIndicator({ led: 'ok', beepMs: 120 }))).toEqual({ led: 'ok', beepMs: 120 });
  });

  it('rejects lengths and ranges that do not fit, with typed errors', () => {
    expect(() => M.parseModuleInfo(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => M.parseSnapResult(M.encodeSnapResult({ seq: 1, width: 9000, height: 1, imageCrc: 0, featureBytes: 0, featureCrc: 0 }))).toThrow(DriverError);
    expect(() => M.parseChunkReply(M.encodeChunkReply({ seq: 1, total: 4, offset: 3, bytes: new Uint8Array(2) }))).toThrow(DriverError);
    // Packed snaps: a declared length beyond deflate's worst case for the frame, zero, a raw frame of the wrong size,
    // an unknown encoding, or no packing fields when they were asked for.
    const snap = { seq: 1, width: 640, height: 480, imageCrc: 0, featureBytes: 0, featureCrc: 0 };
    const packedOf = (encoding: number, wireBytes: number) => M.parseSnapResult(M.encodeSnapResult({ ...snap, packing: { encoding: encoding as 0 | 1, wireBytes } }), true);
    expect(() => packedOf(FRAME_ENCODING.UP_DEFLATE, maxPackedBytes(640 * 480) + 1)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => packedOf(FRAME_ENCODING.UP_DEFLATE, 0xffffffff)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => packedOf(FRAME_ENCODING.UP_DEFLATE, 0)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => packedOf(FRAME_ENCODING.RAW, 640 * 480 - 1)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => packedOf(7, 100)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => M.parseSnapResult(M.encodeSnapResult(snap), true)).toThrow(DriverError);
    expect(() => M.parseSnapRequest(Uint8Array.of(2, 9))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(() => M.parseChunkRequest(M.encodeChunkRequest({ seq: 1, offset: 0, length: 0 }))).toThrow(DriverError);
    expect(() => M.parsePalmNote(new Uint8Array([0x09, 0, 0]))).toThrow(DriverError);
    expect(() => M.parseReply(new Uint8Array([1]))).toThrow(DriverError);
  });
});

describe("the EF AA family's published layouts", () => {
  it('sends requests exactly as the family publishes them', () => {
    expect(hex(F.encodeVerify({ powerDownAfter: false, timeoutS: 10 }))).toBe('000a');
    const enrol = F.encodeEnroll({ admin: false, name: 'pp-7f3a', direction: F.DIRECTION_STRAIGHT, timeoutS: 10 });
    expect(enrol.length).toBe(35);
    expect([enrol[0], enrol[33], enrol[34]]).toEqual([0, 0x01, 10]);
    expect(Buffer.from(enrol.subarray(1, 33)).toString('latin1').replace(/\0+$/, '')).toBe('pp-7f3a');
    expect(F.encodeEnrollItg({ admin: false, name: 'pp-1', enrollType: 1, direction: 1, enableDuplicate: false, timeoutS: 9 }).length).toBe(40);
    expect(hex(F.encodeSnapImage(1, 0))).toBe('0100');
    expect(hex(F.encodeGetSavedImage(0))).toBe('00');
    expect(hex(F.encodeUploadImage(4000, 4000))).toBe('00000fa000000fa0');
    expect(() => F.encodeUploadImage(0, 4001)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(hex(F.encodeUserId(0x1234))).toBe('1234');
  });

  it('parses replies by their fields, accepts and counts trailing bytes, refuses short ones', () => {
    const v = F.encodeVerifyReply({ userId: 17, name: 'pp-17', admin: false, unlockStatus: 1 });
    expect(v.length).toBe(36);
    expect(F.parseVerifyReply(v)).toEqual({ value: { userId: 17, name: 'pp-17', admin: false, unlockStatus: 1 }, extra: 0 });
    expect(F.parseVerifyReply(Buffer.concat([v, Buffer.from([9, 9, 9])])).extra).toBe(3);
    expect(() => F.parseVerifyReply(v.subarray(0, 34))).toThrow(expect.objectContaining({ code: 'MODULE_REPLY_SHORT' }));
    expect(F.parseEnrollReply(Uint8Array.of(0, 5, 1))).toEqual({ value: { userId: 5, direction: 1 }, extra: 0 });
    expect(() => F.parseEnrollReply(Uint8Array.of(0, 5))).toThrow(expect.objectContaining({ code: 'MODULE_REPLY_SHORT' }));
    expect(F.parseAllUserIds(Uint8Array.of(2, 0, 1, 0, 9, 0xee))).toEqual({ value: [1, 9], extra: 1 });
    expect(() => F.parseAllUserIds(Uint8Array.of(3, 0, 1, 0, 9))).toThrow(expect.objectContaining({ code: 'MODULE_REPLY_SHORT' }));
    expect(F.parseUserInfo(F.encodeUserInfo({ userId: 4, name: 'pp-4', admin: true })).value).toEqual({ userId: 4, name: 'pp-4', admin: true });
    expect(F.parseVersion(F.encodeVersion('L015 v2.1')).value).toBe('L015 v2.1');
    expect(F.parseStatus(Uint8Array.of(1)).value).toBe('busy');
    expect(() => F.parseStatus(Uint8Array.of(7))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_MESSAGE' }));
    expect(F.parseImageSize(Uint8Array.of(0, 0, 0x9c, 0x40)).value).toBe(40000);
    expect(() => F.parseImageSize(Uint8Array.of(0xff, 0, 0, 0))).toThrow(expect.objectContaining({ code: 'PROTO_LENGTH' }));
  });

  it('parses the READY note and the 16-byte state note', () => {
    expect(F.parseFamilyNote(Uint8Array.of(0)).value).toEqual({ nid: 'ready' });
    const st = F.encodeStateNote({ state: 0, left: 10, top: 20, right: -1, bottom: 40, yaw: -5, pitch: 3, roll: 0 });
    expect(st.length).toBe(17);
    expect(F.parseFamilyNote(st)).toEqual({ value: { nid: 'state', state: { state: 0, left: 10, top: 20, right: -1, bottom: 40, yaw: -5, pitch: 3, roll: 0 } }, extra: 0 });
    expect(() => F.parseFamilyNote(st.subarray(0, 10))).toThrow(expect.objectContaining({ code: 'MODULE_REPLY_SHORT' }));
  });

  it('gives every result code of the family its own typed error and message', () => {
    const codes = [1, 2, 4, 5, 6, 7, 8, 9, 10, 12, 13, 14, 19, 20, 21].map((r) => F.resultError('VERIFY', r));
    expect(new Set(codes.map((e) => e.code)).size).toBe(codes.length);
    for (const e of codes) expect(e.message.length).toBeGreaterThan(30);
    expect(F.resultError('VERIFY', 13).code).toBe('NO_PALM');
    expect(F.resultError('VERIFY', 21).code).toBe('MODULE_ENCRYPTION_REQUIRED');
    expect(F.resultError('VERIFY', 77).code).toBe('MODULE_RESULT_UNKNOWN');
  });

  it("puts PalmPay's own messages only on ids the family does not use", () => {
    for (const id of [M.MID.PP_INFO, M.MID.PP_STATUS, M.MID.PP_INDICATOR, M.MID.PP_SNAP, M.MID.PP_UPLOAD]) expect(F.FAMILY_IDS.has(id), `0x${id.toString(16)}`).toBe(false);
    expect([0, 1, 2, 3]).not.toContain(M.PP_NOTE_PALM);
  });

  it('refuses a person-like user_name: only pseudonymous ids go to the module', () => {
    expect(() => F.encodeEnroll({ admin: false, name: 'Amira Haddad', direction: 1, timeoutS: 5 })).toThrow(expect.objectContaining({ code: 'CONFIG_BAD_PSEUDONYM' }));
    expect(() => F.checkPseudonym('x'.repeat(33))).toThrow(expect.objectContaining({ code: 'CONFIG_BAD_PSEUDONYM' }));
  });
});

describe('HID reports', () => {
  it('round-trips host and device reports at exactly 64 bytes', () => {
    for (const r of [{ type: 'get_info' }, { type: 'set_indicator', led: 'ok', beepMs: 80 }, { type: 'start_capture', timeoutS: 3 }, { type: 'resend_frame', seq: 9 }, { type: 'set_exposure', exposureUs: 1500 }] as const) {
      const b = encodeHostReport(r);
      expect(b.length).toBe(REPORT_BYTES);
      expect(parseHostReport(b)).toEqual(r);
    }
    const dev: DeviceReport[] = [
      { type: 'info', vendorId: 0x1d50, productId: 0x6150, firmware: '1.2', width: 640, height: 480, serial: 'S1', model: 'M' },
      { type: 'ack', cmd: 3, status: 'ok', seq: 4 },
      { type: 'event', event: 'palm_present', distanceMm: 50 },
      { type: 'frame_begin', seq: 1, width: 640, height: 480, total: 640 * 480, crc: 123 },
      { type: 'frame_end', seq: 1, chunks: 5486 },
    ];
    for (const r of dev) expect(parseDeviceReport(encodeDeviceReport(r))).toEqual(r);
  });

  it('rejects short reports, unknown types and impossible sizes', () => {
    expect(() => parseDeviceReport(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_REPORT' }));
    expect(() => parseDeviceReport(new Uint8Array(64))).toThrow(expect.objectContaining({ code: 'PROTO_BAD_REPORT' }));
    const begin = encodeDeviceReport({ type: 'frame_begin', seq: 1, width: 4, height: 4, total: 16, crc: 0 });
    begin[10] = 0xff; // total no longer width × height
    expect(() => parseDeviceReport(begin)).toThrow(expect.objectContaining({ code: 'PROTO_BAD_REPORT' }));
  });
});

function transfer(pixels: Uint8Array, w: number, h: number, seq = 1): DeviceReport[] {
  const out: DeviceReport[] = [{ type: 'frame_begin', seq, width: w, height: h, total: w * h, crc: crc32(pixels) }];
  let n = 0;
  for (let o = 0; o < pixels.length; o += CHUNK_DATA, n++) out.push({ type: 'frame_chunk', seq, offset: o, data: pixels.subarray(o, o + CHUNK_DATA) });
  out.push({ type: 'frame_end', seq, chunks: n });
  return out;
}
const feed = (r: FrameReassembler, reports: DeviceReport[], now = 0) => reports.map((x) => r.push(x as Parameters<FrameReassembler['push']>[0], now));

describe('frame reassembly', () => {
  const W = 640;
  const H = 480;
  const pixels = new Uint8Array(W * H).map((_, i) => (i * 31 + (i >> 9)) & 0xff);

  it('carries a 640×480 frame intact through 64-byte reports', () => {
    const reports = transfer(pixels, W, H);
    expect(reports.length).toBe(2 + Math.ceil((W * H) / CHUNK_DATA));
    for (const r of reports) expect(encodeDeviceReport(r).length).toBe(64);
    const res = feed(new FrameReassembler(), reports.map((r) => parseDeviceReport(encodeDeviceReport(r))));
    const last = res.at(-1)!;
    expect(last.kind).toBe('frame');
    if (last.kind === 'frame') expect(Buffer.compare(Buffer.from(last.frame.pixels), Buffer.from(pixels))).toBe(0);
  });

  it('detects a lost chunk, a duplicated one, a corrupt one, a missing tail and a stall', () => {
    const base = transfer(pixels.subarray(0, 64 * 48), 64, 48);
    const lost = base.filter((_, i) => i !== 5);
    expect(feed(new FrameReassembler(), lost).some((r) => r.kind === 'error' && r.error.code === 'PROTO_CHUNK_LOST')).toBe(true);

    const dup = [...base.slice(0, 6), base[5]!, ...base.slice(6)];
    const dr = feed(new FrameReassembler(), dup);
    expect(dr.some((r) => r.kind === 'warning' && r.error.code === 'PROTO_CHUNK_DUP')).toBe(true);
    expect(dr.at(-1)!.kind).toBe('frame');

    const corrupt = base.map((r, i) => (i === 7 && r.type === 'frame_chunk' ? { ...r, data: r.data.map((x, j) => (j === 3 ? x ^ 4 : x)) } : r));
    expect(feed(new FrameReassembler(), corrupt).at(-1)).toMatchObject({ kind: 'error', error: { code: 'PROTO_CRC' } });

    const tail = [...base.slice(0, -3), base.at(-1)!];
    expect(feed(new FrameReassembler(), tail).at(-1)).toMatchObject({ kind: 'error', error: { code: 'PROTO_CHUNK_LOST' } });

    const r = new FrameReassembler({ timeoutMs: 100 });
    feed(r, base.slice(0, 10), 0);
    expect(r.checkTimeout(50).kind).toBe('none');
    expect(r.checkTimeout(200)).toMatchObject({ kind: 'error', error: { code: 'PROTO_TRANSFER_TIMEOUT' } });
  });

  it('refuses a begin over the caps before allocating', () => {
    const r = new FrameReassembler({ timeoutMs: 100, maxWidth: 100, maxHeight: 100 });
    expect(r.push({ type: 'frame_begin', seq: 1, width: 2000, height: 2000, total: 4e6, crc: 0 }, 0)).toMatchObject({ kind: 'error', error: { code: 'PROTO_LENGTH' } });
  });
});

describe('module table vs store (planReconcile)', () => {
  it('matches, adopts, flags orphans and duplicates, lists the missing', async () => {
    const { planReconcile } = await import('../../drivers/client/module-users.ts');
    const moduleUsers = [
      { userId: 1, name: 'pp-a', admin: false },
      { userId: 2, name: 'pp-b', admin: false },
      { userId: 3, name: 'pp-b', admin: false }, // a second entry for one name (a lost enrol repeated by hand)
      { userId: 7, name: 'pp-revoked', admin: false },
    ];
    const plan = planReconcile(moduleUsers, [{ name: 'pp-a', userId: 1 }, { name: 'pp-b', userId: 3 }, { name: 'pp-c' }]);
    expect(plan.matched).toEqual([
      { name: 'pp-a', userId: 1 },
      { name: 'pp-b', userId: 3 },
    ]);
    expect(plan.adopt).toEqual([]);
    expect(plan.orphans.map((u) => u.userId).sort()).toEqual([2, 7]);
    expect(plan.missing).toEqual([{ name: 'pp-c' }]);
    expect(planReconcile(moduleUsers.slice(0, 1), [{ name: 'pp-a' }]).adopt).toEqual([{ name: 'pp-a', userId: 1 }]);
  });
});
