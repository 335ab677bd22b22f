// The kiosk's 1:N index at rest: a sealed index snapshot (src/biometrics/identify/snapshot.ts) in the data folder,
// so start-up does not open every template (10⁵ per-row secretbox opens cost ≈ 2–3 s; the snapshot loads in
// ≈ 0.7 s). The snapshot holds coarse codes + (template id, person id, hand, digest), AES-256-GCM under a subkey
// of the store's data key. Templates stay sealed in their rows; stage 2 and verify open only what they score.
// The snapshot is derived data: checked against the template rows at every start (rows added since it was
// written are opened one by one; rows gone or replaced are dropped), rewritten after changes (debounced), and
// rebuilt from the rows when it is missing or fails authentication (IDENTIFY_SNAPSHOT_INVALID).
// Template update slots (issue 19) are not in it: stage 1 screens on the enrolled codes, and stage 2 reads a
// template's slots from the store when it scores that template (StoredTemplate.updates).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { coarseCode, openSnapshot, sealSnapshot, SnapshotError, skipReport, ENTRY_CODE_BYTES, decodeTemplate, type SnapshotEntry, type SealedTemplate, type Skipped, type Template } from '../../biometrics/index.ts';
import type { Sealer } from '../../ledger/sealer.ts';
import type { Store } from '../../store/store.ts';
import { PalmPayError } from '../../util/errors.ts';
import type { PalmIdentifier } from './palm.ts';

/** The snapshot file in the data folder. */
export const PALM_SNAPSHOT_FILE = 'palm-index.snap';
/** The purpose its key is derived for (HKDF of the data key, see Sealer.deriveKey; snapshot.ts derives once more). */
const SNAPSHOT_PURPOSE = 'identify index snapshot';

export interface PalmIndexDeps {
  store: Store;
  sealer: Sealer;
  /** The snapshot file (normally `<data>/palm-index.snap`). */
  file: string;
}

/** A template left sealed in its row until stage 2 (or verify) asks for it; `primed` saves the first open. */
class StoredTemplate implements SealedTemplate {
  readonly kind = 'sealed';
  constructor(
    private readonly deps: PalmIndexDeps,
    private readonly templateId: string,
    private primed?: Template,
  ) {}
  open(): Template {
    const p = this.primed;
    if (p) {
      this.primed = undefined;
      return p;
    }
    const row = this.deps.store.templates.get(this.templateId);
    if (!row) throw new PalmPayError('TEMPLATE_MISSING', `template ${this.templateId} is no longer in the store`);
    return decodeTemplate(this.deps.sealer.open(row.sealed, this.templateId));
  }
  /** The template's update slots (store migration 13), read when stage 2 asks: they are not in the snapshot, whose
   * coarse codes are the enrolled template's alone (stage 1 screens on those; see identify/palm.ts stage2Score). */
  updates(): Template[] {
    return this.deps.store.templateUpdates.byTemplate(this.templateId).map((u) => decodeTemplate(this.deps.sealer.open(u.sealed, u.updateId)));
  }
}

/** Opens one stored row and enrols it (sealed reference, code computed now). Throws (typed) if it does not open/decode. */
export function enrolStoredRow(identifier: PalmIdentifier, deps: PalmIndexDeps, templateId: string, personId: string): void {
  const row = deps.store.templates.get(templateId);
  if (!row) throw new PalmPayError('TEMPLATE_MISSING', `template ${templateId} is not in the store`);
  const template = decodeTemplate(deps.sealer.open(row.sealed, templateId));
  identifier.enrolStored(templateId, personId, template.hand, new StoredTemplate(deps, templateId, template));
}

export interface PalmIndexLoad {
  /** 'snapshot': the codes came from the snapshot (plus any rows added since); 'rebuilt': every row was opened. */
  path: 'snapshot' | 'rebuilt';
  /** Why it was rebuilt: 'missing', or the IDENTIFY_SNAPSHOT_INVALID message. */
  reason?: string;
  fromSnapshot: number;
  /** Rows opened one by one (added since the snapshot, or all of them on a rebuild). */
  opened: number;
  /** Snapshot entries whose row is gone or was replaced. */
  dropped: number;
  skipped: Skipped[];
  /** The snapshot no longer matches the rows: write a fresh one. */
  stale: boolean;
  ms: number;
}

/** Loads the index at start: the snapshot if it opens, checked against the rows; else every row, one by one. */
export function loadPalmIndex(identifier: PalmIdentifier, deps: PalmIndexDeps): PalmIndexLoad {
  const steps = loadSteps(identifier, deps, Infinity);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * The same load, giving the event loop back every `slice` entries, so that a counter can serve its first screen
 * (and answer its API) while 10⁵ entries go into the index. The store's rows are listed in the first, synchronous
 * step: changes made after it (the feed's enrolments and revocations) must be applied only once this resolves.
 */
export async function loadPalmIndexInSlices(identifier: PalmIdentifier, deps: PalmIndexDeps, slice = 8192, progress?: (loaded: number, total: number) => void): Promise<PalmIndexLoad> {
  await new Promise<void>((resolve) => setImmediate(resolve)); // even listing the rows waits for its turn
  const steps = loadSteps(identifier, deps, slice);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
    progress?.(identifier.size, r.value);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** Yields the number of template rows to load (for progress), between slices. */
function* loadSteps(identifier: PalmIdentifier, deps: PalmIndexDeps, slice: number): Generator<number, PalmIndexLoad> {
  const t0 = performance.now();
  const rows = deps.store.templates.listIndex();
  yield rows.length; // listing 10⁵ rows and opening the snapshot are the two longest steps: apart
  let snap: { entries: SnapshotEntry[]; codes: Uint8Array } | null = null;
  let reason: string | undefined;
  try {
    snap = openSnapshot(readFileSync(deps.file), deps.sealer.deriveKey(SNAPSHOT_PURPOSE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') reason = 'missing';
    else if (err instanceof SnapshotError) reason = `${err.code}: ${err.message}`;
    else reason = `unreadable: ${(err as Error).message}`;
  }
  const byId = new Map(rows.map((r) => [r.templateId, r]));
  const covered = new Set<string>();
  let dropped = 0;
  if (snap) {
    const step = Math.min(slice, snap.entries.length);
    for (let from = 0; from < snap.entries.length; from += step) {
      yield rows.length;
      const part = snap.entries.slice(from, from + step);
      const keep: Array<{ entryId: string; personId: string; hand: SnapshotEntry['hand']; template: StoredTemplate }> = [];
      const codes = new Uint8Array(part.length * ENTRY_CODE_BYTES);
      part.forEach((e, j) => {
        const i = from + j;
        const r = byId.get(e.entryId);
        if (!r || r.personId !== e.personId || r.digest !== e.digest || covered.has(e.entryId)) {
          dropped++;
          return;
        }
        codes.set(snap.codes.subarray(i * ENTRY_CODE_BYTES, (i + 1) * ENTRY_CODE_BYTES), keep.length * ENTRY_CODE_BYTES);
        keep.push({ entryId: e.entryId, personId: e.personId, hand: e.hand, template: new StoredTemplate(deps, e.entryId) });
        covered.add(e.entryId);
      });
      identifier.loadWithCodes(keep, codes.subarray(0, keep.length * ENTRY_CODE_BYTES));
    }
  }
  let opened = 0;
  const skipped: Skipped[] = [];
  const onChange = identifier.onChange;
  identifier.onChange = null;
  try {
    let n = 0;
    for (const r of rows) {
      if (covered.has(r.templateId)) continue;
      if (++n % Math.max(1, Math.floor(slice / 64)) === 0) yield rows.length; // opening a row costs ~64 snapshot entries
      try {
        enrolStoredRow(identifier, deps, r.templateId, r.personId);
        opened++;
      } catch (err) {
        skipped.push(skipReport(r.templateId, err));
      }
    }
  } finally {
    identifier.onChange = onChange;
  }
  return {
    path: snap ? 'snapshot' : 'rebuilt',
    ...(reason ? { reason } : {}),
    fromSnapshot: covered.size,
    opened,
    dropped,
    skipped,
    stale: !snap || opened > 0 || dropped > 0,
    ms: performance.now() - t0,
  };
}

/**
 * Writes the snapshot from the store's rows: each row's code from the index when it is there under the row's id,
 * else the row is opened once (e.g. an enrolment made here, indexed under a provisional id). Rows that do not open
 * are left out (they are retried, and reported, at the next start). Atomic: a temp file renamed over the old one.
 */
export function writePalmSnapshot(identifier: PalmIdentifier, deps: PalmIndexDeps): { entries: number; bytes: number; ms: number } {
  const t0 = performance.now();
  const rows = deps.store.templates.listIndex();
  const entries: SnapshotEntry[] = [];
  const codes = new Uint8Array(rows.length * ENTRY_CODE_BYTES);
  for (const r of rows) {
    let code = identifier.has(r.templateId) ? identifier.codeOf(r.templateId) : undefined;
    if (!code) {
      const row = deps.store.templates.get(r.templateId);
      try {
        code = coarseCode(decodeTemplate(deps.sealer.open(row!.sealed, r.templateId)));
      } catch {
        continue;
      }
    }
    codes.set(code, entries.length * ENTRY_CODE_BYTES);
    entries.push({ entryId: r.templateId, personId: r.personId, hand: r.hand, digest: r.digest });
  }
  const blob = sealSnapshot(entries, codes.subarray(0, entries.length * ENTRY_CODE_BYTES), deps.sealer.deriveKey(SNAPSHOT_PURPOSE));
  const tmp = `${deps.file}.tmp`;
  writeFileSync(tmp, blob, { mode: 0o600 });
  renameSync(tmp, deps.file);
  return { entries: entries.length, bytes: blob.length, ms: performance.now() - t0 };
}

/** Rewrites the snapshot at most once per `delayMs` after changes; `flush` writes a pending change now (close). */
export class SnapshotKeeper {
  private timer: NodeJS.Timeout | null = null;
  constructor(
    private readonly write: () => void,
    private readonly delayMs = 2000,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.write();
    }, this.delayMs);
    this.timer.unref();
  }

  get pending(): boolean {
    return this.timer !== null;
  }

  flush(): void {
    if (!this.timer) return;
    clearTimeout(this.timer);
    this.timer = null;
    this.write();
  }
}
