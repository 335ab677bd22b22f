/**
 * Property-based fuzzing of both decoders with fast-check. Each fast-check case supplies a byte
 * stream and a seed; the seed expands (cheaply, by a PRNG) into a batch of further random and mutated
 * streams, so one run feeds ≥ 10⁶ streams to each decoder in CI time. `npm run fuzz` runs 10⁷.
 * Properties: nothing but typed DriverErrors, bounded memory, no hang (each stream is synchronous),
 * every decoded message is really in the input, every accepted frame matches its CRC-32.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DRIVER_ERROR_CODES, DriverError } from '../../drivers/errors.ts';
import { CHUNK_DATA, encodeDeviceReport, parseDeviceReport, REPORT_BYTES, type DeviceReport } from '../../drivers/hid-profile/reports.ts';
import { FrameReassembler } from '../../drivers/hid-profile/reassembly.ts';
import { MAX_FRAME, SerialDecoder, encodeMessage } from '../../drivers/serial-module/codec.ts';
import * as F from '../../drivers/serial-module/family.ts';
import * as M from '../../drivers/serial-module/messages.ts';
import { rng } from '../../drivers/sim/rng.ts';
import { crc32 } from '../../drivers/util/crc32.ts';

const STREAMS = Number(process.env.FUZZ_STREAMS ?? 1_000_000);
const PER_CASE = 2000;
const RUNS = Math.ceil(STREAMS / PER_CASE);
const CODES = new Set<string>(DRIVER_ERROR_CODES);

function typedOnly(fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof DriverError) || !CODES.has(err.code)) throw err;
  }
}

type R = () => number;
const int = (r: R, n: number) => Math.floor(r() * n);
function randomBytes(r: R, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i += 4) {
    const x = (r() * 4294967296) >>> 0; // four bytes per draw
    b[i] = x;
    if (i + 1 < n) b[i + 1] = x >>> 8;
    if (i + 2 < n) b[i + 2] = x >>> 16;
    if (i + 3 < n) b[i + 3] = x >>> 24;
  }
  return b;
}

const cat = (...parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** Random edits: bit flips, inserted/deleted bytes, truncation, a sync word dropped in, duplication. */
function mutate(r: R, b: Uint8Array): Uint8Array {
  let out = b.slice();
  const edits = 1 + int(r, 3);
  for (let e = 0; e < edits; e++) {
    const at = int(r, out.length + 1);
    switch (int(r, 7)) {
      case 0:
        if (out.length) out[at % out.length]! ^= 1 << int(r, 8);
        break;
      case 1:
        out = cat(out.subarray(0, at), Uint8Array.of(int(r, 256)), out.subarray(at));
        break;
      case 2:
        out = cat(out.subarray(0, at), out.subarray(at + 1 + int(r, 4)));
        break;
      case 3:
        out = out.subarray(0, at);
        break;
      case 4:
        out = cat(out.subarray(0, at), Uint8Array.of(0xef, 0xaa), out.subarray(at));
        break;
      case 5:
        out = cat(out, out.subarray(0, at));
        break;
      default:
        if (out.length > 4) [out[3], out[4]] = [int(r, 256), int(r, 256)]; // a length field made up
    }
  }
  return out;
}

// A pool of valid messages (encoding is not what is under test; mutating them is).
const POOL_RNG = rng(99);
const MESSAGES = Array.from({ length: 512 }, () => encodeMessage(int(POOL_RNG, 4) === 0 ? int(POOL_RNG, 256) : int(POOL_RNG, 2), randomBytes(POOL_RNG, int(POOL_RNG, 40))));

function serialStream(r: R, kind: number): { bytes: Uint8Array; mustFind?: Uint8Array } {
  const msg = () => MESSAGES[int(r, MESSAGES.length)]!;
  switch (kind % 4) {
    case 0:
      return { bytes: randomBytes(r, int(r, 64)) };
    case 1:
      return { bytes: mutate(r, msg()) };
    case 2: {
      // Garbage with no 0xEF in it, then an intact message: the decoder must find it.
      const g = randomBytes(r, int(r, 24)).map((x) => (x === 0xef ? 0 : x));
      const m = msg();
      return { bytes: cat(g, m), mustFind: m };
    }
    default:
      return { bytes: mutate(r, cat(msg(), msg(), randomBytes(r, int(r, 8)))) };
  }
}

const PARSERS: Array<(p: Uint8Array) => unknown> = [
  M.parseModuleInfo, M.parseStatus, M.parseIndicator, M.parseTimeoutRequest, M.parseUserId, M.parseSnapResult, (p) => M.parseSnapResult(p, true), M.parseSnapRequest, M.parseChunkRequest, M.parseChunkReply, M.parsePutFeature, M.parsePalmNote,
  // the family's layouts
  F.parseVerifyReply, F.parseEnrollReply, F.parseUserInfo, F.parseAllUserIds, F.parseVersion, F.parseStatus, F.parseImageSize, F.parseFamilyNote, F.parseEnrollRequest, F.parseEnrollItgRequest, F.parseVerifyRequest, F.parseUploadImageRequest, F.parseSnapImageRequest,
];

function checkSerial(dec: SerialDecoder, r: R, bytes: Uint8Array, mustFind?: Uint8Array): void {
  dec.reset();
  const found: Uint8Array[] = [];
  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  // Feed in random chunks, as a serial port would deliver them.
  for (let off = 0; off < bytes.length; ) {
    const n = 1 + int(r, 48);
    for (const ev of dec.push(bytes.subarray(off, off + n))) {
      if (ev.type === 'error') {
        if (!(ev.error instanceof DriverError) || !CODES.has(ev.error.code)) throw new Error(`untyped decoder error ${String(ev.error)}`);
      } else {
        const enc = encodeMessage(ev.message.mid, ev.message.data);
        if (input.indexOf(enc) < 0) throw new Error('decoded a message that is not in the input');
        found.push(enc);
        const data = ev.message.data;
        typedOnly(() => M.parseReply(data));
        typedOnly(() => F.parseFamilyNote(data));
        const parse = PARSERS[int(r, PARSERS.length)]!;
        typedOnly(() => parse(data.subarray(2)));
      }
    }
    if (dec.pending > MAX_FRAME) throw new Error(`decoder holds ${dec.pending} bytes`);
    off += n;
  }
  if (mustFind && !found.some((f) => Buffer.compare(Buffer.from(f), Buffer.from(mustFind)) === 0)) throw new Error('an intact message after clean garbage was not found');
  if (int(r, 8) === 0) for (const ev of dec.resync()) if (ev.type === 'error' && !CODES.has(ev.error.code)) throw new Error('untyped resync error');
}

function makeTransfer(r: R): { reports: Uint8Array[]; pixels: Uint8Array } {
  const w = 1 + int(r, 16);
  const h = 1 + int(r, 16);
  const pixels = randomBytes(r, w * h);
  const seq = int(r, 65536);
  const out: DeviceReport[] = [{ type: 'frame_begin', seq, width: w, height: h, total: w * h, crc: crc32(pixels) }];
  let n = 0;
  for (let o = 0; o < pixels.length; o += CHUNK_DATA, n++) out.push({ type: 'frame_chunk', seq, offset: o, data: pixels.subarray(o, o + CHUNK_DATA) });
  out.push({ type: 'frame_end', seq, chunks: n });
  return { reports: out.map(encodeDeviceReport), pixels };
}

const TRANSFERS = Array.from({ length: 256 }, () => makeTransfer(POOL_RNG));
const transfer = (r: R) => TRANSFERS[int(r, TRANSFERS.length)]!;

function hidStream(r: R, kind: number): { reports: Uint8Array[]; pixels?: Uint8Array } {
  if (kind % 3 === 0) return { reports: Array.from({ length: 1 + int(r, 6) }, () => randomBytes(r, int(r, 4) === 0 ? int(r, 80) : REPORT_BYTES)) };
  const t = transfer(r);
  let reports = t.reports;
  const edits = kind % 3 === 1 ? 0 : 1 + int(r, 3);
  for (let e = 0; e < edits; e++) {
    const i = int(r, reports.length);
    switch (int(r, 5)) {
      case 0:
        reports = reports.filter((_, j) => j !== i); // lost
        break;
      case 1:
        reports = [...reports.slice(0, i + 1), reports[i]!, ...reports.slice(i + 1)]; // duplicated
        break;
      case 2: {
        const b = reports[i]!.slice();
        b[int(r, b.length)]! ^= 1 << int(r, 8); // corrupt
        reports = reports.map((x, j) => (j === i ? b : x));
        break;
      }
      case 3: {
        const j = int(r, reports.length); // reordered
        reports = reports.slice();
        [reports[i], reports[j]] = [reports[j]!, reports[i]!];
        break;
      }
      default:
        reports = reports.map((x, j) => (j === i ? mutate(r, x) : x)); // any edit, any length
    }
  }
  return { reports, pixels: edits === 0 ? t.pixels : undefined };
}

function checkHid(r: R, reports: Uint8Array[], pixels?: Uint8Array): void {
  const asm = new FrameReassembler({ timeoutMs: 50, maxWidth: 64, maxHeight: 64 });
  let now = 0;
  const begins = new Map<number, number>(); // seq → announced crc
  let frames = 0;
  for (const b of reports) {
    now += int(r, 30);
    let rep: DeviceReport;
    try {
      rep = parseDeviceReport(b);
    } catch (err) {
      if (!(err instanceof DriverError) || !CODES.has(err.code)) throw err;
      continue;
    }
    if (rep.type !== 'frame_begin' && rep.type !== 'frame_chunk' && rep.type !== 'frame_end') continue;
    if (rep.type === 'frame_begin') begins.set(rep.seq, rep.crc);
    const res = asm.push(rep, now);
    if (res.kind === 'error' || res.kind === 'warning') {
      if (!CODES.has(res.error.code)) throw new Error('untyped reassembly error');
    } else if (res.kind === 'frame') {
      frames++;
      const f = res.frame;
      if (f.pixels.length !== f.width * f.height) throw new Error('frame size mismatch');
      if (crc32(f.pixels) !== begins.get(f.seq)) throw new Error('accepted a frame that does not match its CRC-32');
    }
  }
  if (pixels && frames !== 1) throw new Error('an intact transfer was not accepted');
}

describe('fuzz (fast-check)', () => {
  // Most fuzz inputs end in a typed error; stack traces are what makes errors slow, and unneeded here.
  let limit = Error.stackTraceLimit;
  beforeAll(() => {
    limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
  });
  afterAll(() => {
    Error.stackTraceLimit = limit;
  });

  it(`feeds ${STREAMS.toLocaleString('en')} random and mutated streams to the serial decoder`, () => {
    const dec = new SerialDecoder();
    let streams = 0;
    let bytes = 0;
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (first, seed) => {
        const r = rng(seed);
        checkSerial(dec, r, first);
        for (let i = 1; i < PER_CASE; i++) {
          const s = serialStream(r, i);
          checkSerial(dec, r, s.bytes, s.mustFind);
          bytes += s.bytes.length;
        }
        streams += PER_CASE;
      }),
      { numRuns: RUNS },
    );
    console.log(`serial decoder: ${streams} streams, ${bytes} bytes`);
    expect(streams).toBeGreaterThanOrEqual(STREAMS);
  }, 600_000);

  it(`feeds ${STREAMS.toLocaleString('en')} random and mutated report streams to the HID decoder`, () => {
    let streams = 0;
    let reports = 0;
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 64, maxLength: 64 }), { maxLength: 6 }), fc.integer({ min: 1, max: 2 ** 31 - 1 }), (first, seed) => {
        const r = rng(seed);
        checkHid(r, first);
        for (let i = 1; i < PER_CASE; i++) {
          const s = hidStream(r, i);
          checkHid(r, s.reports, s.pixels);
          reports += s.reports.length;
        }
        streams += PER_CASE;
      }),
      { numRuns: RUNS },
    );
    console.log(`HID decoder: ${streams} streams, ${reports} reports`);
    expect(streams).toBeGreaterThanOrEqual(STREAMS);
  }, 600_000);
});
