// Customers' PINs set at a supervised counter (a signed `pin_set` record, through ingest.ts; centre migration 11),
// or chosen while enrolling (the enrolment record's `pinHash`, stored once the enrolment is confirmed): the verifier
// is kept (never the PIN) and published to the person's region, so the PIN works at every counter.
import { checkPinSet, type Refusal } from './invariants.ts';
import type { PersonRow, RepoTx } from './repo.ts';
import { dialect, sql, type SqlConn } from './sql.ts';
import { pinVerifierProblem, pinVersionOf, type PinVersion } from '../protocol/pin-verifier.ts';
import type { EnrolmentBody, PinSetBody } from '../protocol/record.ts';

/** The feed event kind that carries a person's PIN verifier to the region's terminals. */
export const CUSTOMER_PIN_FEED = 'customer_pin';

/** A person's PIN verifier at the centre, or undefined when none was set. */
export async function customerPinOf(c: SqlConn, personId: string): Promise<string | undefined> {
  return (await storedCustomerPin(c, personId))?.pinHash;
}

/** A person's PIN verifier and the version of the record that set it (what a counter orders it by), or undefined. */
export async function storedCustomerPin(c: SqlConn, personId: string): Promise<{ pinHash: string; pinVersion: PinVersion } | undefined> {
  const row = await c.get<{ pin_hash: string; terminal_id: string; seq: number | string; set_at: number | string }>(
    sql`SELECT pin_hash, terminal_id, seq, set_at FROM customer_pins WHERE person_id = ${personId}`,
  );
  return row && { pinHash: row.pin_hash, pinVersion: { atMs: Number(row.set_at), terminalId: row.terminal_id, seq: Number(row.seq) } };
}

/**
 * "Later" for two PIN records, as a counter orders them too (comparePinVersions): the record's time, then its
 * terminal and seq, so two records of one millisecond stand in the same order everywhere. Byte order of the ids.
 */
const BYTES = dialect({ postgres: ' COLLATE "C"', sqlite: '' });

/**
 * A verified, in-chain `pin_set` (its approval already re-checked by ingest): stored and published, or why not.
 * Of two PINs set offline at two counters the later record (its own clock, then terminal and seq: PinVersion) stands,
 * whichever arrives last; the feed event carries that version, so a counter keeps the same order (Ledger.applyCustomerPin).
 * The attempts and lockout (report/access.ts) belong to the verifier they were counted against: a pin_set that
 * becomes the stored PIN starts them afresh (a person locked out gets a new PIN at a supervised counter and may use
 * it at once); one signed before the stored PIN, or the stored PIN's own record again, changes nothing and lifts nothing.
 */
export async function pinSet(r: RepoTx, rec: PinSetBody, person: PersonRow | undefined, terminal: { id: string; region: string }, now: number): Promise<Refusal | undefined> {
  const terminalId = terminal.id;
  const refusal = checkPinSet(rec, person, terminal.region);
  if (refusal) return refusal;
  const at = rec.hlc.ms;
  const pinVersion = pinVersionOf(rec); // rec.terminalId is the uploading terminal (ingest checked it)
  const { changes } = await r.conn.run(sql`INSERT INTO customer_pins (person_id, pin_hash, terminal_id, seq, approved_by, set_at, received_at)
    VALUES (${rec.personId}, ${rec.pinHash}, ${terminalId}, ${rec.seq}, ${rec.approvedBy}, ${at}, ${now})
    ON CONFLICT (person_id) DO UPDATE SET pin_hash = excluded.pin_hash, terminal_id = excluded.terminal_id, seq = excluded.seq,
      approved_by = excluded.approved_by, set_at = excluded.set_at, received_at = excluded.received_at, failed = 0, locked_until = 0
    WHERE (customer_pins.set_at, customer_pins.terminal_id${BYTES}, customer_pins.seq) < (excluded.set_at, excluded.terminal_id${BYTES}, excluded.seq)`);
  if (changes === 1) await r.appendFeed(`region:${person!.region}`, CUSTOMER_PIN_FEED, rec.personId, { personId: rec.personId, pinHash: rec.pinHash, pinVersion }, now);
  return undefined;
}

/**
 * A person's enrolment was just confirmed (no duplicate, or a supervisor settled it): the PIN they chose while
 * enrolling, if any, is stored and published like a pin_set's. Never over a PIN already stored (an enrolment
 * replaces nobody's PIN); `approved_by` is the enroller who took it. Inside the confirming transaction.
 */
export async function enrolmentPinConfirmed(r: RepoTx, personId: string, now: number): Promise<void> {
  const person = await r.getPerson(personId);
  if (!person || person.status !== 'confirmed') return;
  const stored = await r.getRecord(person.terminal_id, Number(person.seq));
  const rec = stored ? (JSON.parse(stored.body) as EnrolmentBody) : undefined;
  // Judged at ingest already (checkEnrolment); judged again as it is about to reach every counter of the region.
  if (rec?.type !== 'enrolment' || rec.personId !== personId || rec.pinHash === undefined || pinVerifierProblem(rec.pinHash)) return;
  const { changes } = await r.conn.run(sql`INSERT INTO customer_pins (person_id, pin_hash, terminal_id, seq, approved_by, set_at, received_at)
    VALUES (${personId}, ${rec.pinHash}, ${person.terminal_id}, ${rec.seq}, ${rec.operatorId}, ${rec.hlc.ms}, ${now})
    ON CONFLICT (person_id) DO NOTHING`);
  const pinVersion = pinVersionOf(rec); // the enrolment record of this person's terminal (person.terminal_id)
  if (changes === 1) await r.appendFeed(`region:${person.region}`, CUSTOMER_PIN_FEED, personId, { personId, pinHash: rec.pinHash, pinVersion }, now);
}
