/**
 * The simulated serial palm module as its own process, as a real module is its own device: `bench terminal` starts
 * it (node --import tsx bench/terminal/module.ts IDENTITY WIDTH HEIGHT [WINDOW [FRAMES_DIR]]), reads the pty path from
 * its first line, and stops it with SIGTERM. It lays IDENTITY's palm on the glass for every capture, from 8 live
 * captures rendered before it prints the path, so the bench times the wire and not the image generator. With
 * FRAMES_DIR (a folder of real NIR images, CASIA layout) its 8 captures are the first 8 images there, resized: a
 * transfer of real frames, whose packing differs from the synthetic palms'.
 */
import { SimulatedScanner } from '../../drivers/sim/simulator.ts';
import { folderSource } from '../../drivers/sim/sources.ts';
import { syntheticPalm, type GreyImage } from '../../drivers/sim/synthetic-palm.ts';

const [identity = 'cust-zin', w = '640', h = '480', window = '8', framesDir] = process.argv.slice(2);
const width = Number(w);
const height = Number(h);
const shots: GreyImage[] = [];
if (framesDir) {
  const real = await folderSource(framesDir, { width, height });
  for (let i = 0; i < 8; i++) shots.push(await real.image(real.identities[i % real.identities.length]!, 1 + Math.floor(i / real.identities.length), 0));
} else for (let i = 0; i < 8; i++) shots.push(syntheticPalm(identity, 1 + (i % 3), i, width, height));
let shot = 0;
const sim = new SimulatedScanner({ protocol: 'serial', width, height, window: Number(window), source: { name: 'pre-rendered', image: async () => shots[shot++ % shots.length]! } });
sim.autoPresent(() => ({ identity }));
const pty = await sim.startPty();
console.log(pty.hostPath);
await new Promise<void>((resolve) => {
  process.once('SIGINT', resolve);
  process.once('SIGTERM', resolve);
});
await sim.stop();
