// The centre's 1:N index for the enrolment duplicate check: the same two-stage identifier the terminal uses
// (src/biometrics/identify), held in memory by each server process. It is fed from the persons table by its
// commit-ordered change position (sequencer.ts): at start a snapshot of every person's stored stage-1 codes (made
// once when the templates arrived, never decoded again at start), then every change after the last position seen.
// Exact duplicates (the same template bytes, in any format) are caught by the templates' digests.
// Stage 2 runs on the K candidates' templates, read from the database for that one check: a rigid pre-score of
// every candidate (PRESCORE), then the full 1:1 matcher on the best CENTRE_FULL_K of them.
// The index's reads are each one statement, run on their own (autocommit): a statement's own snapshot is all any of
// them needs, and a check spent more on BEGIN and COMMIT round trips than on some of its reads.
import { DECISION_THRESHOLD } from '../biometrics/config.ts';
import { CENTRE_PROBE_SHIFTS, coarseCode, coarseProbesAt } from '../biometrics/identify/coarse-code.ts';
import { CoarseIndex, DEFAULT_SCREEN } from '../biometrics/identify/coarse-index.ts';
import { BLOCK_SLOTS, ENTRY_CODE_BYTES, MAX_K } from '../biometrics/identify/kernel/kernel.ts';
import { anyHand, matchScore, type MatchOptions } from '../biometrics/match.ts';
import { decodeTemplate } from '../biometrics/template.ts';
import type { Hand, Template } from '../biometrics/types.ts';
import { sha256Hex } from '../protocol/crypto.ts';
import { fmix32, IntMap, IntMultiMap, randomSeed } from '../util/int-multimap.ts';
import { fnv1a } from '../util/random.ts';
import { anyOf, list, prepared, raw, sql, type SqlConn } from './sql.ts';
import type { Repo, RepoTx } from './repo.ts';

/** Slots scanned between yields to the event loop: 8 screening blocks, 16 MB of codes, a few ms of stage 1. */
const SCAN_CHUNK = 8 * BLOCK_SLOTS;

/**
 * Stage-1 candidates the duplicate check reads and pre-scores: the kernel's most (MAX_K, 32 × the terminal's
 * DEFAULT_K), because a miss here is a second identity and a false hit only a review. The misses are weak genuine
 * pairs (matcher score 0.25–0.29, under the 0.3129 threshold) that the coarse code ranks low, screened or not: at 10⁶
 * (200 re-enrolments, 193 the matcher catches) K = 128 / 256 / 1 024 missed 13 / 11 / 4 (README, issue 16j); with
 * CENTRE_PROBE_SHIFTS 2, and the pre-score keeps 1 024 affordable (check CPU p95 153 → 83 ms; issue 16l).
 */
export const CENTRE_K = MAX_K;

/**
 * The pre-score that orders the K candidates for the full matcher: the global shift search alone, ±1 cell, no
 * elastic refinement (about 1/15 of the full matcher's cost). It put the mate first every time: at 10⁵ synthetic
 * palms among the 1 024 candidates of each of the 191 mates stage 1 found (mate ≤ 0.30, best impostor ≥ 0.40), and
 * on the real dev data (119 probes, 40 people's 120 captures + 1 000 synthetic palms), as ±2 cells did (README,
 * issue 16l).
 */
const PRESCORE: MatchOptions = { elastic: false, maxShift: 1 };

/**
 * Candidates (best by PRESCORE) the full matcher scores. Far more than the pre-score needs on synthetic palms (the
 * mate was always first), so a real palm whose pre-score is hurt by a larger shift or a deformation still gets there.
 */
export const CENTRE_FULL_K = 32;

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

/** An enrolment's templates decoded as the duplicate checks compare them (anyHand); null if any does not decode. */
export function dedupProbes(templates: readonly Uint8Array[]): Template[] | null {
  return decodeAll(templates)?.map(anyHand) ?? null;
}

interface ChangeRow {
  id: string;
  digests: string;
  /** The stage-1 codes of the person's templates, one after the other (ENTRY_CODE_BYTES each). */
  codes: Uint8Array | null;
  /** 1/true when the person is in the gallery: a gallery status and templates stored (SQLite 1, PostgreSQL true). */
  in_gallery: number | boolean;
  change_pos: number;
}

export interface IndexStats {
  persons: number;
  entries: number;
  position: number;
  loadSeconds: number | null;
}

/**
 * Templates a person may hold (the protocol's limit on an enrolment's templates): a person's entries in the coarse
 * index are numbered person × this + i, so an entry names its person without a table.
 */
const ENTRIES_PER_PERSON = 32;

/**
 * A 32-bit hash of a person id, seeded per process (FNV-1a from the seed, then murmur3's finaliser). Not a keyed PRF:
 * ids of one hash cost a longer lookup, never a merge, since a number is confirmed against its id.
 */
export function idHash(id: string, seed: number): number {
  return fmix32(fnv1a(id, seed ^ 0x811c9dc5));
}

/** The first 32 bits of a hex SHA-256 digest: the in-memory key of the exact-duplicate check, confirmed on the row. */
function digestKey(hex: string): number {
  return parseInt(hex.slice(0, 8), 16) | 0;
}

/**
 * The digest keys of a persons.digests column: a JSON array of hex digests, as the centre writes it (no escapes in
 * hex), read without JSON.parse, so a snapshot of 10⁶ people makes no array and no 64-character string per digest.
 */
function digestKeysOf(json: string): number[] {
  const keys: number[] = [];
  for (let open = json.indexOf('"'); open >= 0; ) {
    const close = json.indexOf('"', open + 1);
    if (close < 0) break;
    keys.push(digestKey(json.slice(open + 1, Math.min(open + 9, close))));
    open = json.indexOf('"', close + 1);
  }
  return keys;
}

/**
 * Flat storage, so a snapshot of 10⁶ people loads without 10⁶ maps, sets and objects to build and then to keep
 * marking at every garbage collection: stage-1 codes in the coarse index's one buffer under integer entry ids (their
 * slots in a typed map); per person a number (found by a hash of the id in a typed map), its entry count and its
 * first two digests' keys in typed arrays (a person enrolled with both hands has two templates; the few with more
 * keep their other keys in a side map); the holders of a digest by its 32-bit key in a typed multimap
 * (util/int-multimap.ts). Only the ids themselves remain as 10⁶ strings.
 */
export class CentreIndex {
  private readonly coarse = new CoarseIndex<number>(1024, DEFAULT_SCREEN, BLOCK_SLOTS, new IntMap());
  /**
   * Person numbers by a seeded hash of the id (confirmed against ids[n]), kept for the process's life: a number is
   * never given to another person. Typed, not a Map of 10⁶ strings to build at start and mark at every collection.
   */
  private readonly numbersByHash = new IntMultiMap();
  private readonly ids: string[] = [];
  /** Per person number: coarse-index entries held (0 when out of the gallery or without codes). */
  private entryCount = new Uint8Array(1024);
  /** Per person number: 1 while in the gallery. */
  private inGallery = new Uint8Array(1024);
  /** Per person number: how many digest keys it holds in digestKeys (0–2; any more in moreDigestKeys). */
  private digestCount = new Uint8Array(1024);
  /** Per person number n: the keys of its first two digests, at 2n and 2n + 1. */
  private digestKeys = new Int32Array(2 * 1024);
  private readonly moreDigestKeys = new Map<number, number[]>();
  /** Digest key → the person numbers holding a template with a digest of that key (typed: no Map of millions). */
  private readonly byDigest = new IntMultiMap();
  private galleryPersons = 0;
  /** Last change position applied. */
  position = -1;
  loadSeconds: number | null = null;
  private catching: Promise<void> | undefined;

  /** `open` turns a stored (sealed) templates column into the plaintext templates (keys.ts); `idSeed` seeds idHash. */
  constructor(
    private readonly repo: Repo,
    private readonly open: OpenTemplates,
    private readonly idSeed = randomSeed(),
  ) {}

  stats(): IndexStats {
    return { persons: this.galleryPersons, entries: this.coarse.size, position: this.position, loadSeconds: this.loadSeconds };
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
    const page = (after: number) =>
      this.repo.db.autocommit().all<ChangeRow>(sql`SELECT id, digests, codes, (templates IS NOT NULL AND status IN (${list([...GALLERY_STATUSES])})) AS in_gallery, change_pos
          FROM persons WHERE change_pos > ${after} ORDER BY change_pos LIMIT ${PAGE}`);
    let rows = await page(this.position);
    for (;;) {
      // The next page is asked for before this one is applied: the database reads and sends it meanwhile.
      const next = rows.length === PAGE ? page(Number(rows[rows.length - 1]!.change_pos)) : undefined;
      next?.catch(() => undefined); // awaited below; not an unhandled rejection if applying this page throws first
      this.applyPage(rows);
      if (rows.length > 0) this.position = Number(rows[rows.length - 1]!.change_pos);
      if (!next) break;
      rows = await next;
    }
    if (first) this.loadSeconds = (performance.now() - started) / 1000;
  }

  private numberFor(id: string): number {
    const h = idHash(id, this.idSeed);
    const first = this.numbersByHash.first(h);
    if (first >= 0 && this.ids[first] === id) return first;
    // Two ids of one hash (about a hundred pairs among 10⁶ ids): every number under it.
    if (first >= 0) for (const n of this.numbersByHash.get(h)) if (this.ids[n] === id) return n;
    const n = this.ids.length;
    if (n * ENTRIES_PER_PERSON + ENTRIES_PER_PERSON > 2 ** 31) throw new RangeError('palm index: too many people for integer entry ids');
    this.ids.push(id);
    this.numbersByHash.add(h, n);
    if (n === this.entryCount.length) this.grow();
    return n;
  }

  /** Doubles the per-person arrays. */
  private grow(): void {
    const cap = this.entryCount.length * 2;
    const entryCount = new Uint8Array(cap);
    entryCount.set(this.entryCount);
    this.entryCount = entryCount;
    const inGallery = new Uint8Array(cap);
    inGallery.set(this.inGallery);
    this.inGallery = inGallery;
    const digestCount = new Uint8Array(cap);
    digestCount.set(this.digestCount);
    this.digestCount = digestCount;
    const digestKeys = new Int32Array(2 * cap);
    digestKeys.set(this.digestKeys);
    this.digestKeys = digestKeys;
  }

  /** One page of the change log: each person's old entries out, the new ones in; the page's codes added at once. */
  private applyPage(rows: readonly ChangeRow[]): void {
    const entryIds: number[] = [];
    const codes: Uint8Array[] = [];
    for (const r of rows) {
      const n = this.numberFor(r.id);
      this.removePerson(n);
      if (!r.in_gallery) continue; // 0 (SQLite), false (PostgreSQL)
      const keys = digestKeysOf(r.digests);
      for (let i = 0; i < keys.length; i++) {
        if (i < 2) this.digestKeys[2 * n + i] = keys[i]!;
        this.byDigest.add(keys[i]!, n);
      }
      this.digestCount[n] = Math.min(keys.length, 2);
      if (keys.length > 2) this.moreDigestKeys.set(n, keys.slice(2));
      this.inGallery[n] = 1;
      this.galleryPersons++;
      if (r.codes) {
        const count = r.codes.byteLength / ENTRY_CODE_BYTES;
        if (Number.isInteger(count) && count <= ENTRIES_PER_PERSON) {
          for (let i = 0; i < count; i++) entryIds.push(n * ENTRIES_PER_PERSON + i);
          codes.push(r.codes);
          this.entryCount[n] = count;
        }
      }
    }
    if (entryIds.length > 0) this.coarse.upsertMany(entryIds, codes.length === 1 ? codes[0]! : Buffer.concat(codes));
  }

  private removePerson(n: number): void {
    for (let i = 0; i < this.entryCount[n]!; i++) this.coarse.remove(n * ENTRIES_PER_PERSON + i);
    this.entryCount[n] = 0;
    if (this.inGallery[n] === 0) return;
    this.inGallery[n] = 0;
    this.galleryPersons--;
    for (let i = 0; i < this.digestCount[n]!; i++) this.byDigest.delete(this.digestKeys[2 * n + i]!, n);
    this.digestCount[n] = 0;
    for (const key of this.moreDigestKeys.get(n) ?? []) this.byDigest.delete(key, n);
    this.moreDigestKeys.delete(n);
  }

  /** The gallery people (not `excludeId`) holding a template with exactly one of these digests, confirmed on their rows. */
  private async exactHolders(excludeId: string, digests: readonly string[]): Promise<string | undefined> {
    const holders = new Set<string>();
    for (const d of digests) {
      for (const n of this.byDigest.get(digestKey(d))) if (this.ids[n] !== excludeId) holders.add(this.ids[n]!);
    }
    if (holders.size === 0) return undefined;
    const rows = await this.repo.db
      .autocommit()
      .all<{ id: string; digests: string }>(sql`SELECT id, digests FROM persons WHERE id IN (${list([...holders])}) AND templates IS NOT NULL AND status IN (${list([...GALLERY_STATUSES])}) ORDER BY id`);
    const mine = new Set(digests);
    return rows.find((r) => (JSON.parse(r.digests) as string[]).some((d) => mine.has(d)))?.id;
  }

  /**
   * Stage 1 for one template: its CENTRE_K nearest entries (chunked: other requests run meanwhile), the probe coded at
   * CENTRE_PROBE_SHIFTS (wider than the terminal's), into `found`: person id → a bit for each of its templates found.
   */
  private async shortlist(t: Template, found: Map<string, number>): Promise<void> {
    // An entry the poller removed meanwhile is not returned, one it added is after `since` and so in the re-check on commit.
    for (const c of await this.coarse.nearestChunked(coarseProbesAt(t, CENTRE_PROBE_SHIFTS), CENTRE_K, SCAN_CHUNK)) {
      const id = this.ids[Math.floor(c.id / ENTRIES_PER_PERSON)]!;
      found.set(id, (found.get(id) ?? 0) | (1 << c.id % ENTRIES_PER_PERSON));
    }
  }

  /**
   * The duplicate check against the index: byte-identical templates by digest, then stage 1 for each decodable
   * template and the full matcher on the candidates' stored templates. `excludeId` is the enrolment itself.
   */
  async findDuplicate(excludeId: string, templates: readonly Uint8Array[]): Promise<Duplicate | undefined> {
    const exact = await this.exactHolders(excludeId, templates.map((t) => sha256Hex(Buffer.from(t.buffer, t.byteOffset, t.byteLength))));
    if (exact !== undefined) return { personId: exact, score: 0 };
    const probes = dedupProbes(templates);
    if (!probes || this.coarse.size === 0) return undefined;
    const found = new Map<string, number>();
    for (const p of probes) await this.shortlist(p, found);
    found.delete(excludeId);
    if (found.size === 0) return undefined;
    return bestDecoded(probes, await this.prescoredCandidates(probes, found));
  }

  /**
   * The gallery person other than `personId` closest to one capture, at any distance (issue 19's drift guard: a
   * template update must stay farther from everyone else than the rule's margin). Stage 1 over everyone, then the
   * full matcher on the candidates' stored templates: every region's people, not only the terminal's.
   */
  async nearestOther(personId: string, capture: Template): Promise<Duplicate | undefined> {
    if (this.coarse.size === 0) return undefined;
    const found = new Map<string, number>();
    await this.shortlist(capture, found);
    found.delete(personId);
    if (found.size === 0) return undefined;
    const probes = [anyHand(capture)];
    return bestDecoded(probes, await this.prescoredCandidates(probes, found), Infinity);
  }

  /**
   * Stage 2's pre-score (prescored) of stage 1's candidates, on their stored templates. For one probe, only those
   * stage 1 found (its entry i is the person's template i): the person's other palm was not among that probe's
   * nearest, and with labels not trusted (anyHand) it would double the pre-score's work. For several probes (both
   * hands enrolled at once), every template: a person found through one palm is then compared on the other too,
   * which catches a mate that stage 1 missed for its own probe.
   */
  private async prescoredCandidates(probes: readonly Template[], found: ReadonlyMap<string, number>): Promise<Array<{ id: string; templates: Template[] }>> {
    const rows = await storedTemplates(this.repo.db.autocommit(), [...found.keys()]);
    const kept = (id: string, templates: Buffer[]) => (probes.length > 1 ? templates : templates.filter((_, i) => ((found.get(id)! >>> i) & 1) === 1));
    return prescored(probes, rows.map((r) => ({ id: r.id, templates: kept(r.id, this.open(r.id, r.templates)) })), CENTRE_FULL_K);
  }
}

/** A person's plaintext templates from the stored (sealed at rest) column. */
export type OpenTemplates = (personId: string, stored: Uint8Array) => Buffer[];

/**
 * The stored templates of these people (only those still in the gallery). Up to CENTRE_K ids a check: one bound
 * array on PostgreSQL (anyOf), so the statement is parsed and planned once per connection, not once per list length.
 */
export async function storedTemplates(c: SqlConn, ids: string[]): Promise<Array<{ id: string; templates: Uint8Array }>> {
  if (ids.length === 0) return [];
  return c.all(prepared(sql`SELECT id, templates FROM persons WHERE ${anyOf(raw('id'), ids)} AND templates IS NOT NULL AND status IN (${list([...GALLERY_STATUSES])})`));
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
  const probes = dedupProbes(templates);
  return probes ? bestMatch(probes, rows) : undefined;
}

interface CandidateRow {
  id: string;
  templates: readonly Uint8Array[];
}

/**
 * The `keep` people closest to the probes by PRESCORE (their templates decoded once; undecodable or incomparable ones
 * dropped, as bestMatch drops them), for the full matcher. All of them when there are no more than `keep`.
 */
export function prescored(probes: readonly Template[], rows: readonly CandidateRow[], keep: number): Array<{ id: string; templates: Template[] }> {
  const needed = rows.length > keep; // else every row goes to the full matcher: no pre-score to pay
  const scored: Array<{ id: string; templates: Template[]; pre: number }> = [];
  for (const row of rows) {
    const gallery = decodeAll(row.templates);
    if (!gallery) continue;
    let pre = Infinity;
    for (const g of gallery) {
      for (const p of probes) {
        try {
          pre = Math.min(pre, needed ? matchScore(p, g, PRESCORE) : 0);
        } catch {
          // another coder or parameters: not comparable
        }
      }
    }
    if (pre < Infinity) scored.push({ id: row.id, templates: gallery, pre });
  }
  scored.sort((a, b) => a.pre - b.pre);
  return scored.slice(0, keep);
}

/** The closest of these people to the probes by the full matcher, at or under the 1:1 threshold. */
export function bestMatch(probes: readonly Template[], rows: readonly CandidateRow[], threshold: number = DECISION_THRESHOLD): Duplicate | undefined {
  const decoded: Array<{ id: string; templates: Template[] }> = [];
  for (const row of rows) {
    const gallery = decodeAll(row.templates);
    if (gallery) decoded.push({ id: row.id, templates: gallery });
  }
  return bestDecoded(probes, decoded, threshold);
}

/** bestMatch on templates already decoded. */
export function bestDecoded(probes: readonly Template[], rows: ReadonlyArray<{ id: string; templates: readonly Template[] }>, threshold: number = DECISION_THRESHOLD): Duplicate | undefined {
  let best: Duplicate | undefined;
  for (const row of rows) {
    const gallery = row.templates;
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
