// Test support (not product code): a virtual ESC/POS receipt printer on a socat pty or a TCP port. It decodes the
// byte stream the driver sends back into what a paper roll would show — every raster block (GS v 0) as a
// black-and-white picture, line feeds, cuts — records every drawer pulse (ESC p, DLE DC4), and answers the
// real-time status requests (DLE EOT n) from its own state, so a test can open the cover or run it out of paper.
// A byte it does not understand is recorded as an error: the tests fail on it rather than guess.
import { createServer, type Server, type Socket } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PNG } from 'pngjs';
import { PtyPair } from '../../drivers/sim/pty.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';

/** One bit per dot, 1 = black, row-major, `width` dots a row. */
export interface MonoPicture {
  width: number;
  height: number;
  ink: Uint8Array;
}

export interface PrintedReceipt {
  /** The raster blocks stacked (line feeds between blocks are left out: they are blank paper). */
  picture: MonoPicture;
  blocks: number;
  /** The printer was out of paper or open while this came in (a real one would print it only after recovery). */
  whileOffline: boolean;
}

export interface Pulse {
  kind: 'esc-p' | 'realtime';
  pin: number;
}

const ESC = 0x1b, GS = 0x1d, DLE = 0x10, FS = 0x1c, LF = 0x0a, CR = 0x0d;

/** Decodes an ESC/POS byte stream incrementally; `feed` may be called with any split of the bytes. */
export class EscPosDecoder {
  private buf = new Uint8Array(0);
  private blocks: MonoPicture[] = [];
  private blocksOffline = false;
  readonly receipts: PrintedReceipt[] = [];
  readonly pulses: Pulse[] = [];
  readonly errors: string[] = [];
  lineFeeds = 0;

  constructor(
    private readonly answer: (n: number) => number,
    private readonly on: { pulse?(p: Pulse): void; receipt?(r: PrintedReceipt): void; raster?(): void; offline(): boolean },
  ) {}

  feed(bytes: Uint8Array): Uint8Array[] {
    const joined = new Uint8Array(this.buf.length + bytes.length);
    joined.set(this.buf);
    joined.set(bytes, this.buf.length);
    const replies: Uint8Array[] = [];
    let i = 0;
    while (i < joined.length) {
      const used = this.command(joined, i, replies);
      if (used === 0) break; // incomplete: wait for more bytes
      i += used;
    }
    this.buf = joined.slice(i);
    return replies;
  }

  /** Bytes consumed by the command at `i`, or 0 when it is not complete yet. */
  private command(b: Uint8Array, i: number, replies: Uint8Array[]): number {
    const left = b.length - i;
    const at = (k: number) => b[i + k]!;
    const c = at(0);
    if (c === LF) {
      this.lineFeeds++;
      return 1;
    }
    if (c === CR) return 1;
    if (c === ESC) {
      if (left < 2) return 0;
      switch (at(1)) {
        case 0x40: // ESC @ initialise
          return 2;
        case 0x4d: // ESC M n font
        case 0x61: // ESC a n justification
        case 0x74: // ESC t n code page
        case 0x33: // ESC 3 n line spacing
        case 0x64: // ESC d n feed lines
          return left < 3 ? 0 : 3;
        case 0x32: // ESC 2 default line spacing
          return 2;
        case 0x70: // ESC p m t1 t2 drawer pulse
          if (left < 5) return 0;
          this.pulse({ kind: 'esc-p', pin: at(2) & 1 ? 5 : 2 });
          return 5;
      }
    }
    if (c === FS) {
      if (left < 2) return 0;
      if (at(1) === 0x2e) return 2; // FS . cancel Kanji mode
    }
    if (c === DLE) {
      if (left < 3) return 0;
      if (at(1) === 0x04) {
        replies.push(Uint8Array.of(this.answer(at(2))));
        return 3;
      }
      if (at(1) === 0x14) {
        if (left < 5) return 0;
        if (at(2) === 1) this.pulse({ kind: 'realtime', pin: at(3) & 1 ? 5 : 2 });
        return 5;
      }
    }
    if (c === GS) {
      if (left < 3) return 0;
      if (at(1) === 0x56) {
        // GS V m (m = 0, 1, 48, 49) or GS V m n (m = 65, 66)
        const m = at(2);
        const len = m === 65 || m === 66 ? 4 : 3;
        if (left < len) return 0;
        this.cut();
        return len;
      }
      if (at(1) === 0x76 && at(2) === 0x30) {
        if (left < 8) return 0;
        const bytesWide = at(4) | (at(5) << 8);
        const rows = at(6) | (at(7) << 8);
        const size = bytesWide * rows;
        if (left < 8 + size) return 0;
        const width = bytesWide * 8;
        const ink = new Uint8Array(width * rows);
        for (let y = 0; y < rows; y++) {
          for (let xb = 0; xb < bytesWide; xb++) {
            const byte = at(8 + y * bytesWide + xb);
            for (let bit = 0; bit < 8; bit++) ink[y * width + xb * 8 + bit] = (byte >> (7 - bit)) & 1;
          }
        }
        this.blocks.push({ width, height: rows, ink });
        if (this.on.offline()) this.blocksOffline = true;
        this.on.raster?.();
        return 8 + size;
      }
    }
    this.errors.push(`unknown byte 0x${c.toString(16).padStart(2, '0')} at a command start`);
    return 1;
  }

  private pulse(p: Pulse): void {
    this.pulses.push(p);
    this.on.pulse?.(p);
  }

  private cut(): void {
    if (this.blocks.length === 0) return;
    const width = Math.max(...this.blocks.map((b) => b.width));
    const height = this.blocks.reduce((s, b) => s + b.height, 0);
    const ink = new Uint8Array(width * height);
    let top = 0;
    for (const b of this.blocks) {
      for (let y = 0; y < b.height; y++) ink.set(b.ink.subarray(y * b.width, (y + 1) * b.width), (top + y) * width);
      top += b.height;
    }
    const receipt = { picture: { width, height, ink }, blocks: this.blocks.length, whileOffline: this.blocksOffline };
    this.blocks = [];
    this.blocksOffline = false;
    this.receipts.push(receipt);
    this.on.receipt?.(receipt);
  }
}

/** A receipt picture as a PNG (black ink on white), for a person to look at in test-results/. */
export function writePicturePng(file: string, p: MonoPicture): void {
  const png = new PNG({ width: p.width, height: p.height });
  for (let i = 0; i < p.ink.length; i++) {
    const v = p.ink[i] ? 0 : 255;
    png.data[i * 4] = png.data[i * 4 + 1] = png.data[i * 4 + 2] = v;
    png.data[i * 4 + 3] = 255;
  }
  mkdirSync(dirname(file), { recursive: true }); // a clean clone has no test-results/ yet
  writeFileSync(file, PNG.sync.write(png));
}

export class VirtualPrinter {
  paperOut = false;
  coverOpen = false;
  /** The paper runs out while the next raster block prints (the driver's status check after the job sees it). */
  runOutDuringNextReceipt = false;
  readonly decoder: EscPosDecoder;
  private pulseListeners: Array<(p: Pulse) => void> = [];
  private receiptListeners: Array<(r: PrintedReceipt) => void> = [];
  private closeFn: () => Promise<void> = async () => {};

  private constructor(readonly spec: string) {
    this.decoder = new EscPosDecoder((n) => this.statusByte(n), {
      offline: () => this.paperOut || this.coverOpen,
      raster: () => {
        if (this.runOutDuringNextReceipt) {
          this.runOutDuringNextReceipt = false;
          this.paperOut = true;
        }
      },
      pulse: (p) => this.pulseListeners.forEach((l) => l(p)),
      receipt: (r) => this.receiptListeners.forEach((l) => l(r)),
    });
  }

  /** On a socat pty: the driver opens `spec` = `serial:<host path>`. */
  static async onPty(): Promise<VirtualPrinter> {
    const pty = await PtyPair.start();
    const port = new SerialTransport({ path: pty.devicePath, baudRate: 38400 });
    await port.open();
    const vp = new VirtualPrinter(`serial:${pty.hostPath}`);
    port.on('data', (bytes) => {
      for (const reply of vp.decoder.feed(bytes)) void port.write(reply).catch(() => undefined);
    });
    vp.closeFn = async () => {
      await port.close();
      await pty.stop();
    };
    return vp;
  }

  /** On a loopback TCP port (a network printer's raw port): `spec` = `tcp:127.0.0.1:PORT`. */
  static async onTcp(): Promise<VirtualPrinter> {
    const sockets = new Set<Socket>();
    let vp: VirtualPrinter | null = null;
    const server: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('data', (b) => {
        for (const reply of vp!.decoder.feed(new Uint8Array(b))) socket.write(reply);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    vp = new VirtualPrinter(`tcp:127.0.0.1:${port}`);
    vp.closeFn = () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
    return vp;
  }

  get receipts(): PrintedReceipt[] {
    return this.decoder.receipts;
  }

  get pulses(): Pulse[] {
    return this.decoder.pulses;
  }

  /** Called as the pulse's bytes arrive (before the driver hears back). */
  onPulse(fn: (p: Pulse) => void): void {
    this.pulseListeners.push(fn);
  }

  offPulse(fn: (p: Pulse) => void): void {
    this.pulseListeners = this.pulseListeners.filter((l) => l !== fn);
  }

  /** Resolves with the next receipt cut (or rejects after `timeoutMs`). */
  nextReceipt(timeoutMs = 20_000): Promise<PrintedReceipt> {
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no receipt printed within ${timeoutMs} ms`)), timeoutMs);
      const fn = (r: PrintedReceipt) => {
        clearTimeout(t);
        this.receiptListeners = this.receiptListeners.filter((l) => l !== fn);
        resolve(r);
      };
      this.receiptListeners.push(fn);
    });
  }

  close(): Promise<void> {
    return this.closeFn();
  }

  /** DLE EOT n answers, Epson's bit layout (bits 1 and 4 always set). */
  private statusByte(n: number): number {
    const offline = this.paperOut || this.coverOpen;
    if (n === 1) return 0x12 | (offline ? 0x08 : 0);
    if (n === 2) return 0x12 | (this.coverOpen ? 0x04 : 0) | (this.paperOut ? 0x20 : 0);
    if (n === 4) return 0x12 | (this.paperOut ? 0x60 : 0);
    return 0x12;
  }
}
