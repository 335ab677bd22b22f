// The enrolment duplicate check at P enrolled people: P synthetic palms built as `bench match` builds its galleries
// (src/biometrics/identify/synthetic.ts: the first few are full people with a separate probe capture, the bulk are
// drawn from the field pool), stored as the centre stores them (templates + their stage-1 codes), then: the index's
// start-up load from that snapshot, and new enrolments (half re-enrolments of a stored palm, half new people)
// through the real path (signed record, template upload: check outside the transaction, re-check on commit).
import { createHash, randomBytes } from 'node:crypto';
import { coarseCode } from '../../src/biometrics/identify/coarse-code.ts';
import { rng } from '../../src/biometrics/identify/random.ts';
import { capture, defaultModel, FieldPool, modelTemplate, person } from '../../src/biometrics/identify/synthetic.ts';
import { encodeTemplate } from '../../src/biometrics/template.ts';
import type { Template } from '../../src/biometrics/types.ts';
import { newEncKeyPair } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { Central } from '../../src/server/service.ts';
import { join, openSqlDb, sql, type Fragment } from '../../src/server/sql.ts';
import { ChainWriter } from '../sync/loadgen.ts';
import { quantile, round } from './db.ts';

export interface DedupOptions {
  url: string;
  persons: number;
  /** New enrolments checked (half re-enrolments of a stored palm). */
  enrolments: number;
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
  duplicates_flagged_of_mated: string;
  false_alarms_of_new: string;
}

export async function runDedup(o: DedupOptions): Promise<DedupResult> {
  const progress = o.progress ?? (() => undefined);
  const model = defaultModel();
  const r = rng(o.seed ?? 1);
  const pool = new FieldPool(model, r);
  const mates = Math.ceil(o.enrolments / 2);
  const probes: Array<{ t: Template; mate: string | null }> = [];
  const central0 = await Central.open(o.url);
  const signer = signerFromSecretKey(randomBytes(32));
  const { code } = await central0.addTerminal({ id: 'ENROL', name: 'enrol', branch: 'B', region: 'R1' });
  await central0.registerTerminal({ code, publicKey: Buffer.from(signer.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex });
  await central0.close();

  // The stored gallery, written in bulk as the centre writes it.
  const db = await openSqlDb(o.url, { poolMax: 2 });
  const CHUNK = 500;
  for (let i = 0; i < o.persons; i += CHUNK) {
    const rows: Fragment[] = [];
    for (let k = i; k < Math.min(o.persons, i + CHUNK); k++) {
      const p = k < mates ? person(model, r) : pool.person(model, r);
      const t = modelTemplate(model, [capture(model, p, r, { exact: k >= mates })]);
      if (k < mates) probes.push({ t: modelTemplate(model, [capture(model, p, r, { shift: true })]), mate: `G${k}` });
      const bytes = Buffer.from(encodeTemplate(t));
      const digest = createHash('sha256').update(bytes).digest('hex');
      rows.push(sql`(${`G${k}`}, 'R1', 'confirmed', 'GALLERY', ${k + 1}, ${JSON.stringify([digest])}, ${JSON.stringify([bytes.toString('base64')])}, ${coarseCode(t)}, '["unknown"]', 1, 1, ${k + 1})`);
    }
    await db.tx((c) => c.run(sql`INSERT INTO persons (id, region, status, terminal_id, seq, digests, templates, codes, code_hands, created_at, updated_at, change_pos) VALUES ${join(rows)}`));
    progress('gallery', Math.min(o.persons, i + CHUNK), o.persons);
  }
  await db.tx((c) => c.run(sql`UPDATE counters SET value = ${o.persons} WHERE name = 'persons'`));
  await db.close();
  while (probes.length < o.enrolments) probes.push({ t: modelTemplate(model, [capture(model, person(model, r), r, { shift: true })]), mate: null });

  // A server process starting: the index loads from the stored codes.
  const central = await Central.open(o.url);
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
      const s = performance.now();
      const res = await central.uploadTemplates(terminal, personId, [bytes.toString('base64')]);
      times.push(performance.now() - s);
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
    duplicates_flagged_of_mated: `${flagged}/${mates}`,
    false_alarms_of_new: `${falseAlarms}/${news}`,
  };
}
