/**
 * ScannerClient: the one API the host uses, for serial palm modules and HID image scanners alike.
 *
 * - One exchange at a time, by design a *busy error*: a second call while one runs fails at once with
 *   SCANNER_BUSY (the host's flows own the scanner; queueing would hide a flow bug and stale palms).
 * - Every call takes { timeoutMs, signal }; defaults per call below. A call made while the device is
 *   unplugged waits (within its timeout) for the reconnect.
 * - Events: 'state' (disconnected/connected/ready/busy/unresponsive), 'palm', 'fault' (every typed
 *   wire error, recovered or not), 'retry'.
 */
import { DriverError } from '../errors.ts';
import { Connection, type ConnectionOptions } from '../transport/connection.ts';
import type { Transport } from '../transport/transport.ts';
import { anySignal, sleep, type CallOptions } from '../util/abort.ts';
import { Emitter } from '../util/emitter.ts';
import { HidImageDriver, type HidDriverOptions } from './hid-driver.ts';
import { SerialModuleDriver, type EnrolRequest, type EnrolResult, type ModuleCapabilities, type ModuleUser, type SerialDriverOptions } from './serial-driver.ts';
import { planReconcile, type ExpectedUser, type ReconcilePlan } from './module-users.ts';
import type { ModuleVerdict } from './verdict.ts';
import type { ModuleStatusCode } from '../serial-module/family.ts';
import type { Capture, CaptureOptions, DeviceState, Indicator, IndicatorOptions, PalmEvent, ProtocolDriver, ScannerInfo, ScannerStats } from './types.ts';

export interface ScannerClientOptions {
  connection?: ConnectionOptions;
  serial?: SerialDriverOptions;
  hid?: HidDriverOptions;
  /**
   * After (re)connecting, wait this long before the first exchange (default 100 ms): a device that
   * just powered up announces it, and that note must not be taken for a restart mid-exchange.
   */
  settleMs?: number;
  /** Default whole-call timeouts (ms). */
  timeouts?: Partial<Record<'info' | 'waitForPalm' | 'capture' | 'setIndicator' | 'reset' | 'module', number>>;
}

export interface ScannerEvents extends Record<string, unknown> {
  state: DeviceState;
  palm: PalmEvent;
  fault: DriverError;
  retry: { what: string; error: DriverError };
  /** Something a technician should know that is not a fault (e.g. a module's replies grew). */
  notice: string;
}

const DEFAULT_TIMEOUTS = { info: 3000, waitForPalm: 60_000, capture: 15_000, setIndicator: 2000, reset: 3000, module: 15_000 };

export class ScannerClient extends Emitter<ScannerEvents> {
  readonly connection: Connection;
  private readonly driver: ProtocolDriver;
  private running: string | null = null;
  private current: DeviceState = 'disconnected';
  private readonly timeouts: typeof DEFAULT_TIMEOUTS;
  private settledAt = 0;
  private readonly settleMs: number;
  readonly stats: ScannerStats = { exchanges: 0, faults: {}, retries: 0, failedCalls: 0, trailingBytes: {} };

  constructor(
    readonly transport: Transport,
    opts: ScannerClientOptions = {},
  ) {
    super();
    this.timeouts = { ...DEFAULT_TIMEOUTS, ...opts.timeouts };
    this.settleMs = opts.settleMs ?? 100;
    const sink = {
      fault: (error: DriverError) => {
        this.stats.faults[error.code] = (this.stats.faults[error.code] ?? 0) + 1;
        this.emit('fault', error);
      },
      retry: (what: string, error: DriverError) => {
        this.stats.retries++;
        this.emit('retry', { what, error });
      },
      palm: (e: PalmEvent) => this.emit('palm', e),
      deviceReady: () => {
        if (this.connection.connected && !this.running) this.setState('ready');
      },
      unresponsive: () => this.setState('unresponsive'),
      trailingBytes: (what: string, bytes: number, first: boolean) => {
        this.stats.trailingBytes[what] = (this.stats.trailingBytes[what] ?? 0) + bytes;
        if (first) this.emit('notice', `${what}: the module's reply carries ${bytes} byte(s) beyond the family's fields (newer firmware?); accepted and ignored`);
      },
    };
    const send = (bytes: Uint8Array, o: CallOptions) => this.transport.write(bytes, o);
    this.driver = transport.kind === 'serial' ? new SerialModuleDriver(send, sink, opts.serial) : new HidImageDriver(send, sink, opts.hid);
    this.connection = new Connection(transport, opts.connection);
    this.connection.on('data', (d) => this.driver.onData(d));
    this.connection.on('up', () => {
      this.settledAt = Date.now() + this.settleMs;
      this.setState(this.running ? 'busy' : 'connected');
    });
    this.connection.on('down', (err) => {
      this.driver.onDisconnected(err);
      this.setState('disconnected');
    });
  }

  get kind(): ProtocolDriver['kind'] {
    return this.driver.kind;
  }

  get state(): DeviceState {
    return this.current;
  }

  get busy(): boolean {
    return this.running !== null;
  }

  /** Starts connecting (and reconnecting after unplugs) in the background. */
  start(): this {
    this.connection.start();
    return this;
  }

  /** Starts and waits for the first connection. */
  async open(opts: CallOptions = {}): Promise<this> {
    this.start();
    await this.connection.waitConnected({ timeoutMs: opts.timeoutMs ?? 5000, signal: opts.signal });
    return this;
  }

  async close(): Promise<void> {
    await this.connection.stop();
    this.setState('disconnected');
  }

  private setState(s: DeviceState): void {
    if (s === this.current) return;
    this.current = s;
    this.emit('state', s);
  }

  /** Runs one call: exclusive, with the whole-call timeout folded into the signal. */
  private async run<T>(name: string, defaultTimeout: number, opts: CallOptions, fn: (o: CallOptions) => Promise<T>): Promise<T> {
    if (this.running) throw new DriverError('SCANNER_BUSY', `${name}: the scanner is busy with ${this.running}`);
    if (opts.signal?.aborted) throw new DriverError('SCANNER_ABORTED', `${name}: aborted`);
    this.running = name;
    const timeoutMs = opts.timeoutMs ?? defaultTimeout;
    const timer = new AbortController();
    const t = Number.isFinite(timeoutMs) ? setTimeout(() => timer.abort(new DriverError('SCANNER_TIMEOUT', `${name}: not done within ${timeoutMs} ms`)), timeoutMs) : undefined;
    const signal = anySignal(opts.signal, timer.signal);
    try {
      await this.connection.waitConnected({ signal });
      const settle = this.settledAt - Date.now();
      if (settle > 0) await sleep(settle, signal);
      this.setState('busy');
      this.stats.exchanges++;
      const result = await fn({ signal });
      this.setState('ready');
      return result;
    } catch (err) {
      this.stats.failedCalls++;
      if (this.connection.connected && this.current === 'busy') this.setState(err instanceof DriverError && err.code === 'SCANNER_UNRESPONSIVE' ? 'unresponsive' : 'ready');
      throw err; // DriverErrors by contract; anything else is a bug and should surface as one
    } finally {
      if (t) clearTimeout(t);
      this.running = null;
    }
  }

  info(opts: CallOptions = {}): Promise<ScannerInfo> {
    return this.run('info', this.timeouts.info, opts, (o) => this.driver.info(o));
  }

  /** Resolves when a palm lies on the scanner. Default timeout 60 s; pass timeoutMs: Infinity to wait for the signal only. */
  waitForPalm(opts: CallOptions = {}): Promise<PalmEvent> {
    return this.run('waitForPalm', this.timeouts.waitForPalm, opts, (o) => this.driver.waitForPalm(o));
  }

  capture(opts: CaptureOptions = {}): Promise<Capture> {
    return this.run('capture', this.timeouts.capture, opts, (o) => this.driver.capture({ ...o, want: opts.want }));
  }

  setIndicator(led: Indicator, opts: IndicatorOptions = {}): Promise<void> {
    return this.run('setIndicator', this.timeouts.setIndicator, opts, (o) => this.driver.setIndicator(led, { ...o, beepMs: opts.beepMs }));
  }

  reset(opts: CallOptions = {}): Promise<void> {
    return this.run('reset', this.timeouts.reset, opts, (o) => this.driver.reset(o));
  }

  /** HID image scanners only: the NIR exposure time. */
  setExposure(exposureUs: number, opts: CallOptions = {}): Promise<void> {
    const d = this.driver;
    if (!(d instanceof HidImageDriver)) return Promise.reject(new DriverError('CONFIG_INVALID', 'setExposure: only HID image scanners take an exposure'));
    if (!Number.isInteger(exposureUs) || exposureUs < 1 || exposureUs > 0xffff) return Promise.reject(new DriverError('CONFIG_INVALID', `exposure ${exposureUs} µs is out of range 1..65535`));
    return this.run('setExposure', this.timeouts.setIndicator, opts, (o) => d.setExposure(exposureUs, o));
  }

  // ----- serial palm modules only: discovery and the module's own user table -----

  private module(name: string): SerialModuleDriver {
    if (!(this.driver instanceof SerialModuleDriver)) throw new DriverError('CONFIG_INVALID', `${name}: only serial palm modules keep users`);
    return this.driver;
  }

  /** What the last discovery found (null before the first info() or module call): for the status bar. */
  get moduleCapabilities(): ModuleCapabilities | null {
    return this.driver instanceof SerialModuleDriver ? this.driver.capabilities : null;
  }

  /** GET_VERSION, then each extension tried once (cached; `refresh` asks again). */
  capabilities(opts: CallOptions & { refresh?: boolean } = {}): Promise<ModuleCapabilities> {
    const m = this.module('capabilities');
    return this.run('capabilities', this.timeouts.info, opts, (o) => m.discover(o, opts.refresh));
  }
  /** The family's GETSTATUS: idle, busy, error or invalid. */
  moduleStatus(opts: CallOptions = {}): Promise<ModuleStatusCode> {
    const m = this.module('moduleStatus');
    return this.run('moduleStatus', this.timeouts.info, opts, (o) => m.status(o));
  }
  /** The module's table: GET_ALL_USERID, then GETUSERINFO for each. */
  users(opts: CallOptions = {}): Promise<ModuleUser[]> {
    const m = this.module('users');
    return this.run('users', this.timeouts.module, opts, (o) => m.users(o));
  }
  /**
   * Identify the palm on the module. The answer is a claim (verdict.ts): pass it to judgeVerdict()
   * with the host's feature matcher or the PIN check before anything depends on it.
   */
  verify(opts: CallOptions & { palmTimeoutS?: number } = {}): Promise<ModuleVerdict> {
    const m = this.module('verify');
    const palmS = opts.palmTimeoutS ?? 5;
    return this.run('verify', Math.max(this.timeouts.module, palmS * 1000 + 5000), opts, (o) => m.verify(palmS, o));
  }
  /** ENROLL_SINGLE under a pseudonymous id, never repeated blindly (a lost reply is reconciled). */
  enrol(req: EnrolRequest, opts: CallOptions = {}): Promise<EnrolResult> {
    const m = this.module('enrol');
    return this.run('enrol', Math.max(this.timeouts.module, req.timeoutS * 1000 + 10_000), opts, (o) => m.enrol(req, o));
  }
  /** ENROLL_ITG (the family's integrated enrolment). Not reconciled: prefer enrol(). */
  enrolIntegrated(req: EnrolRequest & { enrollType?: number; allowDuplicate?: boolean }, opts: CallOptions = {}): Promise<number> {
    const m = this.module('enrolIntegrated');
    return this.run('enrolIntegrated', Math.max(this.timeouts.module, req.timeoutS * 1000 + 5000), opts, (o) => m.enrolIntegrated(req, o));
  }
  deleteUser(userId: number, opts: CallOptions = {}): Promise<void> {
    const m = this.module('deleteUser');
    return this.run('deleteUser', this.timeouts.module, opts, (o) => m.deleteUser(userId, o));
  }
  deleteAll(opts: CallOptions = {}): Promise<void> {
    const m = this.module('deleteAll');
    return this.run('deleteAll', this.timeouts.module, opts, (o) => m.deleteAll(o));
  }
  /**
   * Start-up check: the module's table against the store's. Orphans are deleted when `deleteOrphans`;
   * `adopt` and `missing` are for the host's store to act on (re-enrolment needs the person or a feature).
   */
  reconcileUsers(expected: readonly ExpectedUser[], opts: CallOptions & { deleteOrphans?: boolean } = {}): Promise<ReconcilePlan & { deleted: number[] }> {
    const m = this.module('reconcileUsers');
    return this.run('reconcileUsers', this.timeouts.module, opts, async (o) => {
      const plan = planReconcile(await m.users(o), expected);
      const deleted: number[] = [];
      if (opts.deleteOrphans) {
        for (const u of plan.orphans) {
          await m.deleteUser(u.userId, o);
          deleted.push(u.userId);
        }
      }
      return { ...plan, deleted };
    });
  }
  /** Palm variants: a stored user's feature, or the last capture's (user 0xFFFF). */
  getFeature(userId: number, opts: CallOptions = {}): Promise<Uint8Array> {
    const m = this.module('getFeature');
    return this.run('getFeature', this.timeouts.module, opts, (o) => m.getFeature(userId, o));
  }
  /** Palm variants: store a feature as user `userId` under the pseudonym `name` (the host's user-table sync). */
  putFeature(userId: number, name: string, bytes: Uint8Array, opts: CallOptions = {}): Promise<void> {
    const m = this.module('putFeature');
    return this.run('putFeature', this.timeouts.module, opts, (o) => m.putFeature(userId, name, bytes, o));
  }
}
