// What both simulated devices share: serving a (re-openable) transport, waiting for a palm, features.
import { DriverError } from '../errors.ts';
import { encodeSimFeature } from '../serial-module/feature-families.ts';
import { Connection } from '../transport/connection.ts';
import type { Transport } from '../transport/transport.ts';
import { waitFor } from '../util/abort.ts';
import type { Stage, OnGlass } from './stage.ts';
import type { GreyImage } from './synthetic-palm.ts';

/** Keeps the device end open (re-opening after an unplug) and calls back on each power-up. */
export function serveTransport(t: Transport, onData: (d: Uint8Array) => void, onPowerUp: () => void): { stop(): Promise<void>; connection: Connection } {
  const connection = new Connection(t, { backoff: { initialMs: 20, maxMs: 200 } });
  connection.on('data', onData);
  connection.on('up', onPowerUp);
  connection.start();
  return { stop: () => connection.stop(), connection };
}

/** Waits up to timeoutMs for a palm on the glass (or the script to lay one). */
export async function waitPalm(stage: Stage, timeoutMs: number, signal?: AbortSignal): Promise<OnGlass | null> {
  const now = stage.ensurePalm();
  if (now) return now;
  try {
    return await waitFor<OnGlass>('palm', { timeoutMs, signal }, (resolve) => stage.on('change', (p) => p && resolve(p)));
  } catch (err) {
    if (err instanceof DriverError && err.code === 'SCANNER_TIMEOUT') return null;
    throw err;
  }
}

/** The simulated module's feature (feature-families.ts SIM_FORMAT): whose palm, then 32×32 block means of the central palm area. */
export function simFeature(img: GreyImage, identity: string | null): Uint8Array {
  const out = new Uint8Array(1024);
  const x0 = Math.floor(img.width * 0.3);
  const y0 = Math.floor(img.height * 0.35);
  const bw = Math.max(1, Math.floor((img.width * 0.4) / 32));
  const bh = Math.max(1, Math.floor((img.height * 0.45) / 32));
  for (let by = 0; by < 32; by++)
    for (let bx = 0; bx < 32; bx++) {
      let s = 0;
      for (let y = 0; y < bh; y++) for (let x = 0; x < bw; x++) s += img.pixels[(y0 + by * bh + y) * img.width + x0 + bx * bw + x] ?? 0;
      out[by * 32 + bx] = Math.round(s / (bw * bh));
    }
  return encodeSimFeature(identity, out);
}
