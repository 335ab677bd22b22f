// Sneakernet: signed records carried on a USB stick when the link is down for days. The export leaves the
// outbox untouched: the centre de-duplicates on (terminal, seq), so import and later upload apply each record once.
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import type { Store } from '../store/store.ts';
import { PalmPayError } from '../util/errors.ts';
import { SETTINGS } from './feed.ts';

export const EXPORT_FORMAT = 'palmpay-outbox-export';

export interface ExportHeader {
  format: typeof EXPORT_FORMAT;
  v: 1;
  terminalId: string;
  exportedAtMs: number;
  count: number;
  firstSeq: number | null;
  lastSeq: number | null;
}

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
  writeFileSync(tmp, `${lines.join('\n')}\n`);
  renameSync(tmp, file); // a pulled USB stick never holds half a file under the final name
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
  let header: ExportHeader;
  try {
    header = JSON.parse(lines[0] ?? '') as ExportHeader;
  } catch {
    throw new SneakernetError('SNEAKERNET_FORMAT', `${file} is not a PalmPay outbox export (bad header)`);
  }
  if (header.format !== EXPORT_FORMAT || header.v !== 1) throw new SneakernetError('SNEAKERNET_FORMAT', `${file} is not a PalmPay outbox export v1`);
  const records = lines.slice(1).map((l, i) => {
    try {
      return JSON.parse(l) as unknown;
    } catch {
      throw new SneakernetError('SNEAKERNET_FORMAT', `${file}: line ${i + 2} is not JSON (file truncated?)`);
    }
  });
  if (records.length !== header.count) throw new SneakernetError('SNEAKERNET_TRUNCATED', `${file} holds ${records.length} records, its header says ${header.count}: copy it again`);
  return { header, records };
}
