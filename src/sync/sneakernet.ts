// Sneakernet: signed records carried on a USB stick when the link is down for days. The export leaves the
// outbox untouched: the centre de-duplicates on (terminal, seq), so import and later upload apply each record once.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import { z } from 'zod';
import { Id } from '../protocol/record.ts';
import { PalmPayError } from '../util/errors.ts';
import { SETTINGS } from './feed.ts';

export const EXPORT_FORMAT = 'palmpay-outbox-export';
/** The highest seq written to a completed export file: records up to it are safe on a stick even if not yet uploaded. */
export const EXPORTED_THROUGH_SEQ = 'outbox.exportedThroughSeq';

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  v: 1;
  terminalId: string;
  exportedAtMs: number;
  count: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

const ExportHeaderSchema = z.strictObject({
  format: z.literal(EXPORT_FORMAT),
  v: z.literal(1),
  terminalId: Id,
  exportedAtMs: z.number().int().min(0).max(8.64e15),
  count: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  firstSeq: z.number().int().min(1).nullable(),
  lastSeq: z.number().int().min(1).nullable(),
});

export class SneakernetError extends PalmPayError {}

/** Writes the records the centre has not acknowledged (or the whole journal with `all`) as JSON lines. */
export function exportOutbox(store: Store, file: string, opts: { all?: boolean; now?: number } = {}): ExportHeader {
  const rows = opts.all
    ? (store.db.prepare('SELECT body, hash, sig, seq FROM journal ORDER BY seq').all() as Array<{ body: string; hash: string; sig: string; seq: number }>)
    : (store.db.prepare(`SELECT j.body, j.hash, j.sig, j.seq FROM outbox o JOIN journal j ON j.seq = o.seq ORDER BY o.seq`).all() as Array<{ body: string; hash: string; sig: string; seq: number }>);
  const terminalId = store.settings.get<string>(SETTINGS.terminalId) ?? (rows[0] ? (JSON.parse(rows[0].body) as { terminalId: string }).terminalId : 'unknown');
  const header: ExportHeader = { format: EXPORT_FORMAT, v: 1, terminalId, exportedAtMs: opts.now ?? Date.now(), count: rows.length, firstSeq: rows[0]?.seq ?? null, lastSeq: rows.at(-1)?.seq ?? null };
  // The body column is the signed canonical JSON: splice hash and sig in without re-encoding it.
  const lines = [JSON.stringify(header), ...rows.map((r) => `${r.body.slice(0, -1)},"hash":"${r.hash}","sig":"${r.sig}"}`)];
  const tmp = `${file}.part`;
  const fd = openSync(tmp, 'w');
  try {
    writeSync(fd, `${lines.join('\n')}\n`);
    fsyncSync(fd); // on the stick before it counts as exported
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file); // a pulled USB stick never holds half a file under the final name
  // Only a complete file counts: re-provisioning may then go ahead (src/host/provision.ts), the queue is kept.
  if (header.lastSeq !== null && header.lastSeq > (store.settings.get<number>(EXPORTED_THROUGH_SEQ) ?? 0)) store.settings.set(EXPORTED_THROUGH_SEQ, header.lastSeq);
  return header;
}

/** Reads an export file; validates the header and the record count (the records themselves are checked by the centre). */
export function readExport(file: string): { header: ExportHeader; records: unknown[] } {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SneakernetError('SNEAKERNET_READ', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  let raw: unknown;
  try {
    raw = JSON.parse(lines[0] ?? '');
  } catch {
    throw new SneakernetError('SNEAKERNET_FORMAT', `${file} is not a PalmPay outbox export (bad header)`);
  }
  if ((raw as { format?: unknown })?.format !== EXPORT_FORMAT || (raw as { v?: unknown }).v !== 1) throw new SneakernetError('SNEAKERNET_FORMAT', `${file} is not a PalmPay outbox export v1`);
  // The whole header is checked before anything is handed on (nothing is stored from a file that is not right).
  const parsed = ExportHeaderSchema.safeParse(raw);
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    throw new SneakernetError('SNEAKERNET_FORMAT', `${file}: header field ${i.path.join('.') || '(root)'}: ${i.message}`);
  }
  const header = parsed.data as ExportHeader;
  const records = lines.slice(1).map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      throw new SneakernetError('SNEAKERNET_FORMAT', `${file}: line ${i + 2} is not JSON (file truncated?)`);
    }
  });
  if (records.length !== header.count) throw new SneakernetError('SNEAKERNET_TRUNCATED', `${file} holds ${records.length} records, its header says ${header.count}: copy it again`);
  const foreign = records.findIndex((r) => (r as { terminalId?: unknown })?.terminalId !== header.terminalId);
  if (foreign >= 0) throw new SneakernetError('SNEAKERNET_FORMAT', `${file}: line ${foreign + 2} is not a record of terminal ${header.terminalId}, whose export this is`);
  return { header, records };
}
