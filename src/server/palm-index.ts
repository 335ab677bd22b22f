// The centre's 1:N index for the enrolment duplicate check: the same two-stage identifier the terminal uses
// (src/biometrics/identify), held in memory by each server process. It is fed from the persons table by its
// commit-ordered change position (sequencer.ts): at start a snapshot of every person's stored stage-1 codes (made
// once when the templates arrived, never decoded again at start), then every change after the last position seen.
// Exact duplicates (the same template bytes, in any format) are caught by the templates' digests.
// Stage 2 (the full 1:1 matcher) runs on the K candidates' templates, read from the database for that one check.
import { DECISION_THRESHOLD } from '../biometrics/config.ts';
import { coarseCode, coarseProbes } from '../biometrics/identify/coarse-code.ts';
import { DEFAULT_K, DEFAULT_POLICY } from '../biometrics/identify/palm.ts';
import { Identifier } from '../biometrics/identify/identifier.ts';
import { BLOCK_SLOTS, ENTRY_CODE_BYTES } from '../biometrics/identify/kernel/kernel.ts';
import { matchScore } from '../biometrics/match.ts';
import { decodeTemplate } from '../biometrics/template.ts';
import type { Hand, Template } from '../biometrics/types.ts';
import { sha256Hex } from '../protocol/crypto.ts';
import { list, sql, type SqlConn } from './sql.ts';
import type { Repo, RepoTx } from './repo.ts';

/** Slots scanned between yields to the event loop: 8 screening blocks, 16 MB of codes, a few ms of stage 1. */
const SCAN_CHUNK = 8 * BLOCK_SLOTS;

/**
 * Stage-1 candidates the duplicate check scores exactly: more than the terminal's DEFAULT_K, because a miss here is
 * a second identity, and at 10⁵ the terminal's 32 let one re-enrolment in 10 through (bench centre, 2026-12-06).
 */
export const CENTRE_K = 4 * DEFAULT_K;

/** Who a new enrolment is checked against (as RepoTx.galleryPersons). */
export const GALLERY_STATUSES = ['confirmed', 'provisional', 'duplicate_review'] as const;

export interface Duplicate {
  personId: string;
  /** matchScore distance (0 for byte-identical templates); lower is more similar. */
  score: number;
}

/** Stored stage-1 codes of one person's templates, or null where a template does not decode. */
export function entryCodes(templates: readonly Uint8Array[]): { codes: Buffer; hands: Hand[] } | null {
  const decoded: Template[] = [];
  for (const t of templates) {
    try {
      decoded.push(decodeTemplate(t));
    } catch {
      return null;
    }
  }
  return { codes: Buffer.concat(decoded.map((t) => coarseCode(t))), hands: decoded.map((t) => t.hand) };
}

function decodeAll(templates: readonly Uint8Array[]): Template[] | null {
  try {
    return templates.map((t) => decodeTemplate(t));
  } catch {
    return null;
  }
}

interface ChangeRow {
  id: string;
  status: string;
  digests: string;
  codes: Uint8Array | null;
  code_hands: string | null;
  /** 1/true when the person's templates are stored (SQLite answers 1, PostgreSQL true). */
  has_templates: number | boolean;
  change_pos: number;
}

export interface IndexStats {
  persons: number;
  entries: number;
  position: number;
  loadSeconds: number | null;
}

export class CentreIndex {
  private readonly identifier = new Identifier<Template | null>({
    coarse: (t) => coarseCode(t!),
    coarseProbes: (t) => coarseProbes(t!),
    fine: () => {
      throw new Error('stage 2 runs in CentreIndex on templates read for the check');
    },
    k: CENTRE_K,
    policy: DEFAULT_POLICY,
  });
  /** Template digest → the people holding that exact template (two, when one palm was enrolled twice). */
  private readonly byDigest = new Map<string, Set<string>>();
  private readonly indexed = new Map<string, { entries: string[]; digests: string[] }>();
  /** Last change position applied. */
  position = -1;
  loadSeconds: number | null = null;
  private catching: Promise<void> | undefined;

  /** `open` turns a stored (sealed) templates column into the plaintext templates (keys.ts). */
  constructor(
    private readonly repo: Repo,
    private readonly open: OpenTemplates,
  ) {}

  stats(): IndexStats {
    return { persons: this.indexed.size, entries: this.identifier.size, position: this.position, loadSeconds: this.loadSeconds };
  }

  /** Applies every change after the last position seen (the first call is the start-up snapshot). One at a time. */
  catchUp(): Promise<void> {
    this.catching ??= this.doCatchUp().finally(() => (this.catching = undefined));
    return this.catching;
  }

  /** Resolves when no catch-up is running. */
  async idle(): Promise<void> {
    await this.catching?.catch(() => undefined);
  }

  private async doCatchUp(): Promise<void> {
    const started = performance.now();
    const first = this.position < 0;
    await this.repo.catchUp('persons');
    const PAGE = 20_000;
    for (;;) {
      const rows = await this.repo.db.tx((c) =>
        c.all<ChangeRow>(sql`SELECT id, status, digests, codes, code_hands, templates IS NOT NULL AS has_templates, change_pos FROM persons
          WHERE change_pos > ${this.position} ORDER BY change_pos LIMIT ${PAGE}`),
      );
      for (const r of rows) this.apply(r);
      if (rows.length > 0) this.position = Number(rows[rows.length - 1]!.change_pos);
      if (rows.length < PAGE) break;
    }
    if (first) this.loadSeconds = (performance.now() - started) / 1000;
  }

  private apply(r: ChangeRow): void {
    const old = this.indexed.get(r.id);
    if (old) {
      for (const e of old.entries) this.identifier.revoke(e);
      for (const d of old.digests) {
        const holders = this.byDigest.get(d);
        holders?.delete(r.id);
        if (holders?.size === 0) this.byDigest.delete(d);
      }
      this.indexed.delete(r.id);
    }
    const inGallery = (GALLERY_STATUSES as readonly string[]).includes(r.status) && r.has_templates !== 0 && r.has_templates !== false;
    if (!inGallery) return;
    const digests = JSON.parse(r.digests) as string[];
    for (const d of digests) {
      const holders = this.byDigest.get(d) ?? new Set<string>();
      holders.add(r.id);
      this.byDigest.set(d, holders);
    }
    const entries: string[] = [];
    if (r.codes && r.code_hands) {
      const hands = JSON.parse(r.code_hands) as Hand[];
      const codes = new Uint8Array(r.codes.buffer, r.codes.byteOffset, r.codes.byteLength);
      if (codes.length === hands.length * ENTRY_CODE_BYTES) {
        hands.forEach((_, i) => entries.push(`${r.id}#${i}`));
        this.identifier.enrolWithCodes(entries.map((entryId, i) => ({ entryId, personId: r.id, hand: hands[i]!, template: null })), codes);
      }
    }
    this.indexed.set(r.id, { entries, digests });
  }

  /**
   * The duplicate check against the index: byte-identical templates by digest, then stage 1 for each decodable
   * template and the full matcher on the candidates' stored templates. `excludeId` is the enrolment itself.
   */
  async findDuplicate(excludeId: string, templates: readonly Uint8Array[]): Promise<Duplicate | undefined> {
    for (const t of templates) {
      const holders = this.byDigest.get(sha256Hex(Buffer.from(t.buffer, t.byteOffset, t.byteLength))) ?? [];
      for (const other of holders) if (other !== excludeId) return { personId: other, score: 0 };
    }
    const probes = decodeAll(templates);
    if (!probes || this.identifier.size === 0) return undefined;
    const persons = new Set<string>();
    // Chunked, so a scan of 10⁶ codes does not hold up this process's other requests; an entry the poller removed
    // meanwhile is skipped, one it added is after `since` and so in the re-check on commit.
    for (const p of probes) {
      for (const c of await this.identifier.candidatesChunked(p, SCAN_CHUNK)) {
        const e = this.identifier.entry(c.id);
        if (e) persons.add(e.personId);
      }
    }
    persons.delete(excludeId);
    if (persons.size === 0) return undefined;
    const rows = await this.repo.db.tx((c) => storedTemplates(c, [...persons]));
    return bestMatch(probes, rows.map((r) => ({ id: r.id, templates: this.open(r.id, r.templates) })));
  }

  /**
   * The gallery person other than `personId` closest to one capture, at any distance (issue 19's drift guard: a
   * template update must stay farther from everyone else than the rule's margin). Stage 1 over everyone, then the
   * full matcher on the candidates' stored templates: every region's people, not only the terminal's.
   */
  async nearestOther(personId: string, capture: Template): Promise<Duplicate | undefined> {
    if (this.identifier.size === 0) return undefined;
    const persons = new Set<string>();
    for (const c of await this.identifier.candidatesChunked(capture, SCAN_CHUNK)) {
      const e = this.identifier.entry(c.id);
      if (e) persons.add(e.personId);
    }
    persons.delete(personId);
    if (persons.size === 0) return undefined;
    const rows = await this.repo.db.tx((c) => storedTemplates(c, [...persons]));
    return bestMatch([capture], rows.map((r) => ({ id: r.id, templates: this.open(r.id, r.templates) })), Infinity);
  }
}

/** A person's plaintext templates from the stored (sealed at rest) column. */
export type OpenTemplates = (personId: string, stored: string) => Buffer[];

/** The stored templates of these people (only those still in the gallery). */
export async function storedTemplates(c: SqlConn, ids: string[]): Promise<Array<{ id: string; templates: string }>> {
  if (ids.length === 0) return [];
  return c.all(sql`SELECT id, templates FROM persons WHERE id IN (${list(ids)}) AND templates IS NOT NULL AND status IN (${list([...GALLERY_STATUSES])})`);
}

/**
 * The linear scan the index replaced: every gallery person's templates read, opened and decoded, the probes matched
 * against all of them (byte-identical templates by digest first, as findDuplicate). Not on the enrolment path: it is
 * the reference the index's decision must equal (test/server/palm-index.test.ts) and the bench's in-run peer.
 */
export async function linearDuplicate(r: RepoTx, open: OpenTemplates, excludeId: string, templates: readonly Uint8Array[]): Promise<Duplicate | undefined> {
  const rows = (await r.galleryPersons(excludeId)).map((p) => ({ id: p.id, digests: JSON.parse(p.digests) as string[], templates: open(p.id, p.templates!) }));
  const mine = new Set(templates.map((t) => sha256Hex(Buffer.from(t.buffer, t.byteOffset, t.byteLength))));
  const exact = rows.find((row) => row.digests.some((d) => mine.has(d)));
  if (exact) return { personId: exact.id, score: 0 };
  const probes = decodeAll(templates);
  return probes ? bestMatch(probes, rows) : undefined;
}

/** The closest of these people to the probes by the full matcher, at or under the 1:1 threshold. */
export function bestMatch(probes: readonly Template[], rows: ReadonlyArray<{ id: string; templates: readonly Uint8Array[] }>, threshold: number = DECISION_THRESHOLD): Duplicate | undefined {
  let best: Duplicate | undefined;
  for (const row of rows) {
    const gallery = decodeAll(row.templates);
    if (!gallery) continue;
    for (const g of gallery) {
      for (const p of probes) {
        let s: number;
        try {
          s = matchScore(p, g);
        } catch {
          continue; // another coder or parameters: not comparable
        }
        if (s <= threshold && (!best || s < best.score)) best = { personId: row.id, score: s };
      }
    }
  }
  return best;
}
