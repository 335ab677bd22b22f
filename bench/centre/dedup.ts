// The enrolment duplicate check at P enrolled people: P synthetic palms built as `bench match` builds its galleries
// (src/biometrics/identify/synthetic.ts: the first few are full people with a separate probe capture, the bulk are
// drawn from the field pool), stored as the centre stores them (templates + their stage-1 codes), then: the index's
// start-up load from that snapshot, and new enrolments (half re-enrolments of a stored palm, half new people)
// through the real path (signed record, template upload: check outside the transaction, re-check on commit).
// The peer, in the same run on the same gallery: the linear scan the index replaced (every person's templates
// opened, decoded and matched), timed just before each of the first enrolments, its decision compared.
// With `uploads`, whether enrolments stall uploads: T terminals upload signed purchase batches into the same process
// (one event loop and one pool, as one `palmpay server` process: the worst case, every upload beside the scan) alone,
// then again while a second set of enrolments runs; the batch latencies and the event loop's delay of both compared.
import { createHash, randomBytes } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DECISION_THRESHOLD } from '../../src/biometrics/config.ts';
import { coarseCode } from '../../src/biometrics/identify/coarse-code.ts';
import { matchScore } from '../../src/biometrics/match.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { capture, defaultModel, FieldPool, modelTemplate, person } from '../../src/biometrics/identify/synthetic.ts';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import { CENTRE_TEMPLATE_LIMITS, type TemplateAuditLimits } from '../../src/biometrics/template-audit.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { keyDirFor, loadCentreKeys, sealTemplates } from '../../src/server/keys.ts';
import type { Duplicate } from '../../src/server/palm-index.ts';
import { Central } from '../../src/server/service.ts';
import { join, openSqlDb, sql, type Fragment } from '../../src/server/sql.ts';
import type { SignedRecord } from '../../src/protocol/record.ts';
import { BENCH_OPERATOR, ChainWriter, grantBenchOperator, purchaseDraft } from '../sync/loadgen.ts';
import { quantile, round } from './db.ts';
import { analyseSeeded, seedCustomers } from './ingest.ts';

export interface DedupOptions {
  url: string;
  persons: number;
  /** New enrolments checked (half re-enrolments of a stored palm). */
  enrolments: number;
  /** How many of them the linear scan peer also checks (default all up to 20,000 people, else 10). */
  peerEnrolments?: number;
  seed?: number;
  /**
   * Every gallery palm its own latent field, not one of the field pool's 2,048 × 8 symmetries (which at 10⁶ puts
   * about 61 near-copies of each field in the gallery, differing only by mask: clustered impostors for stage 1).
   */
  distinctPalms?: boolean;
  /** GalleryShape.bothHands. */
  bothHands?: boolean;
  /** Uploads beside a second set of enrolments (same count), against the same uploads alone. */
  uploads?: UploadsOptions;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface UploadsOptions {
  /** Terminals uploading at once, each one batch after another (a closed loop: steady load, not a burst). */
  terminals: number;
  batch: number;
  customers: number;
}

export interface UploadPhase {
  seconds: number;
  records: number;
  records_per_s: number;
  batch_p50_ms: number;
  batch_p99_ms: number;
  batch_max_ms: number;
  /** How late this process's event loop ran its timers over the phase (perf_hooks monitorEventLoopDelay). */
  event_loop_delay_p99_ms: number;
  event_loop_delay_max_ms: number;
}

export interface UploadsResult {
  terminals: number;
  batch_size: number;
  /** Records accepted of those uploaded, both phases. */
  accepted: string;
  alone: UploadPhase;
  with_enrolments: UploadPhase;
  /** Batch p99 with enrolments / alone: 1 is no stall. */
  batch_p99_ratio: number;
  /** The second set of enrolments, run while the uploads of the second phase were. */
  enrolments_under_uploads: { enrolments: number; check_p50_ms: number; check_p95_ms: number; duplicates_flagged_of_mated: string; missed_mates_beyond_matcher_threshold: number; false_alarms_of_new: string };
}

export interface DedupResult {
  persons: number;
  gallery: string;
  /** Generating and writing the gallery (set-up, not a product figure). */
  gallery_build_seconds: number;
  index_load_seconds: number;
  /** This process's CPU (user + system) over the index load: what a loaded machine cannot stretch. */
  index_load_cpu_seconds: number;
  index_entries: number;
  /** This process's resident memory once the index was loaded, and its peak over the run (gallery build included). */
  rss_after_index_load_mb: number;
  peak_rss_mb: number;
  enrolments: number;
  check_p50_ms: number;
  check_p95_ms: number;
  /** This process's CPU per check (user + system; PostgreSQL's not included), p50 and p95. */
  check_cpu_p50_ms: number;
  check_cpu_p95_ms: number;
  /** The linear scan the index replaced, on the same gallery, in the same run (the before); null: not run. */
  peer_linear_enrolments: number;
  peer_linear_p50_ms: number | null;
  peer_linear_p95_ms: number | null;
  /** Linear scan time / index check time (p50, p95): how many times faster the index is; null: the peer did not run. */
  speedup_p50: number | null;
  speedup_p95: number | null;
  /** Enrolments where the index path decided as the linear scan did (same person flagged, or none). */
  decisions_identical_to_linear: string;
  duplicates_flagged_of_mated: string;
  /** Re-enrolments not flagged that the full matcher itself scores above the threshold against their stored palm
   * (the linear scan misses them too); the rest of the unflagged ones are stage 1's misses. */
  missed_mates_beyond_matcher_threshold: number;
  /** Re-enrolments held as a duplicate of someone other than their stored palm. */
  mates_flagged_as_other_person: number;
  false_alarms_of_new: string;
  uploads: UploadsResult | null;
}

export interface GalleryProbe {
  t: Template;
  /** The stored person this palm was enrolled as, or null for a new person. */
  mate: string | null;
  /** The mate's stored template (re-enrolments only): a missed re-enrolment is then told apart (see mateScore). */
  stored?: Template;
}

/**
 * The full 1:1 matcher's own score between a re-enrolment and its stored palm: above DECISION_THRESHOLD, the linear
 * scan misses it too (the matcher's false non-match, not the index's); at or under, only stage 1 can have missed it.
 */
function matcherMisses(p: GalleryProbe): boolean {
  return p.stored !== undefined && matchScore(p.t, p.stored) > DECISION_THRESHOLD;
}

/**
 * One stored, confirmed person with their templates (one per hand), as the centre stores them: sealed with the
 * centre's template key when `templateKey` is given, else plaintext in the JSON column of before migration 18 (which
 * `Central.open` then moves into the sealed blob, one UPDATE a person: minutes at 10⁶, so the bench seals as it writes).
 * `codes`: stage-1 codes to store instead of the templates' own (a test's crafted crowd in stage 1).
 */
export function galleryRow(id: string, seq: number, templates: Template | Template[], changePos: number | null, templateKey?: Buffer, codes?: Uint8Array): Fragment {
  const ts = Array.isArray(templates) ? templates : [templates];
  const bytes = ts.map((t) => Buffer.from(encodeTemplate(t)));
  const digests = bytes.map((b) => createHash('sha256').update(b).digest('hex'));
  const sealed = templateKey ? sealTemplates(templateKey, id, bytes) : null;
  const plain = templateKey ? null : JSON.stringify(bytes.map((b) => b.toString('base64'))); // the column of before migration 18
  const stored = codes ?? Buffer.concat(ts.map((t) => coarseCode(t)));
  return sql`(${id}, 'R1', 'confirmed', 'GALLERY', ${seq}, ${JSON.stringify(digests)}, ${sealed}, ${plain}, ${stored}, ${JSON.stringify(ts.map((t) => t.hand))}, 1, 1, ${changePos})`;
}

export function insertGallery(rows: Fragment[]): Fragment {
  return sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, templates_json, codes, code_hands, created_at, updated_at, change_pos) VALUES ${join(rows)}`;
}

/**
 * The centre audits an enrolment's templates (template-audit.ts): the synthetic model codes with its own coder
 * (compcode, 3 planes), so the bench's centre is told that coder, and each probe names a hand. Every other limit is
 * the centre's own.
 */
const MODEL_LIMITS: TemplateAuditLimits = { ...CENTRE_TEMPLATE_LIMITS, coder: defaultModel().coder, params: defaultModel().coderParams };
const enrolled = (t: Template): Template => ({ ...t, hand: 'left' });

/** How the bench's gallery is drawn (both default off: one unknown-hand template a person from a pool of fields). */
export interface GalleryShape {
  /** Every palm its own latent field, not a pool's. */
  distinctPalms?: boolean;
  /** Each person stores a left and a right palm (two entries), as a real enrolment of both hands does; the probes are left hands. */
  bothHands?: boolean;
}

/**
 * P synthetic people stored as the centre stores them (sealed templates + stage-1 codes), and `enrolments` probes:
 * half new captures of the first stored people, half new people. The terminal ENROL is registered to sign the new
 * enrolments.
 */
export async function buildGallery(url: string, persons: number, enrolments: number, seed = 1, progress: DedupOptions['progress'] = () => undefined, shape: GalleryShape = {}): Promise<{ probes: GalleryProbe[]; signer: ReturnType<typeof signerFromSecretKey> }> {
  const { distinctPalms = false, bothHands = false } = shape;
  const model = defaultModel();
  const r = rng(seed);
  const pool = new FieldPool(model, r); // made even for distinct palms: the same draws, so the same probes
  const mates = Math.ceil(enrolments / 2);
  const probes: GalleryProbe[] = [];
  const central0 = await Central.open(url);
  const signer = signerFromSecretKey(randomBytes(32));
  const { code } = await central0.addTerminal({ id: 'ENROL', name: 'enrol', branch: 'B', region: 'R1' });
  await central0.registerTerminal({ code, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex });
  await grantBenchOperator(central0, 'ENROL');
  await central0.close();
  // The key file Central.open made (keys.ts), so the gallery is stored sealed as the centre stores it.
  const templateKey = Buffer.from(loadCentreKeys(keyDirFor(url)).templateKey, 'base64');

  // The stored gallery, written in bulk as the centre writes it. Generating a palm costs about 0.2 ms of this
  // process's CPU (mostly its stage-1 code), so one chunk is written while the next is generated (PostgreSQL works
  // on another core); 2,000 rows of 13 parameters stay under PostgreSQL's 65,535 parameters a statement.
  const db = await openSqlDb(url, { poolMax: 2 });
  const CHUNK = 2000;
  let writing: Promise<void> = Promise.resolve();
  for (let i = 0; i < persons; i += CHUNK) {
    const rows: Fragment[] = [];
    for (let k = i; k < Math.min(persons, i + CHUNK); k++) {
      const p = k < mates || distinctPalms ? person(model, r) : pool.person(model, r);
      const t = modelTemplate(model, [capture(model, p, r, { exact: k >= mates })]);
      if (k < mates) probes.push({ t: enrolled(modelTemplate(model, [capture(model, p, r, { shift: true })])), mate: `G${k}`, stored: t });
      if (bothHands) {
        const other = modelTemplate(model, [capture(model, distinctPalms ? person(model, r) : pool.person(model, r), r, { exact: true })]);
        rows.push(galleryRow(`G${k}`, k + 1, [{ ...t, hand: 'left' }, { ...other, hand: 'right' }], k + 1, templateKey));
      } else {
        rows.push(galleryRow(`G${k}`, k + 1, t, k + 1, templateKey));
      }
    }
    await writing;
    const done = Math.min(persons, i + CHUNK);
    writing = db.tx((c) => c.run(insertGallery(rows))).then(() => progress('gallery', done, persons));
  }
  await writing;
  await db.tx((c) => c.run(sql`UPDATE counters SET value = ${persons} WHERE name = 'persons'`));
  // A centre's persons grow by enrolments, and autovacuum keeps up with them. Just after a bulk load of 10⁶ rows,
  // the first read of each page sets its hint bits (writing it again) and autovacuum starts on the table: the
  // index's start-up measured 12.2 s in one such run, where a gallery built the same way loaded in 6.6–7.2 s once
  // autovacuum had been through it. Vacuumed once here, part of the build, so the figures are of a settled table.
  if (db.dialect === 'postgres') await db.exec('VACUUM (ANALYZE) persons');
  await db.close();
  while (probes.length < enrolments) probes.push({ t: enrolled(modelTemplate(model, [capture(model, person(model, r), r, { shift: true })])), mate: null });
  return { probes, signer };
}

interface UploadTerminal {
  id: string;
  chain: ChainWriter;
  /** Purchases signed so far (the next purchase's number). */
  n: number;
}

/** One enrolment through the real path: the signed record, then its templates (the check, and its re-check on commit). */
async function enrolOne(central: Central, chain: ChainWriter, personId: string, p: GalleryProbe, linear: boolean): Promise<{ ms: number; cpuMs: number; linearMs: number | null; linear: Duplicate | undefined | null; res: { status: string; duplicateOf?: string } }> {
  const bytes = Buffer.from(encodeTemplate(p.t));
  const rec = chain.next({
    type: 'enrolment', operatorId: BENCH_OPERATOR, enrolmentId: `E-${personId}`, personId, person: { name: 'New', idNumber: personId },
    templateDigests: [createHash('sha256').update(bytes).digest('hex')], hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
  });
  await central.ingest('ENROL', [rec]);
  const terminal = (await central.repo.tx((x) => x.getTerminal('ENROL')))!;
  // The peer on the same gallery, just before: the linear scan the index replaced, in its own transaction.
  let found: Duplicate | undefined | null = null;
  let linearMs: number | null = null;
  if (linear) {
    const s0 = performance.now();
    found = await central.enrolments.linearCheck(personId, [bytes.toString('base64')]);
    linearMs = performance.now() - s0;
  }
  const s = performance.now();
  const c0 = process.cpuUsage();
  const res = await central.uploadTemplates(terminal, personId, [bytes.toString('base64')]);
  const cpu = process.cpuUsage(c0);
  return { ms: performance.now() - s, cpuMs: (cpu.user + cpu.system) / 1000, linearMs, linear: found, res };
}

/**
 * Every terminal uploads signed purchase batches, one after another, while `more()` says so. A batch is signed just
 * before it is sent (the terminal's work, not timed: the latency is the centre's ingest call alone).
 */
async function uploadPhase(central: Central, uploaders: UploadTerminal[], batch: number, customers: string[], more: () => boolean, onBatch: () => void): Promise<{ latencies: number[]; seconds: number; accepted: number; records: number; loopP99: number; loopMax: number }> {
  const latencies: number[] = [];
  let accepted = 0;
  let records = 0;
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const t0 = performance.now();
  await Promise.all(
    uploaders.map(async (t, ti) => {
      while (more()) {
        const recs: SignedRecord[] = [];
        for (let j = 0; j < batch; j++, t.n++) {
          const c = (ti * 7919 + t.n * 104729) % customers.length;
          recs.push(t.chain.next(purchaseDraft(t.id, t.n, customers[c]!, `BA${c}`, 1 + ((ti + t.n) % 500))));
        }
        const s = performance.now();
        const res = await central.ingest(t.id, recs);
        latencies.push(performance.now() - s);
        accepted += res.filter((x) => x.status === 'accepted').length;
        records += recs.length;
        onBatch();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  loop.disable();
  return { latencies, seconds, accepted, records, loopP99: loop.percentile(99) / 1e6, loopMax: loop.max / 1e6 };
}

function phaseFigures(u: Awaited<ReturnType<typeof uploadPhase>>): UploadPhase {
  return {
    seconds: round(u.seconds, 2),
    records: u.records,
    records_per_s: Math.round(u.records / u.seconds),
    batch_p50_ms: round(quantile(u.latencies, 0.5)),
    batch_p99_ms: round(quantile(u.latencies, 0.99)),
    batch_max_ms: round(Math.max(...u.latencies)),
    event_loop_delay_p99_ms: round(u.loopP99),
    event_loop_delay_max_ms: round(u.loopMax),
  };
}

export async function runDedup(o: DedupOptions): Promise<DedupResult> {
  const progress = o.progress ?? (() => undefined);
  const b0 = performance.now();
  // With uploads, a second set of enrolments (as many) runs beside them.
  const sets = o.uploads ? 2 : 1;
  const built = await buildGallery(o.url, o.persons, o.enrolments * sets, o.seed ?? 1, progress, { distinctPalms: o.distinctPalms, bothHands: o.bothHands });
  const buildSeconds = (performance.now() - b0) / 1000;
  const signer = built.signer;
  // Re-enrolments and new people alternate, so the peer's first few see both.
  const mated = built.probes.filter((p) => p.mate !== null);
  const fresh = built.probes.filter((p) => p.mate === null);
  const all: GalleryProbe[] = [];
  for (let i = 0; i < Math.max(mated.length, fresh.length); i++) {
    for (const p of [mated[i], fresh[i]]) if (p) all.push(p);
  }
  const probes = all.slice(0, o.enrolments);
  const second = all.slice(o.enrolments);
  const mates = probes.filter((p) => p.mate !== null).length;
  // The linear scan peer is slow at large P: only the first few enrolments are also checked by it.
  const peerCount = Math.min(probes.length, o.peerEnrolments ?? (o.persons <= 20_000 ? probes.length : 10));
  const peerTimes: number[] = [];
  let identical = 0;

  // A server process starting: the index loads from the stored codes.
  const central = await Central.open(o.url, { templateLimits: MODEL_LIMITS });
  const times: number[] = [];
  let flagged = 0;
  let falseAlarms = 0;
  let beyondMatcher = 0;
  let flaggedOther = 0;
  let loadSeconds = 0;
  let loadCpuSeconds = 0;
  const cpuTimes: number[] = [];
  let entries = 0;
  let rssAfterLoad = 0;
  let uploads: UploadsResult | null = null;
  const chain = new ChainWriter('ENROL', signer);
  let enrolled = 0;
  try {
    // The uploading terminals and their customers (set-up, before the index loads: customers have no templates).
    const uploaders: UploadTerminal[] = [];
    let customers: string[] = [];
    if (o.uploads) {
      for (let i = 0; i < o.uploads.terminals; i++) {
        const id = `UT${i}`;
        const { code } = await central.addTerminal({ id, name: id, branch: `B${i % 20}`, region: 'R1' });
        const s = signerFromSecretKey(randomBytes(32));
        await central.registerTerminal({ code, publicKey: Buffer.from(s.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex });
        await grantBenchOperator(central, id);
        uploaders.push({ id, chain: new ChainWriter(id, s), n: 0 });
      }
      customers = await seedCustomers(central, o.uploads.customers, o.persons, progress);
    }
    await analyseSeeded(central);
    const l0 = process.cpuUsage();
    await central.startIndex(60_000);
    const lc = process.cpuUsage(l0);
    loadCpuSeconds = (lc.user + lc.system) / 1e6;
    loadSeconds = central.palmIndex.loadSeconds ?? 0;
    entries = central.palmIndex.stats().entries;
    rssAfterLoad = process.memoryUsage().rss;
    for (const [i, p] of probes.entries()) {
      const e = await enrolOne(central, chain, `N${enrolled++}`, p, i < peerCount);
      if (e.linearMs !== null) peerTimes.push(e.linearMs);
      times.push(e.ms);
      cpuTimes.push(e.cpuMs);
      if (e.linear !== null && (e.linear?.personId ?? null) === (e.res.duplicateOf ?? null)) identical++;
      if (p.mate !== null && e.res.duplicateOf === p.mate) flagged++;
      else if (p.mate !== null && matcherMisses(p)) beyondMatcher++;
      if (p.mate !== null && e.res.duplicateOf !== undefined && e.res.duplicateOf !== p.mate) flaggedOther++;
      if (p.mate === null && e.res.status !== 'confirmed') falseAlarms++;
      progress('enrolments', i + 1, probes.length);
    }

    if (o.uploads) {
      const u = o.uploads;
      // Warm-up, not measured: one batch from each terminal (its first upload, as after a terminal's first sync).
      let warm = 0;
      await uploadPhase(central, uploaders, u.batch, customers, () => warm++ < uploaders.length, () => undefined);
      // Uploads for as long as the second set of enrolments runs, one enrolment after another beside them.
      let enrolling = true;
      const under: number[] = [];
      let underFlagged = 0;
      let underFalse = 0;
      let underBeyond = 0;
      const [withEnrol] = await Promise.all([
        uploadPhase(central, uploaders, u.batch, customers, () => enrolling, () => undefined),
        (async () => {
          try {
            for (const p of second) {
              const e = await enrolOne(central, chain, `N${enrolled++}`, p, false);
              under.push(e.ms);
              if (p.mate !== null && e.res.duplicateOf === p.mate) underFlagged++;
              else if (p.mate !== null && matcherMisses(p)) underBeyond++;
              if (p.mate === null && e.res.status !== 'confirmed') underFalse++;
              progress('enrolments beside uploads', under.length, second.length);
            }
          } finally {
            enrolling = false;
          }
        })(),
      ]);
      // The same uploads alone, for as long.
      const start = performance.now();
      const alone = await uploadPhase(central, uploaders, u.batch, customers, () => performance.now() < start + withEnrol.seconds * 1000, () =>
        progress('uploads alone (s)', Math.min(Math.round(withEnrol.seconds), Math.round((performance.now() - start) / 1000)), Math.round(withEnrol.seconds)),
      );
      const a = phaseFigures(alone);
      const w = phaseFigures(withEnrol);
      uploads = {
        terminals: u.terminals,
        batch_size: u.batch,
        accepted: `${alone.accepted + withEnrol.accepted}/${alone.records + withEnrol.records}`,
        alone: a,
        with_enrolments: w,
        batch_p99_ratio: a.batch_p99_ms > 0 ? round(w.batch_p99_ms / a.batch_p99_ms, 2) : 0,
        enrolments_under_uploads: {
          enrolments: second.length,
          check_p50_ms: round(quantile(under, 0.5)),
          check_p95_ms: round(quantile(under, 0.95)),
          duplicates_flagged_of_mated: `${underFlagged}/${second.filter((p) => p.mate !== null).length}`,
          missed_mates_beyond_matcher_threshold: underBeyond,
          false_alarms_of_new: `${underFalse}/${second.filter((p) => p.mate === null).length}`,
        },
      };
    }
  } finally {
    await central.close();
  }
  const news = probes.filter((p) => p.mate === null).length;
  return {
    persons: o.persons,
    gallery: `synthetic (defaultModel, ${o.distinctPalms ? 'every palm its own latent field' : 'field pool as bench match'}), ${o.bothHands ? 'a left and a right palm per person, left-hand probes' : 'one template per person'}`,
    gallery_build_seconds: round(buildSeconds, 1),
    index_load_seconds: round(loadSeconds, 2),
    index_load_cpu_seconds: round(loadCpuSeconds, 2),
    index_entries: entries,
    rss_after_index_load_mb: Math.round(rssAfterLoad / 2 ** 20),
    peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
    enrolments: probes.length,
    check_p50_ms: round(quantile(times, 0.5)),
    check_p95_ms: round(quantile(times, 0.95)),
    check_cpu_p50_ms: round(quantile(cpuTimes, 0.5)),
    check_cpu_p95_ms: round(quantile(cpuTimes, 0.95)),
    peer_linear_enrolments: peerCount,
    peer_linear_p50_ms: peerCount ? round(quantile(peerTimes, 0.5)) : null,
    peer_linear_p95_ms: peerCount ? round(quantile(peerTimes, 0.95)) : null,
    speedup_p50: peerCount ? round(quantile(peerTimes, 0.5) / quantile(times.slice(0, peerCount), 0.5), 1) : null,
    speedup_p95: peerCount ? round(quantile(peerTimes, 0.95) / quantile(times.slice(0, peerCount), 0.95), 1) : null,
    decisions_identical_to_linear: `${identical}/${peerCount}`,
    duplicates_flagged_of_mated: `${flagged}/${mates}`,
    missed_mates_beyond_matcher_threshold: beyondMatcher,
    mates_flagged_as_other_person: flaggedOther,
    false_alarms_of_new: `${falseAlarms}/${news}`,
    uploads,
  };
}
