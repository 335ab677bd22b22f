// The palm side of the flows, for real: frames from the scanner (the simulated one over the HID protocol, through
// the real ScannerClient) → src/biometrics' extractor → templates; 1:N and 1:1 by the identify module
// over every template enrolled in the store. Nothing here knows who is on the glass: the simulator only renders
// images, and a person is recognised from the veins in them, or not at all.
import type { ScannerClient } from '../../../drivers/client/client.ts';
import type { PalmEvent } from '../../../drivers/client/types.ts';
import { anyHand, DECISION_THRESHOLD, extract, DEFAULT_POLICY, meetsEnrolQuality, type RoiMeasurements, lazyPalmIdentifier, loadEnrolments, matchScore, encodeTemplate, fuseTemplates, type LoadReport, type PalmRef, type StoredEnrolment, type GreyFrame, type Hand, type Template, type PalmIndex } from '../../biometrics/index.ts';
import type { EnrolHand } from '../../flows/enrolment.ts';
import type { Identifier, PalmRead, PalmReader } from '../../flows/ports.ts';
import type { IdentifyOutcome, PlacementEvent } from '../../flows/types.ts';
import type { MatchForUpdate } from './template-updates.ts';
import { minOf } from '../../util/arrays.ts';

export type { Template } from '../../biometrics/index.ts';

/** What the composition shows on screen and logs about its palm side. */
export const SCANNER_DESCRIPTION =
  'simulated scanner over the HID protocol (simulated palm images); recognition is the real palm-vein pipeline (extract, 1:N identify) with provisional thresholds';

/** The sim's good working distance (mm), for live guidance only; captures are judged by the extractor. */
const NEAR_MM = 35;
const FAR_MM = 95;

export function distanceHint(mm: number): PlacementEvent & { type: 'scanner.distance' } {
  return { type: 'scanner.distance', distance: mm <= 0 ? 'unknown' : mm < NEAR_MM ? 'farther' : mm > FAR_MM ? 'closer' : 'ok' };
}

/**
 * One frame → template, or the extractor's failure-to-acquire reason (shown as placement guidance). Enrolment
 * captures meet the stricter enrolment quality limits.
 */
export function templateFromFrame(frame: GreyFrame, hand: Hand = 'unknown', purpose: 'enrol' | 'verify' = 'verify'): PalmRead<Template> {
  let measured: RoiMeasurements | null = null;
  const r = extract(frame, { hand, purpose, onMeasure: (m) => (measured = m) });
  if (!r.ok) return { ok: false, reason: r.reason, quality: r.quality?.score ?? 0 };
  if (purpose === 'enrol' || (measured !== null && meetsEnrolQuality(measured))) ENROL_GRADE.add(r.template);
  return { ok: true, template: r.template, quality: r.quality.score };
}

/** Captures that passed the enrolment quality limits (only those may become template updates). */
const ENROL_GRADE = new WeakSet<Template>();
export function isEnrolGrade(t: Template): boolean {
  return ENROL_GRADE.has(t);
}

/** Reads palms through a ScannerClient: wait for a hand, capture a frame, extract. */
export class ScannerPalmReader implements PalmReader<Template> {
  private chain: Promise<unknown> = Promise.resolve();
  private readonly listeners = new Set<(e: PlacementEvent) => void>();

  constructor(private readonly client: ScannerClient) {
    client.on('palm', (e: PalmEvent) => {
      const present = e.state !== 'none';
      this.emit({ type: 'scanner.presence', present });
      if (present) this.emit(distanceHint(e.distanceMm));
    });
  }

  onPlacement(listener: (e: PlacementEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(e: PlacementEvent): void {
    for (const l of this.listeners) l(e);
  }

  /** One read at a time: the scanner runs one exchange at a time, and two screens wait their turn. */
  read(opts: { purpose: 'identify' | 'verify' | 'enrol'; hand?: EnrolHand; signal: AbortSignal }): Promise<PalmRead<Template>> {
    const enrol = opts.purpose === 'enrol';
    const run = this.chain.then(() => this.readOnce(opts.signal, enrol && opts.hand ? opts.hand : 'unknown', enrol ? 'enrol' : 'verify'));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async readOnce(signal: AbortSignal, hand: Hand, purpose: 'enrol' | 'verify'): Promise<PalmRead<Template>> {
    signal.throwIfAborted();
    await this.client.waitForPalm({ signal, timeoutMs: 24 * 3600_000 });
    const cap = await this.client.capture({ signal, want: 'frame' });
    if (cap.kind !== 'frame') return { ok: false, reason: 'no-hand', quality: null };
    return templateFromFrame({ width: cap.width, height: cap.height, pixels: cap.pixels }, hand, purpose);
  }
}

/** An enrolment's captures of one hand as ONE stored template (each capture kept as a sub-code). */
export function fuseCaptures(captures: Template[]): Template {
  return fuseTemplates(captures);
}

export const encodePalm = (t: Template): Uint8Array => encodeTemplate(t);

const plain = (t: PalmRef): Template => ('kind' in t && t.kind === 'sealed' ? t.open() : (t as Template));

/**
 * The flows' Identifier over the identify module: one index entry per enrolled template (a fused hand), keyed by
 * its template id; both hands of a person are separate entries with the same person id. Enrolled templates may be
 * sealed references (opened only when stage 2 or verify needs them): loaded at start from the sealed index
 * snapshot (palm-index.ts), added to on enrolment and from the feed, and entries are revoked with their person.
 */
export class PalmIdentifier implements Identifier<Template> {
  private readonly index: PalmIndex<PalmRef> = lazyPalmIdentifier();
  private readonly byPerson = new Map<string, Set<string>>();
  private seq = 0;
  /** Called after the enrolled set changed (the kiosk rewrites its index snapshot, debounced). */
  onChange: (() => void) | null = null;

  /** Enrols stored rows (opened template bytes) through the identify module's loader; corrupt or unknown-version
   * templates are skipped and reported. */
  load(rows: Iterable<StoredEnrolment>): LoadReport {
    const enrol = (e: Parameters<PalmIndex<PalmRef>['enrol']>[0]) => {
      this.index.enrol(e);
      this.track(e.personId, e.entryId);
    };
    return loadEnrolments({ enrol }, rows);
  }

  /** Bulk start-up load: entries whose coarse codes come from the sealed snapshot (templates stay sealed). */
  loadWithCodes(entries: ReadonlyArray<{ entryId: string; personId: string; hand: Hand; template: PalmRef }>, codes: Uint8Array): void {
    this.index.enrolWithCodes(entries, codes);
    for (const e of entries) this.track(e.personId, e.entryId);
  }

  /** One stored template (a sealed reference or a plain one): its coarse code is computed now. Throws if it does not open/decode. */
  enrolStored(entryId: string, personId: string, hand: Hand, template: PalmRef): void {
    this.index.enrol({ entryId, personId, hand, template });
    this.track(personId, entryId);
    this.onChange?.();
  }

  /** The coarse code of an entry (the snapshot writer reuses it instead of opening the template). */
  codeOf(entryId: string): Uint8Array | undefined {
    return this.index.coarseIndex.codeOf(entryId);
  }

  has(entryId: string): boolean {
    return this.index.entry(entryId) !== undefined;
  }

  get size(): number {
    return this.index.size;
  }

  private track(personId: string, entryId: string): void {
    const set = this.byPerson.get(personId) ?? new Set<string>();
    set.add(entryId);
    this.byPerson.set(personId, set);
  }

  /**
   * Called after a confident match (template update, issue 19: the composition's TemplateUpdater). Its failures are
   * its own: they never change the identification.
   */
  onMatch: ((m: MatchForUpdate) => void) | null = null;

  identify(probe: Template): IdentifyOutcome {
    const r = this.index.identify(probe);
    const d = r.decision;
    if (d.kind === 'match') {
      if (this.onMatch) {
        const others = r.scored.filter((s) => s.personId !== d.personId);
        const mine = this.byPerson.get(d.personId)?.size ?? 0;
        this.onMatch({
          personId: d.personId,
          entryId: d.entryId,
          probe,
          nearestOther: others.length ? minOf(others.map((s) => s.score)) : null,
          othersUnscored: others.length === 0 && this.index.size > mine,
          enrolQuality: isEnrolGrade(probe),
        });
      }
      return { kind: 'match', personId: d.personId };
    }
    if (d.kind === 'ambiguous') return { kind: 'ambiguous' };
    return { kind: 'no-match' };
  }

  verify(personId: string, probe: Template): boolean {
    for (const id of this.byPerson.get(personId) ?? []) {
      const e = this.index.entry(id);
      if (!e) continue;
      let enrolled: Template;
      try {
        enrolled = plain(e.template);
      } catch {
        continue; // a template that no longer opens or decodes is never matched
      }
      if (matchScore(probe, enrolled) <= DEFAULT_POLICY.threshold) return true;
    }
    return false;
  }

  /**
   * Everyone enrolled whose palm any of these captures matches (score within the decision threshold), whatever hand
   * either was taken as (anyHand: a palm laid as the other hand is still the same person).
   */
  duplicates(samples: Template[]): string[] {
    const found = new Set<string>();
    for (const s of samples) {
      for (const e of this.index.identify(anyHand(s)).scored) if (e.score <= DECISION_THRESHOLD) found.add(e.personId);
    }
    return [...found];
  }

  /** A person just enrolled here: their captures, grouped by hand and fused as the store keeps them. */
  add(personId: string, templates: Template[]): void {
    const byHand = new Map<Hand, Template[]>();
    for (const t of templates) byHand.set(t.hand, [...(byHand.get(t.hand) ?? []), t]);
    for (const [hand, ts] of byHand) {
      const entryId = `new-${personId}-${hand}-${++this.seq}`;
      this.index.enrol({ entryId, personId, hand, template: fuseCaptures(ts) });
      this.track(personId, entryId);
    }
    this.onChange?.();
  }

  /** A person's palms were revoked: they are no longer identified (nor found as duplicates). */
  revoke(personId: string): number {
    let n = 0;
    for (const id of this.byPerson.get(personId) ?? []) if (this.index.revoke(id)) n++;
    this.byPerson.delete(personId);
    if (n > 0) this.onChange?.();
    return n;
  }
}
