// Where the simulated scanner's palm images come from: the synthetic generator (default: works on a fresh
// machine), or a folder of real NIR palm images (`--sim-images DIR`, the CASIA layout `<id>_l_940_<NN>.jpg`).
// Palm names (what a test or the demo lays on the glass: 'emp-ahmad', 'twin', 'stranger') are given folder
// identities in order of first use, the demo's palms first, so the same name is always the same real hand.
// Enrolment uses the folder's first three samples (session 1); live presentations sample 1, 2, … show samples
// 4, 5, … (session 2), so every identification is cross-session.
import { folderSource, type ImageSource } from '../../../drivers/sim/sources.ts';
import { syntheticPalm, type GreyImage } from '../../../drivers/sim/synthetic-palm.ts';

export interface PalmImages {
  /** What the simulated scanner shows when `palm` is laid on the glass (undefined: the simulator's default). */
  source?: ImageSource;
  /** The i-th enrolment capture (0-based) of `palm`, for the demo seed. */
  enrolCapture(palm: string, i: number): Promise<GreyImage>;
  description: string;
}

/** Synthetic palms: enrolment captures are other session poses and shot numbers than the live ones. */
export function syntheticPalms(frame: { width: number; height: number }): PalmImages {
  return {
    enrolCapture: async (palm, i) => syntheticPalm(palm, 1 + i, 10_000 + i, frame.width, frame.height),
    description: 'synthetic palm images (one vein pattern per person)',
  };
}

const ENROL_SAMPLES = 3;

export async function folderPalms(dir: string, frame: { width: number; height: number }, firstNames: string[]): Promise<PalmImages> {
  const folder = await folderSource(dir, frame);
  const assigned = new Map<string, string>();
  const identityOf = (palm: string): string => {
    let id = assigned.get(palm);
    if (id === undefined) {
      // More names than people in the folder: wrap around (a name then shares a real hand with an earlier one).
      id = folder.identities[assigned.size % folder.identities.length]!;
      assigned.set(palm, id);
    }
    return id;
  };
  for (const n of firstNames) identityOf(n);
  return {
    source: { name: `${folder.name} (palm names → identities)`, image: (palm, sample, capture) => folder.image(identityOf(palm), ENROL_SAMPLES + sample, capture) },
    enrolCapture: (palm, i) => folder.image(identityOf(palm), 1 + i, 0),
    description: `real palm images from ${dir}`,
  };
}
