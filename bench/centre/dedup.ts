// The enrolment duplicate check at P enrolled people: P synthetic palms built as `bench match` builds its galleries
// (src/biometrics/identify/synthetic.ts: the first few are full people with a separate probe capture, the bulk are
// drawn from the field pool), stored as the centre stores them (templates + their stage-1 codes), then: the index's
// start-up load from that snapshot, and new enrolments (half re-enrolments of a stored palm, half new people)
// through the real path (signed record, template upload: check outside the transaction, re-check on commit).
// The peer, in the same run on the same gallery: the linear scan the index replaced (every person's templates
// opened, decoded and matched), timed just before each of the first enrolments, its decision compared.
import { createHash, randomBytes } from 'node:crypto';
import { coarseCode } from '../../src/biometrics/identify/coarse-code.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { capture, defaultModel, FieldPool, modelTemplate, person } from '../../src/biometrics/identify/synthetic.ts';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import { CENTRE_TEMPLATE_LIMITS, type TemplateAuditLimits } from '../../src/biometrics/template-audit.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import type { Duplicate } from '../../src/server/palm-index.ts';
import { Central } from '../../src/server/service.ts';
import { join, openSqlDb, sql, type Fragment } from '../../src/server/sql.ts';
import { ChainWriter } from '../sync/loadgen.ts';
import { quantile, round } from './db.ts';

export interface DedupOptions {
  url: string;
  persons: number;
  /** New enrolments checked (half re-enrolments of a stored palm). */
  enrolments: number;
  /** How many of them the linear scan peer also checks (default all up to 20,000 people, else 10). */
  peerEnrolments?: number;
  seed?: number;
  progress?: (phase: string, done: number, total: number) => void;
}

export interface DedupResult {
  persons: number;
  gallery: string;
  index_load_seconds: number;
  index_entries: number;
  enrolments: number;
  check_p50_ms: number;
  check_p95_ms: number;
  /** The linear scan the index replaced, on the same gallery, in the same run (the before). */
  peer_linear_enrolments: number;
  peer_linear_p50_ms: number;
  peer_linear_p95_ms: number;
  /** Linear scan time / index check time (p50, p95): how many times faster the index is. */
  speedup_p50: number;
  speedup_p95: number;
  /** Enrolments where the index path decided as the linear scan did (same person flagged, or none). */
  decisions_identical_to_linear: string;
  duplicates_flagged_of_mated: string;
  false_alarms_of_new: string;
}

export interface GalleryProbe {
  t: Template;
  /** The stored person this palm was enrolled as, or null for a new person. */
  mate: string | null;
}

/** One stored, confirmed person with one template (plaintext; `Central.open` seals it), as the centre stores it. */
export function galleryRow(id: string, seq: number, t: Template, changePos: number | null): Fragment {
  const bytes = Buffer.from(encodeTemplate(t));
  const digest = createHash('sha256').update(bytes).digest('hex');
  return sql`(${id}, 'R1', 'confirmed', 'GALLERY', ${seq}, ${JSON.stringify([digest])}, ${JSON.stringify([bytes.toString('base64')])}, ${coarseCode(t)}, ${JSON.stringify([t.hand])}, 1, 1, ${changePos})`;
}

export function insertGallery(rows: Fragment[]): Fragment {
  return sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, codes, code_hands, created_at, updated_at, change_pos) VALUES ${join(rows)}`;
}

/**
 * The centre audits an enrolment's templates (template-audit.ts): the synthetic model codes with its own coder
 * (compcode, 3 planes), so the bench's centre is told that coder, and each probe names a hand. Every other limit is
 * the centre's own.
 */
const MODEL_LIMITS: TemplateAuditLimits = { ...CENTRE_TEMPLATE_LIMITS, coder: defaultModel().coder, params: defaultModel().coderParams };
const enrolled = (t: Template): Template => ({ ...t, hand: 'left' });

/**
 * P synthetic people stored as the centre stores them (templates + stage-1 codes; plaintext templates, which
 * `Central.open` seals), and `enrolments` probes: half new captures of the first stored people, half new people.
 * The terminal ENROL is registered to sign the new enrolments.
 */
export async function buildGallery(url: string, persons: number, enrolments: number, seed = 1, progress: DedupOptions['progress'] = () => undefined): Promise<{ probes: GalleryProbe[]; signer: ReturnType<typeof signerFromSecretKey> }> {
  const model = defaultModel();
  const r = rng(seed);
  const pool = new FieldPool(model, r);
  const mates = Math.ceil(enrolments / 2);
  const probes: GalleryProbe[] = [];
  const central0 = await Central.open(url);
  const signer = signerFromSecretKey(randomBytes(32));
  const { code } = await central0.addTerminal({ id: 'ENROL', name: 'enrol', branch: 'B', region: 'R1' });
  await central0.registerTerminal({ code, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex });
  await central0.close();

  // The stored gallery, written in bulk as the centre writes it.
  const db = await openSqlDb(url, { poolMax: 2 });
  const CHUNK = 500;
  for (let i = 0; i < persons; i += CHUNK) {
    const rows: Fragment[] = [];
    for (let k = i; k < Math.min(persons, i + CHUNK); k++) {
      const p = k < mates ? person(model, r) : pool.person(model, r);
      const t = modelTemplate(model, [capture(model, p, r, { exact: k >= mates })]);
      if (k < mates) probes.push({ t: enrolled(modelTemplate(model, [capture(model, p, r, { shift: true })])), mate: `G${k}` });
      rows.push(galleryRow(`G${k}`, k + 1, t, k + 1));
    }
    await db.tx((c) => c.run(insertGallery(rows)));
    progress('gallery', Math.min(persons, i + CHUNK), persons);
  }
  await db.tx((c) => c.run(sql`UPDATE counters SET value = ${persons} WHERE name = 'persons'`));
  await db.close();
  while (probes.length < enrolments) probes.push({ t: enrolled(modelTemplate(model, [capture(model, person(model, r), r, { shift: true })])), mate: null });
  return { probes, signer };
}

export async function runDedup(o: DedupOptions): Promise<DedupResult> {
  const progress = o.progress ?? (() => undefined);
  const built = await buildGallery(o.url, o.persons, o.enrolments, o.seed ?? 1, progress);
  const signer = built.signer;
  // Re-enrolments and new people alternate, so the peer's first few see both.
  const mated = built.probes.filter((p) => p.mate !== null);
  const fresh = built.probes.filter((p) => p.mate === null);
  const probes: GalleryProbe[] = [];
  for (let i = 0; i < Math.max(mated.length, fresh.length); i++) {
    for (const p of [mated[i], fresh[i]]) if (p) probes.push(p);
  }
  const mates = mated.length;
  // The linear scan peer is slow at large P: only the first few enrolments are also checked by it.
  const peerCount = Math.min(probes.length, o.peerEnrolments ?? (o.persons <= 20_000 ? probes.length : 10));
  const peerTimes: number[] = [];
  let identical = 0;

  // A server process starting: the index loads from the stored codes.
  const central = await Central.open(o.url, { templateLimits: MODEL_LIMITS });
  const times: number[] = [];
  let flagged = 0;
  let falseAlarms = 0;
  let loadSeconds = 0;
  let entries = 0;
  try {
    await central.startIndex(60_000);
    loadSeconds = central.palmIndex.loadSeconds ?? 0;
    entries = central.palmIndex.stats().entries;
    const chain = new ChainWriter('ENROL', signer);
    for (const [i, p] of probes.entries()) {
      const personId = `N${i}`;
      const bytes = Buffer.from(encodeTemplate(p.t));
      const rec = chain.next({
        type: 'enrolment', operatorId: 'op', enrolmentId: `E-${personId}`, personId, person: { name: 'New', idNumber: String(i) },
        templateDigests: [createHash('sha256').update(bytes).digest('hex')], hands: ['left'], consent: { given: true, method: 'signature', textVersion: 'c1' }, provisional: true,
      });
      await central.ingest('ENROL', [rec]);
      const terminal = (await central.repo.tx((x) => x.getTerminal('ENROL')))!;
      // The peer on the same gallery, just before: the linear scan the index replaced, in its own transaction.
      let linear: Duplicate | undefined | null = null;
      if (i < peerCount) {
        const s0 = performance.now();
        linear = await central.enrolments.linearCheck(personId, [bytes.toString('base64')]);
        peerTimes.push(performance.now() - s0);
      }
      const s = performance.now();
      const res = await central.uploadTemplates(terminal, personId, [bytes.toString('base64')]);
      times.push(performance.now() - s);
      if (linear !== null && (linear?.personId ?? null) === (res.duplicateOf ?? null)) identical++;
      if (p.mate !== null && res.duplicateOf === p.mate) flagged++;
      if (p.mate === null && res.status !== 'confirmed') falseAlarms++;
      progress('enrolments', i + 1, probes.length);
    }
  } finally {
    await central.close();
  }
  const news = probes.filter((p) => p.mate === null).length;
  return {
    persons: o.persons,
    gallery: 'synthetic (defaultModel, field pool as bench match), one template per person',
    index_load_seconds: round(loadSeconds, 2),
    index_entries: entries,
    enrolments: probes.length,
    check_p50_ms: round(quantile(times, 0.5)),
    check_p95_ms: round(quantile(times, 0.95)),
    peer_linear_enrolments: peerCount,
    peer_linear_p50_ms: round(quantile(peerTimes, 0.5)),
    peer_linear_p95_ms: round(quantile(peerTimes, 0.95)),
    speedup_p50: peerCount ? round(quantile(peerTimes, 0.5) / quantile(times.slice(0, peerCount), 0.5), 1) : 0,
    speedup_p95: peerCount ? round(quantile(peerTimes, 0.95) / quantile(times.slice(0, peerCount), 0.95), 1) : 0,
    decisions_identical_to_linear: `${identical}/${peerCount}`,
    duplicates_flagged_of_mated: `${flagged}/${mates}`,
    false_alarms_of_new: `${falseAlarms}/${news}`,
  };
}
