/**
 * The simulator's entry point, apart from drivers/index.ts so that only code that chooses a simulated
 * scanner (tests, the demo composition, `palmpay sim`) loads it.
 *   const { client, sim } = await createSimScanner({ protocol: 'hid' });
 */
import type { ScannerClientOptions } from '../client/client.ts';
import { SimulatedScanner, type InProcessScanner, type SimOptions } from './simulator.ts';

export interface SimScanner extends InProcessScanner {
  /** Script palms, inject faults. */
  sim: SimulatedScanner;
}

export async function createSimScanner(sim: SimOptions = {}, opts: ScannerClientOptions = {}): Promise<SimScanner> {
  const s = new SimulatedScanner(sim);
  return { ...(await s.connectInProcess(opts)), sim: s };
}

export { SimulatedScanner, type SimOptions, type InProcessScanner } from './simulator.ts';
export { SERIAL_DIALECTS, SimSerialModule, type SerialDialect } from './serial-module.ts';
export type { Presentation } from './stage.ts';
export { syntheticSource, folderSource } from './sources.ts';
export { syntheticPalm, type GreyImage } from './synthetic-palm.ts';
export { PtyPair } from './pty.ts';
