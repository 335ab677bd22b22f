/**
 * Record and replay of scanner sessions. A fixture is readable JSON: a list of exchanges, each the
 * host's write (hex) and what the device sent until the next write (hex chunks), with a one-line
 * decoding of each for people. Replay fails loudly on an unexpected write or unconsumed exchanges.
 */
import { DriverError } from '../errors.ts';
import { SerialDecoder } from '../serial-module/codec.ts';
import { MID } from '../serial-module/messages.ts';
import { parseDeviceReport, parseHostReport } from '../hid-profile/reports.ts';
import type { CallOptions } from '../util/abort.ts';
import { BaseTransport, type Transport, type TransportKind } from '../transport/transport.ts';

export interface FixtureExchange {
  /** What the host wrote (hex); absent for what the device sent before the first write. */
  host?: string;
  /** What the device sent in answer, chunk by chunk (hex). */
  device: string[];
  /** Human-readable decoding (ignored by replay). */
  says?: string[];
}

export interface Fixture {
  format: 'palmpay-scanner-fixture';
  version: 1;
  protocol: TransportKind;
  exchanges: FixtureExchange[];
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const MID_NAMES = Object.fromEntries(Object.entries(MID).map(([k, v]) => [v, k]));

/** One line per message or report, for the fixture's readers. */
export function describeBytes(kind: TransportKind, from: 'host' | 'device', b: Uint8Array, dec?: SerialDecoder): string[] {
  if (kind === 'hid') {
    try {
      const r = from === 'host' ? parseHostReport(b) : parseDeviceReport(b);
      if (r.type === 'frame_chunk') return [`frame_chunk seq=${r.seq} offset=${r.offset} len=${r.data.length}`];
      return [JSON.stringify(r)];
    } catch (err) {
      return [`undecodable report (${err instanceof DriverError ? err.code : 'error'})`];
    }
  }
  const d = dec ?? new SerialDecoder();
  return d.push(b).map((e) => (e.type === 'error' ? e.error.code : `${from === 'host' ? MID_NAMES[e.message.mid] ?? 'MID 0x' + e.message.mid.toString(16) : e.message.mid === 0 ? `REPLY to ${MID_NAMES[e.message.data[0] ?? -1] ?? e.message.data[0]} result ${e.message.data[1]}` : 'NOTE ' + e.message.data[0]} (${e.message.data.length} bytes)`));
}

/** Wraps a live transport and records every write and every incoming chunk. */
export class RecordingTransport extends BaseTransport {
  readonly kind: TransportKind;
  readonly description: string;
  private readonly exchanges: FixtureExchange[] = [{ device: [] }];
  private readonly hostDec = new SerialDecoder();
  private readonly devDec = new SerialDecoder();

  constructor(private readonly inner: Transport) {
    super();
    this.kind = inner.kind;
    this.description = `recording ${inner.description}`;
    inner.on('data', (d) => {
      const cur = this.exchanges.at(-1)!;
      cur.device.push(hex(d));
      cur.says = [...(cur.says ?? []), ...describeBytes(this.kind, 'device', d, this.devDec)];
      this.deliver(d);
    });
    inner.on('close', (err) => this.markClosed(err));
  }

  async open(opts?: CallOptions): Promise<void> {
    await this.inner.open(opts);
    this.markOpen();
  }

  async close(): Promise<void> {
    await this.inner.close();
    this.markClosed(null);
  }

  async write(data: Uint8Array, opts?: CallOptions): Promise<void> {
    this.exchanges.push({ host: hex(data), device: [], says: describeBytes(this.kind, 'host', data, this.hostDec).map((s) => `host: ${s}`) });
    await this.inner.write(data, opts);
  }

  fixture(): Fixture {
    const exchanges = this.exchanges.filter((e, i) => i > 0 || e.device.length > 0);
    return { format: 'palmpay-scanner-fixture', version: 1, protocol: this.kind, exchanges: structuredClone(exchanges) };
  }
}

export function parseFixture(json: unknown): Fixture {
  const f = json as Fixture;
  const ok =
    f && f.format === 'palmpay-scanner-fixture' && f.version === 1 && (f.protocol === 'serial' || f.protocol === 'hid') && Array.isArray(f.exchanges) &&
    f.exchanges.every((e) => (e.host === undefined || (typeof e.host === 'string' && /^([0-9a-f]{2})*$/.test(e.host))) && Array.isArray(e.device) && e.device.every((d) => typeof d === 'string' && /^([0-9a-f]{2})*$/.test(d)));
  if (!ok) throw new DriverError('REPLAY_BAD_FIXTURE', 'not a palmpay scanner fixture (version 1)');
  return f;
}

/**
 * Plays a fixture back as the device. Every write must equal the next recorded host write, in order;
 * anything else fails the write with REPLAY_UNEXPECTED (and is remembered for assertConsumed()).
 */
export class ReplayTransport extends BaseTransport {
  readonly kind: TransportKind;
  readonly description = 'replay';
  private next = 0;
  private failure: DriverError | null = null;

  constructor(private readonly f: Fixture) {
    super();
    this.kind = f.protocol;
  }

  async open(): Promise<void> {
    this.markOpen();
    const first = this.f.exchanges[0];
    if (first && first.host === undefined) {
      this.next = 1;
      this.play(first.device);
    }
  }

  async close(): Promise<void> {
    this.markClosed(null);
  }

  async write(data: Uint8Array): Promise<void> {
    this.assertOpen();
    const ex = this.f.exchanges[this.next];
    const got = hex(data);
    if (!ex || ex.host !== got) {
      this.failure ??= new DriverError('REPLAY_UNEXPECTED', `exchange ${this.next}: host wrote ${describeBytes(this.kind, 'host', data).join(', ') || got}, fixture expects ${ex?.host === undefined ? 'nothing more' : describeBytes(this.kind, 'host', unhex(ex.host)).join(', ')}`);
      throw this.failure;
    }
    this.next++;
    this.play(ex.device);
  }

  private play(chunks: string[]): void {
    for (const c of chunks) {
      const b = unhex(c);
      setImmediate(() => this.deliver(b));
    }
  }

  /** Throws if a write went astray or recorded exchanges were never asked for. */
  assertConsumed(): void {
    if (this.failure) throw this.failure;
    if (this.next < this.f.exchanges.length) throw new DriverError('REPLAY_UNCONSUMED', `${this.f.exchanges.length - this.next} recorded exchange(s) never replayed (next: ${this.f.exchanges[this.next]?.says?.[0] ?? this.f.exchanges[this.next]?.host})`);
  }
}
