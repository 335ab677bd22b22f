// Enrolment registry: the 1:N duplicate check behind a small interface, so the identification code can be swapped.
import { decodeTemplate } from '../biometrics/template.ts';
import { matchScore } from '../biometrics/match.ts';
import { DECISION_THRESHOLD } from '../biometrics/config.ts';
import type { Template } from '../biometrics/types.ts';

export interface GalleryEntry {
  personId: string;
  templates: Buffer[];
}

/** Returns the person the candidate duplicates, or undefined when it is new. */
export interface DuplicateChecker {
  findDuplicate(candidate: Buffer[], gallery: GalleryEntry[]): Promise<{ personId: string; score: number } | undefined>;
}

/** Byte-identical templates only: the fallback when templates are not the biometric format (e.g. synthetic test data). */
export const exactDuplicateChecker: DuplicateChecker = {
  async findDuplicate(candidate, gallery) {
    for (const g of gallery) for (const t of g.templates) if (candidate.some((c) => c.equals(t))) return { personId: g.personId, score: 0 };
    return undefined;
  },
};

/**
 * The biometric check: decodes templates with src/biometrics and flags any gallery person whose best match
 * distance is at or under `threshold` (LOWER IS MORE SIMILAR). Templates that do not decode fall back to the exact check.
 * An exact linear scan (the identifier's `exhaustive()` reference): the registry sees one enrolment at a time.
 * For galleries of 10⁵+ the two-stage index of src/biometrics/identify (palmIdentifier) plugs in behind this interface.
 */
export function biometricDuplicateChecker(threshold: number = DECISION_THRESHOLD): DuplicateChecker {
  const decode = (b: Buffer): Template | undefined => {
    try {
      return decodeTemplate(new Uint8Array(b));
    } catch {
      return undefined;
    }
  };
  return {
    async findDuplicate(candidate, gallery) {
      const probes = candidate.map(decode).filter((t): t is Template => t !== undefined);
      if (probes.length < candidate.length) return exactDuplicateChecker.findDuplicate(candidate, gallery);
      let best: { personId: string; score: number } | undefined;
      for (const g of gallery) {
        for (const raw of g.templates) {
          const t = decode(raw);
          if (!t) continue;
          for (const p of probes) {
            let s: number;
            try {
              s = matchScore(p, t);
            } catch {
              continue; // different coder or parameters: not comparable
            }
            if (s <= threshold && (!best || s < best.score)) best = { personId: g.personId, score: s };
          }
        }
      }
      return best;
    },
  };
}
