// Meter readings typed at a counter (a signed `meter_reading` record, through ingest.ts): the facts rule 10 of
// invariants.ts needs (the meter's last reading), the accepted readings, and their export to the biller, once each.
import { checkMeterReading, type Refusal } from '../invariants.ts';
import type { PersonRow, Repo, RepoTx } from '../repo.ts';
import { join, raw, sql, type Fragment, type SqlConn } from '../sql.ts';
import type { MeterReadingBody } from '../../protocol/record.ts';
import { BillingStore } from './store.ts';

export interface MeterReadingRow {
  terminal_id: string;
  seq: number;
  reading_id: string;
  biller_id: string;
  subscriber: string;
  person_id: string;
  reading: number;
  /** The centre's last reading of the meter when this one was accepted (null: none known). */
  last_reading: number | null;
  approved_by: string | null;
  /** The counter's time of the reading (its record's clock). */
  read_at: number;
  received_at: number;
  exported_at: number | null;
}

const row = (r: MeterReadingRow): MeterReadingRow => {
  for (const k of ['seq', 'reading', 'last_reading', 'read_at', 'received_at', 'exported_at'] as const) if (r[k] !== null) (r as unknown as Record<string, number>)[k] = Number(r[k]);
  return r;
};

/**
 * The meter's last reading at the centre: the newer of the last imported bill's current reading and the last
 * reading accepted from a counter (a reading a supervisor approved below the old one becomes the new base).
 */
export async function lastReading(c: SqlConn, billerId: string, subscriber: string): Promise<number | undefined> {
  const bill = await c.get<{ v: number; at: number }>(sql`SELECT current_reading AS v, created_at AS at FROM bills
    WHERE biller_id = ${billerId} AND subscriber = ${subscriber} ORDER BY created_at DESC, cycle DESC LIMIT 1`);
  const read = await c.get<{ v: number; at: number }>(sql`SELECT reading AS v, received_at AS at FROM meter_readings
    WHERE biller_id = ${billerId} AND subscriber = ${subscriber} ORDER BY received_at DESC, seq DESC LIMIT 1`);
  if (!bill && !read) return undefined;
  if (bill && read) return Number(Number(read.at) >= Number(bill.at) ? read.v : bill.v);
  return Number((bill ?? read)!.v);
}

/** A verified, in-chain reading: stored for the biller, or why not (rule 10). */
export async function meterReading(r: RepoTx, rec: MeterReadingBody, person: PersonRow | undefined, terminal: { id: string; region: string }, now: number): Promise<Refusal | undefined> {
  const store = new BillingStore(r.conn);
  const biller = await store.getBiller(rec.billerId);
  const linked = person?.account_id ? await store.mayPay(rec.billerId, rec.subscriber, rec.personId, person.account_id) : false;
  const last = biller ? await lastReading(r.conn, rec.billerId, rec.subscriber) : undefined;
  const refusal = checkMeterReading(rec, Boolean(biller), person, linked, last, terminal.region);
  if (refusal) return refusal;
  await r.conn.run(sql`INSERT INTO meter_readings (terminal_id, seq, reading_id, biller_id, subscriber, person_id, reading, last_reading, approved_by, read_at, received_at, exported_at)
    VALUES (${terminal.id}, ${rec.seq}, ${rec.readingId}, ${rec.billerId}, ${rec.subscriber}, ${rec.personId}, ${rec.reading}, ${last ?? null}, ${rec.approvedBy ?? null}, ${rec.hlc.ms}, ${now}, ${null})`);
  return undefined;
}

export class Readings {
  constructor(
    private readonly repo: Repo,
    private readonly now: () => number = Date.now,
  ) {}

  list(f: { billerId?: string; subscriber?: string } = {}): Promise<MeterReadingRow[]> {
    return this.repo.tx(async (r) => (await r.conn.all<MeterReadingRow>(sql`SELECT * FROM meter_readings ${filter(f)} ORDER BY received_at, terminal_id, seq`)).map(row));
  }

  /** The biller's readings not yet forwarded, marked forwarded in the same transaction (each goes to the biller once). */
  export(billerId: string): Promise<MeterReadingRow[]> {
    return this.repo.tx(async (r) => {
      const rows = (await r.conn.all<MeterReadingRow>(sql`SELECT * FROM meter_readings WHERE biller_id = ${billerId} AND exported_at IS NULL ORDER BY received_at, terminal_id, seq`)).map(row);
      const at = this.now();
      for (const x of rows) await r.conn.run(sql`UPDATE meter_readings SET exported_at = ${at} WHERE terminal_id = ${x.terminal_id} AND seq = ${x.seq}`);
      return rows.map((x) => ({ ...x, exported_at: at }));
    });
  }
}

function filter(f: { billerId?: string; subscriber?: string }): Fragment {
  const conds = [f.billerId !== undefined && sql`biller_id = ${f.billerId}`, f.subscriber !== undefined && sql`subscriber = ${f.subscriber}`].filter((c): c is Fragment => c !== false);
  return conds.length ? sql`WHERE ${join(conds, ' AND ')}` : raw('');
}

/** The biller's CSV of readings: one line per reading, with who read it where and when. */
export function readingsCsv(rows: MeterReadingRow[]): string {
  const lines = rows.map((x) => [x.biller_id, x.subscriber, x.reading, x.last_reading ?? '', new Date(x.read_at).toISOString(), `${x.terminal_id}#${x.seq}`, x.person_id, x.approved_by ?? ''].join(','));
  return ['biller,subscriber,reading,last_reading,read_at,record,person,approved_by', ...lines].join('\n') + '\n';
}
