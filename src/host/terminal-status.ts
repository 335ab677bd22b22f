// `palmpay terminal status`: what a technician (or a monitoring script) needs to know about a counter without
// touching it: identity and key protection, the queue and its oldest record, feed and sync ages, backups, disk.
// Read from the data folder only: safe while the terminal runs (SQLite WAL readers never block the writer).
import { existsSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { readPublicIdentity, keyFilePath } from '../ledger/keystore.ts';
import { SETTING as LEDGER_SETTING } from '../ledger/ledger.ts';
import { listBackups } from '../store/backup.ts';
import { DB_FILE_NAME, openStore } from '../store/store.ts';
import { feedFreshness, SETTINGS as SYNC_SETTING } from '../sync/feed.ts';
import { PalmPayError } from '../util/errors.ts';

export interface TerminalStatusReport {
  data_dir: string;
  terminal_id: string;
  public_key_fingerprint: string;
  key_protection: string;
  registered_with_centre: boolean;
  queue: { pending: number; in_flight: number; oldest_unsent_seq: number | null; oldest_unsent_age_ms: number | null };
  journal: { records: number; head_seq: number | null };
  feed: { age_ms: number | null; stale: boolean; message: string };
  last_sync_age_ms: number | null;
  backup: { dir: string; latest: string | null; count: number };
  disk: { free_bytes: number; total_bytes: number };
}

/** Reads the status of the terminal whose data folder is `dataDir`. Typed error when it is no terminal's folder. */
export function readTerminalStatus(dataDir: string, opts: { nowMs?: number; backupDir?: string; maxFeedAgeMs?: number } = {}): TerminalStatusReport {
  const now = opts.nowMs ?? Date.now();
  if (!existsSync(keyFilePath(dataDir)) || !existsSync(join(dataDir, DB_FILE_NAME))) {
    throw new PalmPayError('NOT_PROVISIONED', `no terminal in ${dataDir}: provision it first (palmpay journal provision, or start it once)`);
  }
  const identity = readPublicIdentity(dataDir);
  const store = openStore(join(dataDir, DB_FILE_NAME));
  try {
    const q = store.outbox.stats();
    const oldest = store.db
      .prepare('SELECT o.seq AS seq, j.created_at_ms AS at FROM outbox o JOIN journal j ON j.seq = o.seq ORDER BY o.seq LIMIT 1')
      .get() as { seq: number; at: number } | undefined;
    const head = store.db.prepare('SELECT max(seq) AS seq FROM journal').get() as { seq: number | null };
    const feedAt = store.settings.get<number>(SYNC_SETTING.feedAt);
    const fresh = feedFreshness(feedAt, now, opts.maxFeedAgeMs ?? 86_400_000);
    const lastSync = store.settings.get<number>(LEDGER_SETTING.lastSyncMs);
    const backupDir = opts.backupDir ?? process.env.PALMPAY_BACKUP_DIR ?? join(dataDir, 'backups');
    const backups = listBackups(backupDir);
    const fs = statfsSync(dataDir);
    const fingerprint = Buffer.from(identity.publicKey).toString('hex');
    return {
      data_dir: dataDir,
      terminal_id: identity.terminalId,
      public_key_fingerprint: `${fingerprint.slice(0, 16)}…${fingerprint.slice(-8)}`,
      key_protection: identity.protector,
      registered_with_centre: store.settings.get(SYNC_SETTING.certificate) !== undefined,
      queue: { pending: q.pending, in_flight: q.inFlight, oldest_unsent_seq: oldest?.seq ?? null, oldest_unsent_age_ms: oldest ? Math.max(0, now - oldest.at) : null },
      journal: { records: store.journal.count(), head_seq: head.seq },
      feed: { age_ms: fresh.ageMs, stale: fresh.stale, message: fresh.message },
      last_sync_age_ms: lastSync === undefined ? null : Math.max(0, now - lastSync),
      backup: { dir: backupDir, latest: backups[0] ?? null, count: backups.length },
      disk: { free_bytes: fs.bavail * fs.bsize, total_bytes: fs.blocks * fs.bsize },
    };
  } finally {
    store.close();
  }
}

/** The same report as lines a person reads. */
export function formatTerminalStatus(s: TerminalStatusReport): string[] {
  const age = (ms: number | null) => (ms === null ? 'never' : ms < 120_000 ? `${Math.round(ms / 1000)} s ago` : ms < 7_200_000 ? `${Math.round(ms / 60_000)} min ago` : `${(ms / 3_600_000).toFixed(1)} h ago`);
  return [
    `terminal ${s.terminal_id} (key ${s.public_key_fingerprint}, protected by ${s.key_protection}); ${s.registered_with_centre ? 'registered with a centre' : 'NOT registered with a centre'}`,
    `queue: ${s.queue.pending} pending, ${s.queue.in_flight} in flight${s.queue.oldest_unsent_seq === null ? '' : `; oldest unsent #${s.queue.oldest_unsent_seq}, written ${age(s.queue.oldest_unsent_age_ms)}`}`,
    `journal: ${s.journal.records} records, head #${s.journal.head_seq ?? '-'}`,
    `feed: ${s.feed.message}; last sync ${age(s.last_sync_age_ms)}`,
    `backup: ${s.backup.latest ?? 'none yet'} in ${s.backup.dir} (${s.backup.count} kept)`,
    `disk: ${(s.disk.free_bytes / 2 ** 30).toFixed(1)} GiB free of ${(s.disk.total_bytes / 2 ** 30).toFixed(1)} GiB`,
  ];
}
