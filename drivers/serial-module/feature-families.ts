/**
 * Which module family a palm module belongs to, and what its feature blobs look like. A feature read from one
 * module (0xFA) can be loaded into another (0xF9) only within one family and format: a blob of another family is
 * refused with MODULE_FEATURE_FOREIGN before anything is sent (a module given a foreign blob may store garbage
 * under a real user id, or worse, parse it).
 *
 * The family is the first word of the module's GET_VERSION text (its model, e.g. `PalmSim-L015`): the only
 * identification every family module gives (PP_INFO's model agrees where present). A family whose feature format
 * we know has a `check` (the blob's own header) and may have a `match` the host uses to confirm a VERIFY verdict
 * (client/verdict.ts). A family we do not know is still synced (its blobs are checked by length and origin only),
 * but its verdicts have no host matcher: they need the PIN.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { DriverError } from '../errors.ts';
import { MAX_FEATURE_BYTES } from './messages.ts';

const FAMILY_NAME = /^[A-Za-z0-9._-]{1,32}$/;

/** The module's family from its GET_VERSION text (first word). Refused when it is not a plain name. */
export function familyOfVersion(version: string): string {
  const first = version.trim().split(/\s+/)[0] ?? '';
  if (!FAMILY_NAME.test(first)) throw new DriverError('CONFIG_INVALID', `the module's version '${version.slice(0, 40)}' names no family`);
  return first;
}

export interface FeatureFormat {
  family: string;
  /** Throws MODULE_FEATURE_FOREIGN when the blob is not this family's format. */
  check(blob: Uint8Array): void;
  /** The host's own comparison of a capture feature with a stored one, where the format is known. */
  match?(capture: Uint8Array, stored: Uint8Array): boolean;
}

// ----- the simulator's family (drivers/sim): 'PSF1', a 16-byte palm code, 32×32 block means -----

export const SIM_FAMILY = 'PalmSim-L015';
const SIM_MAGIC = [0x50, 0x53, 0x46, 0x31]; // 'PSF1'
const SIM_CODE_BYTES = 16;
export const SIM_FEATURE_BYTES = SIM_MAGIC.length + SIM_CODE_BYTES + 1024;

/**
 * The simulated module's feature. The simulator knows whose palm it drew, so the code is a digest of that
 * identity (nothing for the empty glass): a stand-in for a perfect matcher, which the host's check reads the same
 * way. The block means keep the rest of the blob image-shaped. It models the protocol, not recognition quality.
 */
export function encodeSimFeature(identity: string | null, blockMeans: Uint8Array): Uint8Array {
  if (blockMeans.length !== 1024) throw new DriverError('SIM_FAILED', 'block means must be 1024 bytes');
  const out = new Uint8Array(SIM_FEATURE_BYTES);
  out.set(SIM_MAGIC, 0);
  if (identity !== null) out.set(createHash('sha256').update(`palmsim palm:${identity}`).digest().subarray(0, SIM_CODE_BYTES), SIM_MAGIC.length);
  out.set(blockMeans, SIM_MAGIC.length + SIM_CODE_BYTES);
  return out;
}

function simCode(blob: Uint8Array): Uint8Array {
  return blob.subarray(SIM_MAGIC.length, SIM_MAGIC.length + SIM_CODE_BYTES);
}

export const SIM_FORMAT: FeatureFormat = {
  family: SIM_FAMILY,
  check(blob) {
    if (blob.length !== SIM_FEATURE_BYTES || SIM_MAGIC.some((b, i) => blob[i] !== b)) throw new DriverError('MODULE_FEATURE_FOREIGN', `a feature of ${blob.length} bytes that is not ${SIM_FAMILY}'s format (PSF1, ${SIM_FEATURE_BYTES} bytes)`);
  },
  match(capture, stored) {
    if (capture.length !== SIM_FEATURE_BYTES || stored.length !== SIM_FEATURE_BYTES) return false;
    const a = simCode(capture);
    if (a.every((b) => b === 0)) return false; // the empty glass matches nobody
    return timingSafeEqual(a, simCode(stored));
  },
};

const KNOWN: ReadonlyMap<string, FeatureFormat> = new Map([[SIM_FAMILY, SIM_FORMAT]]);

/** The format of a family's features, or null for a family whose format we do not know. */
export function featureFormat(family: string): FeatureFormat | null {
  return KNOWN.get(family) ?? null;
}

/**
 * Refuses, before anything is sent, a feature that cannot belong on a module of `moduleFamily`: one recorded for
 * another family, of an impossible size, or (for a known family) not in its format.
 */
export function checkFeatureFor(moduleFamily: string, blobFamily: string, blob: Uint8Array): void {
  if (blobFamily !== moduleFamily) throw new DriverError('MODULE_FEATURE_FOREIGN', `a feature of the ${blobFamily.slice(0, 40)} family cannot be loaded into a ${moduleFamily} module`);
  if (blob.length === 0 || blob.length > MAX_FEATURE_BYTES) throw new DriverError('MODULE_FEATURE_FOREIGN', `a feature of ${blob.length} bytes (1..${MAX_FEATURE_BYTES})`);
  featureFormat(moduleFamily)?.check(blob);
}
