// Two-stage 1:N identification: stage 1 scans every coarse code in WebAssembly and keeps the K nearest; stage 2
// runs the full 1:1 matcher (with shifts) on those K; the decision applies threshold and margin per person.
// Generic over the template type so the index does not depend on one coder (palm.ts plugs in the recogniser's).
import { PalmPayError } from '../../util/errors.ts';
import type { Hand } from '../types.ts';
import { CoarseIndex, type Candidate, type ScreenPolicy } from './coarse-index.ts';
import { decide, type Decision, type DecisionPolicy, type ScoredEntry } from './decision.ts';
import { BLOCK_SLOTS, CODE_BYTES, MAX_K } from './kernel/kernel.ts';

export interface Enrolment<T> {
  /** One entry per enrolled hand: both hands of a person are two entries with the same personId. */
  entryId: string;
  personId: string;
  hand: Hand;
  template: T;
}

export interface IdentifierOptions<T> {
  /** Template → ENTRY_CODE_BYTES-byte entry code: plain code, then unstable mask (see coarse-code.ts). */
  coarse: (t: T) => Uint8Array;
  /** The probe's plain codes for stage 1, the unshifted one first (e.g. shifted variants); default: [plain part of coarse(probe)]. */
  coarseProbes?: (t: T) => Uint8Array[];
  /** Fine distance in [0, 1], lower is more similar; may throw for a template it cannot read. */
  fine: (probe: T, enrolled: T) => number;
  /** How many stage-1 candidates stage 2 re-scores. */
  k: number;
  policy: DecisionPolicy;
  initialCapacity?: number;
  /** How much of the gallery the screening pass keeps for exact stage-1 scoring (default: DEFAULT_SCREEN). */
  screen?: ScreenPolicy;
  /** Slots per screening block and chunk (default BLOCK_SLOTS; smaller only in tests of interleaving). */
  blockSlots?: number;
}

export interface Skipped {
  entryId: string;
  code: string;
  message: string;
}

export interface IdentifyResult {
  decision: Decision;
  /** Stage-1 candidates, nearest coarse code first. */
  stage1: Candidate[];
  /** Stage-2 scores of the candidates that could be scored, best first. */
  scored: ScoredEntry[];
  /** Candidates stage 2 could not score (e.g. a template that fails to decode): never matched, reported. */
  skipped: Skipped[];
}

export class BadEnrolmentError extends PalmPayError {
  constructor(message: string) {
    super('IDENTIFY_BAD_ENROLMENT', `cannot enrol: ${message}`);
  }
}

export class Identifier<T> {
  private readonly index: CoarseIndex;
  private readonly entries = new Map<string, Enrolment<T>>();

  constructor(private readonly opts: IdentifierOptions<T>) {
    if (!(Number.isInteger(opts.k) && opts.k >= 1 && opts.k <= MAX_K)) throw new RangeError(`k must be an integer in 1..${MAX_K}`);
    this.index = new CoarseIndex(opts.initialCapacity, opts.screen, opts.blockSlots);
  }

  get size(): number {
    return this.entries.size;
  }

  get k(): number {
    return this.opts.k;
  }

  /** Bytes of the coarse index (codes, tombstones, fixed regions); templates are extra. */
  get indexBytes(): number {
    return this.index.memoryBytes;
  }

  get coarseIndex(): CoarseIndex {
    return this.index;
  }

  /** Adds an entry, or replaces the entry with the same id (re-enrolment). */
  enrol(e: Enrolment<T>): void {
    if (typeof e.entryId !== 'string' || e.entryId === '' || typeof e.personId !== 'string' || e.personId === '') {
      throw new BadEnrolmentError('entryId and personId must be non-empty strings');
    }
    const code = this.opts.coarse(e.template);
    this.index.upsert(e.entryId, code);
    this.entries.set(e.entryId, { ...e });
  }

  /** Adds entries whose coarse codes are already known (start-up load from a sealed snapshot). */
  enrolWithCodes(entries: ReadonlyArray<Enrolment<T>>, codes: Uint8Array): void {
    for (const e of entries) {
      if (typeof e.entryId !== 'string' || e.entryId === '' || typeof e.personId !== 'string' || e.personId === '') {
        throw new BadEnrolmentError('entryId and personId must be non-empty strings');
      }
    }
    this.index.upsertMany(entries.map((e) => e.entryId), codes);
    for (const e of entries) this.entries.set(e.entryId, e);
  }

  /** Removes an entry (revocation); false if it was not enrolled. */
  revoke(entryId: string): boolean {
    this.entries.delete(entryId);
    return this.index.remove(entryId);
  }

  entry(entryId: string): Enrolment<T> | undefined {
    return this.entries.get(entryId);
  }

  /** The probe's stage-1 codes. */
  probeCodes(probe: T): Uint8Array[] {
    return this.opts.coarseProbes ? this.opts.coarseProbes(probe) : [this.opts.coarse(probe).slice(0, CODE_BYTES)];
  }

  /** Stage 1 only: the k nearest entries by coarse distance. */
  candidates(probe: T, k = this.opts.k): Candidate[] {
    return this.index.nearest(this.probeCodes(probe), k);
  }

  identify(probe: T): IdentifyResult {
    return this.finish(probe, this.candidates(probe));
  }

  /** The same two stages with an unscreened stage 1 (every entry's exact coarse distance): the screen's reference. */
  identifyUnscreened(probe: T): IdentifyResult {
    return this.finish(probe, this.index.nearestExact(this.probeCodes(probe), this.opts.k));
  }

  /**
   * The same search, scanning about `chunk` slots (whole screening blocks) at a time and yielding to the event
   * loop in between, so enrolments and revocations can arrive while it runs (removed entries are never returned;
   * entries added meanwhile may be missed). The result equals identify() on the entries live at the end that were
   * present at the start, up to the screen: its per-block cut-offs are taken over the slots as they were.
   */
  async identifyChunked(probe: T, chunk = BLOCK_SLOTS): Promise<IdentifyResult> {
    return this.finish(probe, await this.index.nearestChunked(this.probeCodes(probe), this.opts.k, chunk));
  }

  /** Stage 2 + decision over stage-1 candidates. */
  private finish(probe: T, stage1: Candidate[]): IdentifyResult {
    const scored: ScoredEntry[] = [];
    const skipped: Skipped[] = [];
    for (const c of stage1) {
      const e = this.entries.get(c.id);
      if (!e) continue; // revoked meanwhile
      try {
        scored.push({ entryId: e.entryId, personId: e.personId, hand: e.hand, score: this.opts.fine(probe, e.template) });
      } catch (err) {
        skipped.push(skipReport(e.entryId, err));
      }
    }
    scored.sort(byScore);
    return { decision: decide(scored, this.opts.policy, this.size), stage1, scored, skipped };
  }

  /** The reference: stage 2 over EVERY entry (what stage 1 must not change). */
  exhaustive(probe: T): IdentifyResult {
    const scored: ScoredEntry[] = [];
    const skipped: Skipped[] = [];
    for (const e of this.entries.values()) {
      try {
        scored.push({ entryId: e.entryId, personId: e.personId, hand: e.hand, score: this.opts.fine(probe, e.template) });
      } catch (err) {
        skipped.push(skipReport(e.entryId, err));
      }
    }
    scored.sort(byScore);
    return { decision: decide(scored, this.opts.policy, this.size), stage1: [], scored, skipped };
  }
}

function byScore(a: ScoredEntry, b: ScoredEntry): number {
  return a.score - b.score || (a.entryId < b.entryId ? -1 : a.entryId > b.entryId ? 1 : 0);
}

export function skipReport(entryId: string, err: unknown): Skipped {
  const code = err instanceof PalmPayError ? err.code : 'UNEXPECTED';
  return { entryId, code, message: err instanceof Error ? err.message : String(err) };
}
