// Packed frames (PP_INFO bit 4, drivers/serial-module/frame-packing.ts): lossless on synthetic and real NIR palms,
// a hostile or damaged packed stream is a typed error (never an allocation beyond the frame, never a hang), and a
// module without the bit is asked exactly as before.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../drivers/errors.ts';
import { packFrame, unpackFrame } from '../../drivers/serial-module/frame-packing.ts';
import { createSimScanner } from '../../drivers/sim/index.ts';
import type { SimSerialModule } from '../../drivers/sim/serial-module.ts';
import { resize } from '../../drivers/sim/sources.ts';
import { syntheticPalm } from '../../drivers/sim/synthetic-palm.ts';
import { decodeImageBytes } from '../../drivers/util/image-file.ts';

const CASIA = join(import.meta.dirname, '../../../shared/data/casia-ms-940-dev');
const W = 320;
const H = 240;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

describe('packFrame / unpackFrame', () => {
  it('gives back every byte of synthetic palms, and packs them smaller', () => {
    for (let i = 0; i < 3; i++) {
      const img = syntheticPalm(`p${i}`, 1, i, W, H);
      const packed = packFrame(img.pixels, W);
      expect(packed.length).toBeLessThan(img.pixels.length * 0.7);
      expect(Buffer.from(unpackFrame(packed, W, H)).equals(Buffer.from(img.pixels))).toBe(true);
    }
  });

  it('gives back every byte whatever the width and the buffer alignment (word-wise and byte-wise paths)', () => {
    const r = rng(5);
    for (const [w, h] of [[161, 97], [164, 3], [4, 1], [1, 9]] as const) {
      const backing = Uint8Array.from({ length: w * h + 3 }, (_, i) => (i * 7 + Math.floor(r() * 9)) & 0xff);
      for (const pixels of [backing.subarray(0, w * h), backing.subarray(3)]) {
        expect(Buffer.from(unpackFrame(packFrame(pixels, w), w, h)).equals(Buffer.from(pixels))).toBe(true);
      }
    }
  });

  it.skipIf(!existsSync(CASIA))('gives back every byte of real NIR palms (CASIA 940 nm, at 640×480), packed to well under half', () => {
    const files = readdirSync(CASIA).filter((n) => n.endsWith('.jpg')).sort().slice(0, 12);
    for (const f of files) {
      const img = resize(decodeImageBytes(readFileSync(join(CASIA, f))), 640, 480);
      const packed = packFrame(img.pixels, 640);
      expect(packed.length / img.pixels.length).toBeLessThan(0.35);
      expect(Buffer.from(unpackFrame(packed, 640, 480)).equals(Buffer.from(img.pixels))).toBe(true);
    }
  });

  it('refuses a stream that inflates beyond the frame (a bomb) without inflating it all', () => {
    const bomb = deflateRawSync(new Uint8Array(64 * 1024 * 1024), { level: 9 }); // 64 MiB of zeros in ≈ 64 KB
    expect(() => unpackFrame(bomb, W, H)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_CORRUPT' }));
    const oneMore = deflateRawSync(new Uint8Array(W * H + 1));
    expect(() => unpackFrame(oneMore, W, H)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_CORRUPT' }));
  });

  it('refuses a stream that is empty, cut short or inflates to fewer bytes than the frame', () => {
    const packed = packFrame(syntheticPalm('p', 1, 1, W, H).pixels, W);
    expect(() => unpackFrame(new Uint8Array(0), W, H)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_CORRUPT' }));
    expect(() => unpackFrame(packed.subarray(0, packed.length >> 1), W, H)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_CORRUPT' }));
    expect(() => unpackFrame(deflateRawSync(new Uint8Array(W * H - 1)), W, H)).toThrow(expect.objectContaining({ code: 'PROTO_FRAME_CORRUPT' }));
  });

  it('fuzz: every damaged packed stream unpacks to exactly the frame size or fails with PROTO_FRAME_CORRUPT', () => {
    const r = rng(20261207);
    const frames = [0, 1, 2].map((i) => packFrame(syntheticPalm(`f${i}`, 1, i, 160, 120).pixels, 160));
    const outcomes = { corrupt: 0, sized: 0 };
    for (let n = 0; n < 3000; n++) {
      const base = frames[n % frames.length]!;
      let bytes = Uint8Array.from(base);
      const kind = n % 4;
      if (kind === 0) for (let k = 0; k < 1 + Math.floor(r() * 4); k++) bytes[Math.floor(r() * bytes.length)]! ^= 1 << Math.floor(r() * 8);
      else if (kind === 1) bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
      else if (kind === 2) bytes = Uint8Array.from({ length: 1 + Math.floor(r() * 4096) }, () => Math.floor(r() * 256));
      else bytes = Uint8Array.from([...bytes, ...Array.from({ length: 1 + Math.floor(r() * 64) }, () => Math.floor(r() * 256))]);
      try {
        expect(unpackFrame(bytes, 160, 120).length).toBe(160 * 120);
        outcomes.sized++;
      } catch (err) {
        if (!(err instanceof DriverError) || err.code !== 'PROTO_FRAME_CORRUPT') throw err;
        outcomes.corrupt++;
      }
    }
    expect(outcomes.corrupt).toBeGreaterThan(1000); // most damage is caught by the unpacking itself; the CRC-32 catches the rest
  });
});

describe('packed frames between the host and the simulated module', () => {
  const open = (sim: { packFrames?: boolean } = {}, serial: { packedFrames?: boolean } = {}) =>
    createSimScanner({ protocol: 'serial', width: W, height: H, ...sim }, { serial: { exchangeTimeoutMs: 300, ...serial } });

  it('a module with bit 4 sends packed frames: the same pixels in fewer chunks', async () => {
    const packed = await open();
    const raw = await open({}, { packedFrames: false });
    try {
      const chunks = { packed: 0, raw: 0 };
      (packed.sim.device as SimSerialModule).onUploadChunk = () => void chunks.packed++;
      (raw.sim.device as SimSerialModule).onUploadChunk = () => void chunks.raw++;
      for (const s of [packed, raw]) s.sim.autoPresent(() => ({ identity: 'alice' }));
      const a = await packed.client.capture({ want: 'frame', timeoutMs: 5000 });
      const b = await raw.client.capture({ want: 'frame', timeoutMs: 5000 });
      if (a.kind !== 'frame' || b.kind !== 'frame') throw new Error('expected frames');
      expect(Buffer.from(a.pixels).equals(Buffer.from(b.pixels))).toBe(true); // same palm, same shot numbering
      expect(packed.client.moduleCapabilities ? (await packed.client.info()).capabilities : []).toContain('pp_packed_frames');
      expect(chunks.raw).toBe(Math.ceil((W * H) / 4096));
      expect(chunks.packed).toBeGreaterThan(0);
      expect(chunks.packed).toBeLessThan(chunks.raw * 0.7);
    } finally {
      await packed.close();
      await raw.close();
    }
  });

  it('a module without bit 4 is sent the one-byte snap it has always taken, and its frames arrive raw', async () => {
    const old = await open({ packFrames: false });
    try {
      old.sim.autoPresent(() => ({ identity: 'bob' }));
      let chunks = 0;
      (old.sim.device as SimSerialModule).onUploadChunk = () => void chunks++;
      const cap = await old.client.capture({ want: 'frame', timeoutMs: 5000 });
      expect(cap.kind).toBe('frame');
      expect(chunks).toBe(Math.ceil((W * H) / 4096)); // a two-byte snap would have been refused (invalid parameter)
      expect((await old.client.info()).capabilities).not.toContain('pp_packed_frames');
    } finally {
      await old.close();
    }
  });

  it('a module that advertises bit 4 but refuses the encoding byte gets its frame asked for raw', async () => {
    const s = await open();
    try {
      s.sim.autoPresent(() => ({ identity: 'dave' }));
      await s.client.info(); // discovery saw bit 4
      // From here on the module parses snaps as one without bit 4 would: two bytes are an invalid parameter.
      (s.sim.device as unknown as { o: { packFrames: boolean } }).o.packFrames = false;
      let chunks = 0;
      (s.sim.device as SimSerialModule).onUploadChunk = () => void chunks++;
      const cap = await s.client.capture({ want: 'frame', timeoutMs: 5000 });
      expect(cap.kind).toBe('frame');
      expect(chunks).toBe(Math.ceil((W * H) / 4096));
      expect((s.client.stats.faults as Record<string, number | undefined>).MODULE_INVALID_PARAM).toBe(1);
      chunks = 0;
      await s.client.capture({ want: 'frame', timeoutMs: 5000 }); // not asked packed again: no second refusal
      expect((s.client.stats.faults as Record<string, number | undefined>).MODULE_INVALID_PARAM).toBe(1);
    } finally {
      await s.close();
    }
  });

  it('a damaged packed frame is redone; one damaged every time ends typed, never hangs', async () => {
    const s = await open();
    try {
      s.sim.autoPresent(() => ({ identity: 'carol' }));
      const device = s.sim.device as SimSerialModule;
      let damage = 1; // the first capture's packed stream only
      // The stream's bytes are damaged where the module keeps them, after parity: only unpacking and the CRC can tell.
      device.onUploadChunk = (offset) => {
        if (offset !== 0 || damage <= 0) return;
        damage--;
        const wire = (device as unknown as { snaps: Array<{ wire: Uint8Array }> }).snaps.at(-1)!.wire;
        for (let i = 100; i < wire.length; i += 97) wire[i]! ^= 0x5a;
      };
      const cap = await s.client.capture({ want: 'frame', timeoutMs: 5000 });
      expect(cap.kind).toBe('frame');
      const faults = s.client.stats.faults as Record<string, number | undefined>;
      expect((faults.PROTO_FRAME_CORRUPT ?? 0) + (faults.PROTO_CRC ?? 0)).toBe(1);

      damage = Infinity;
      const t0 = performance.now();
      const err = await s.client.capture({ want: 'frame', timeoutMs: 5000 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(DriverError);
      expect((err as DriverError).code).toBe('SCANNER_UNRESPONSIVE');
      expect(['PROTO_FRAME_CORRUPT', 'PROTO_CRC']).toContain(((err as DriverError).cause as DriverError).code);
      expect(performance.now() - t0).toBeLessThan(3000);
    } finally {
      await s.close();
    }
  });
});
