// `palmpay server …`: run the central reference server, and its admin commands (terminals, payroll, review, import).
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';
import { registerServerBilling, registerServerReport, registerServerSettlement } from './server-billing.ts';
import { registerServerReportAccess } from './server-report-access.ts';

const DB_HELP = 'database: sqlite:FILE (default <data>/centre.db) or postgres://…';

function poolSize(flag: string | undefined): number | undefined {
  const v = flag ?? process.env.PALMPAY_PG_POOL;
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 1000) throw new PalmPayError('BAD_ARGUMENT', `pool size must be 1…1000, got ${v}`);
  return n;
}

async function defaultDb(db: string | undefined, data: string | undefined): Promise<string> {
  if (db) return db;
  const { prepareDataDir } = await import('../../util/paths.ts');
  const { join } = await import('node:path');
  return `sqlite:${join(prepareDataDir(data), 'centre.db')}`;
}

/** Opens the centre's database for one admin command, closing it afterwards. */
export async function withCentral<T>(opts: { db?: string; data?: string }, fn: (c: import('../../server/service.ts').Central) => Promise<T>): Promise<T> {
  const { Central } = await import('../../server/service.ts');
  const central = await Central.open(await defaultDb(opts.db, opts.data));
  try {
    return await fn(central);
  } finally {
    await central.close();
  }
}

function positiveInt(v: string, flag: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new PalmPayError('BAD_ARGUMENT', `${flag} must be a positive whole number, got ${v}`);
  return n;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v), 2));
}

/** Reads the TLS pair; both or neither, each a readable PEM file. */
async function readTls(certFile: string | undefined, keyFile: string | undefined): Promise<{ cert: Buffer; key: Buffer } | undefined> {
  if (!certFile && !keyFile) return undefined;
  if (!certFile || !keyFile) throw new PalmPayError('BAD_ARGUMENT', '--tls-cert and --tls-key go together');
  const { readFileSync } = await import('node:fs');
  const read = (file: string, what: string) => {
    try {
      const pem = readFileSync(file);
      if (!pem.includes('-----BEGIN ')) throw new PalmPayError('TLS_FILE', `${what} ${file} is not a PEM file`);
      return pem;
    } catch (err) {
      if (err instanceof PalmPayError) throw err;
      throw new PalmPayError('TLS_FILE', `cannot read ${what} ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return { cert: read(certFile, 'certificate'), key: read(keyFile, 'private key') };
}

export function registerServer(program: Command): void {
  const server = program
    .command('server')
    .description('the central server and its admin commands')
    .option('--db <url>', DB_HELP)
    .option('--data <dir>', 'data folder for the default SQLite database')
    .option('--port <n>', 'port to listen on', '8470')
    .option('--host <address>', 'address to bind: loopback by default; any other needs --tls-cert/--tls-key or --insecure-http', '127.0.0.1')
    .option('--tls-cert <file>', 'PEM certificate chain: serve https natively')
    .option('--tls-key <file>', 'PEM private key of --tls-cert (keep it 0600)')
    .option('--insecure-http', 'serve plain http on a non-loopback address (only on a link you trust; terminals show it)')
    .option('--trust-proxy <addresses>', "reverse proxies (comma-separated addresses or CIDR ranges) whose X-Forwarded-For names the client")
    .option('--workers <n>', 'server processes sharing the port and the database (PostgreSQL); auto: one per core on PostgreSQL, one on SQLite', '1')
    .option('--pool <n>', 'PostgreSQL connections per process (default 10; env PALMPAY_PG_POOL)')
    .option('--upload-slots <n>', 'uploads each process works on at once; the rest wait their turn, so feed reads are not queued behind them (default 2)')
    .option('--upload-queue <n>', 'uploads each process lets wait for a slot; past them a terminal is answered 503 CENTRE_BUSY and sends again later, so a burst cannot grow memory without bound (default 128)')
    .option('--reports-per-minute <n>', "financial reports one terminal may ask for per minute, counted in the database (REPORT_RATE_LIMITED past it)", '6')
    .option('--reports-per-day <n>', 'financial reports one terminal may ask for per day', '200')
    .action(async (opts: { db?: string; data?: string; port: string; host: string; tlsCert?: string; tlsKey?: string; insecureHttp?: boolean; trustProxy?: string; workers: string; pool?: string; uploadSlots?: string; uploadQueue?: string; reportsPerMinute: string; reportsPerDay: string }) => {
      const listen = {
        port: Number(opts.port),
        host: opts.host,
        tls: await readTls(opts.tlsCert, opts.tlsKey),
        insecureHttp: Boolean(opts.insecureHttp),
        trustProxy: opts.trustProxy ? opts.trustProxy.split(',').map((a) => a.trim()).filter(Boolean) : [],
        storage: { poolMax: poolSize(opts.pool) },
        ...(opts.uploadSlots !== undefined ? { uploadSlots: positiveInt(opts.uploadSlots, '--upload-slots') } : {}),
        ...(opts.uploadQueue !== undefined ? { uploadQueue: positiveInt(opts.uploadQueue, '--upload-queue') } : {}),
        reportsPerMinute: positiveInt(opts.reportsPerMinute, '--reports-per-minute'),
        reportsPerDay: positiveInt(opts.reportsPerDay, '--reports-per-day'),
      };
      const db = await defaultDb(opts.db, opts.data);
      const { runCluster, workerCount } = await import('../../server/cluster.ts');
      const workers = workerCount(opts.workers, (await import('../../server/sql.ts')).isPostgresUrl(db));
      if (workers !== 1) {
        await runCluster({ db, workers, ...listen });
        return;
      }
      const { startServer } = await import('../../server/index.ts');
      const running = await startServer({ db, ...listen, say: (line) => console.log(line) });
      console.log(`palmpay server listening on ${running.url} (${running.central.repo.db.dialect})`);
      await new Promise<void>((resolve) => {
        const stop = () => {
          console.log('palmpay server: shutting down (finishing requests in flight)');
          void running.close().then(resolve);
        };
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
    });

  // --db and --data belong to `server` and reach every admin subcommand through optsWithGlobals().
  const g = (cmd: Command) => cmd.optsWithGlobals<{ db?: string; data?: string }>();

  server.command('migrate')
    .description('apply the pending numbered schema migrations (the server also applies them when it starts)')
    .option('--dry-run', 'list what would be applied, change nothing')
    .action(async (opts: { dryRun?: boolean }, cmd: Command) => {
      const { openSqlDb } = await import('../../server/sql.ts');
      const { migrate, pendingMigrations, SCHEMA_VERSION } = await import('../../server/migrations.ts');
      const db = await openSqlDb(await defaultDb(g(cmd).db, g(cmd).data), { poolMax: 1 });
      try {
        const { current, pending } = await pendingMigrations(db);
        console.log(`schema version ${current}; this server: ${SCHEMA_VERSION}`);
        if (pending.length === 0) return console.log('nothing to migrate');
        for (const m of pending) console.log(`${opts.dryRun ? 'would apply' : 'applying'} ${m.version}: ${m.name}`);
        if (opts.dryRun) return;
        const r = await migrate(db);
        console.log(`migrated ${r.from} → ${r.to}`);
      } finally {
        await db.close();
      }
    });

  const records = server.command('records').description('the monthly partitions of records on PostgreSQL: list, make the coming months, detach an old month to archive');
  records.command('months')
    .description('list the attached month partitions and their record counts (making the coming months first)')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const { ensureRecordMonths, listRecordMonths } = await import('../../server/record-months.ts');
      const months = await withCentral(g(cmd), async (c) => {
        await ensureRecordMonths(c.repo.db, Date.now());
        return listRecordMonths(c.repo.db);
      });
      if (opts.json) return console.log(JSON.stringify(months, null, 2));
      if (months.length === 0) return console.log('records are not partitioned here (SQLite keeps one table)');
      for (const m of months) console.log(`${m.month}  ${m.table}  ${m.rows} records`);
    });
  records.command('detach <month>')
    .description('detach one month (YYYY-MM, older than the last 3) into a plain table of the same name, to dump and drop')
    .action(async (month: string, _opts: unknown, cmd: Command) => {
      const { detachRecordMonth } = await import('../../server/record-months.ts');
      const r = await withCentral(g(cmd), (c) => detachRecordMonth(c.repo.db, month, Date.now()));
      console.log(`detached ${month}: table ${r.table} (${r.rows} records) is no longer part of records; archive it (pg_dump -t ${r.table}) and drop it`);
    });

  const terminal = server.command('terminal').description('terminals: add (one-time registration code), revoke, offline limits, list');
  terminal.command('add')
    .description('create a terminal and print its one-time registration code')
    .requiredOption('--name <name>', 'human name of the counter')
    .requiredOption('--branch <id>', 'branch the terminal serves (payroll vouchers are leased per branch)')
    .requiredOption('--region <id>', 'region (enrolments are delivered per region)')
    .option('--id <id>', 'terminal id (default: generated)')
    .action(async (opts: { name: string; branch: string; region: string; id?: string }, cmd: Command) => {
      const r = await withCentral(g(cmd), (c) => c.addTerminal({ id: opts.id, name: opts.name, branch: opts.branch, region: opts.region }));
      console.log(`terminal ${r.terminalId}: registration code ${r.code} (one use, expires ${new Date(r.expiresAt).toISOString()})`);
    });
  terminal.command('revoke <id>')
    .description('revoke a terminal: its uploads are refused from now on')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      await withCentral(g(cmd), (c) => c.revokeTerminal(id));
      console.log(`terminal ${id} revoked`);
    });
  terminal.command('limits <id>')
    .description("set a terminal's offline limits (minor units); they reach it in its signed feed, sealed and anchored there")
    .requiredOption('--per-transaction <list>', 'largest single offline purchase per currency, e.g. SYP=50000000,USD=10000')
    .requiredOption('--stored <list>', 'largest total of unsynced money records the terminal may hold, e.g. SYP=5000000000,USD=1000000')
    .requiredOption('--max-record-age-hours <h>', 'oldest an unsynced record may be before offline purchases stop')
    .requiredOption('--max-sync-age-hours <h>', 'longest time since the last sync before offline purchases stop')
    .action(async (id: string, opts: { perTransaction: string; stored: string; maxRecordAgeHours: string; maxSyncAgeHours: string }, cmd: Command) => {
      const perCurrency = (list: string) => Object.fromEntries(list.split(',').map((kv) => {
        const [k, v] = kv.split('=');
        return [k ?? '', /^\d+$/.test(v ?? '') ? Number(v) : Number.NaN];
      }));
      const hours = (h: string) => (/^\d+(\.\d+)?$/.test(h) ? Math.round(Number(h) * 3_600_000) : Number.NaN);
      const limits = {
        perTransactionMaxMinor: perCurrency(opts.perTransaction), terminalStoredMaxMinor: perCurrency(opts.stored),
        maxStoredRecordAgeMs: hours(opts.maxRecordAgeHours), maxSinceLastSyncMs: hours(opts.maxSyncAgeHours),
      };
      await withCentral(g(cmd), (c) => c.setTerminalLimits(id, limits));
      console.log(`limits of terminal ${id} set: they apply when it next pulls its feed`);
    });
  terminal.command('list')
    .description('list terminals')
    .option('--json', 'print JSON (one object per terminal)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await withCentral(g(cmd), (c) => c.listTerminals());
      if (opts.json) return printJson(rows.map((t) => ({ id: t.id, status: t.status, branch: t.branch, region: t.region, head_seq: t.head_seq, last_seen_ms: t.last_seen === null ? null : Number(t.last_seen) })));
      for (const t of rows) {
        console.log(`${t.id}\t${t.status}\tbranch=${t.branch}\tregion=${t.region}\thead=${t.head_seq}\tlast_seen=${t.last_seen ? new Date(Number(t.last_seen)).toISOString() : '-'}`);
      }
      if (rows.length === 0) console.log('no terminals');
    });

  const operator = server.command('operator').description("operators' roles at a terminal, granted here: they reach it in its signed feed; approvals are checked against them");
  operator.command('grant <terminal> <operator>')
    .description("grant an operator a role at a terminal (a supervisor's approvals are accepted only from a granted supervisor)")
    .requiredOption('--name <name>', "the operator's name as the counter shows it")
    .requiredOption('--role <role>', 'cashier, paymaster, enroller or supervisor')
    .option('--pin-stdin', "read the operator's PIN (4-12 digits) from the first line of standard input; it is sent only as a scrypt hash")
    .action(async (terminalId: string, operatorId: string, opts: { name: string; role: string; pinStdin?: boolean }, cmd: Command) => {
      let pinHash: string | undefined;
      if (opts.pinStdin) {
        const { hashPin } = await import('../../ledger/pin.ts');
        const chunks: Buffer[] = [];
        for await (const c of process.stdin) chunks.push(c as Buffer);
        pinHash = await hashPin(Buffer.concat(chunks).toString('utf8').split(/\r?\n/)[0] ?? '');
      }
      await withCentral(g(cmd), (c) => c.grantOperator(terminalId, { operatorId, name: opts.name, role: opts.role, active: true, ...(pinHash ? { pinHash } : {}) }));
      console.log(`operator ${operatorId} granted ${opts.role} at terminal ${terminalId}: it applies when the terminal next pulls its feed`);
    });
  operator.command('revoke <terminal> <operator>')
    .description('withdraw an operator from a terminal (signs in and approves nothing there once its feed is pulled)')
    .action(async (terminalId: string, operatorId: string, _opts: unknown, cmd: Command) => {
      await withCentral(g(cmd), async (c) => {
        const cur = (await c.listOperators()).find((o) => o.terminal_id === terminalId && o.operator_id === operatorId);
        if (!cur) throw new PalmPayError('OPERATOR_UNKNOWN', `operator ${operatorId} has no grant at terminal ${terminalId}`);
        await c.grantOperator(terminalId, { operatorId, name: cur.name, role: cur.role, active: false });
      });
      console.log(`operator ${operatorId} withdrawn from terminal ${terminalId}`);
    });
  operator.command('list')
    .description('list the operators granted at each terminal')
    .option('--json', 'print JSON (one object per grant)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await withCentral(g(cmd), (c) => c.listOperators());
      const out = rows.map((o) => ({ terminalId: o.terminal_id, operatorId: o.operator_id, name: o.name, role: o.role, active: Number(o.active) === 1 }));
      if (opts.json) return printJson(out);
      for (const o of out) console.log(`${o.terminalId}\t${o.operatorId}\t${o.role}\t${o.active ? 'active' : 'withdrawn'}\t${o.name}`);
      if (out.length === 0) console.log('no operators granted');
    });

  operator.command('enrol-code <terminal> <operator>')
    .description("a one-time code that lets the counter enrol this granted operator's palm with nobody signed in (`palmpay terminal enrol-operator`); shown once, stored hashed, replaces the pair's earlier code")
    .option('--ttl-hours <n>', 'hours the code may wait to be claimed (default 24)', '24')
    .action(async (terminalId: string, operatorId: string, opts: { ttlHours: string }, cmd: Command) => {
      const hours = Number(opts.ttlHours);
      if (!Number.isFinite(hours) || hours <= 0 || hours > 24 * 14) throw new PalmPayError('BAD_ARGUMENT', '--ttl-hours is a number of hours, above 0 and at most 336');
      const r = await withCentral(g(cmd), (c) => c.issueOperatorCode(terminalId, operatorId, Math.round(hours * 3600_000)));
      console.log(`operator ${operatorId} at terminal ${terminalId}: enrolment code ${r.code} (id ${r.codeId}; one use, expires ${new Date(r.expiresAt).toISOString()})`);
    });
  operator.command('enrol-codes')
    .description('list operator enrolment codes (never the codes themselves): open, claimed, used (by which record) or revoked')
    .option('--json', 'print JSON (one object per code)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await withCentral(g(cmd), (c) => c.listOperatorCodes());
      const out = rows.map((o) => ({ codeId: o.id, terminalId: o.terminal_id, operatorId: o.operator_id, status: o.status, expiresAt: new Date(Number(o.expires_at)).toISOString(), usedBy: o.used_by }));
      if (opts.json) return printJson(out);
      for (const o of out) console.log(`${o.codeId}\t${o.terminalId}\t${o.operatorId}\t${o.status}\t${o.expiresAt}${o.usedBy ? `\t${o.usedBy}` : ''}`);
      if (out.length === 0) console.log('no operator enrolment codes');
    });
  operator.command('enrol-code-revoke <codeId>')
    .description('withdraw an operator enrolment code not yet used (a claimed one too: its enrolment then goes to review)')
    .action(async (codeId: string, _opts: unknown, cmd: Command) => {
      await withCentral(g(cmd), (c) => c.revokeOperatorCode(codeId));
      console.log(`operator enrolment code ${codeId} revoked`);
    });

  server.command('payroll').command('import <file>')
    .description('import a payroll CSV (period,person,amount,currency,branch; amounts in minor units), all or nothing')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { readFileSync } = await import('node:fs');
      const csv = readFileSync(file, 'utf8');
      const r = await withCentral(g(cmd), (c) => c.importPayroll(csv));
      console.log(`imported ${r.vouchers} vouchers; leases: ${Object.entries(r.byTerminal).map(([t, n]) => `${t}=${n}`).join(' ')}`);
    });

  server.command('import <file>')
    .description('import signed records carried from a terminal (palmpay outbox export); idempotent with upload')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { readExport } = await import('../../sync/sneakernet.ts');
      const { header, records } = readExport(file);
      const byTerminal = await withCentral(g(cmd), (c) => c.importRecords(records));
      for (const [tid, results] of byTerminal) {
        const counts: Record<string, number> = {};
        for (const r of results) counts[r.status] = (counts[r.status] ?? 0) + 1;
        console.log(`${tid}: ${Object.entries(counts).map(([s, n]) => `${s}=${n}`).join(' ')}`);
        // Every record not applied as it stands, with why: refused (invalid, conflict, gap) or sent to review.
        for (const r of results) if (r.status !== 'accepted' && r.status !== 'duplicate') console.log(`${tid}#${r.seq ?? '?'}\t${r.status}\t${r.reason ?? ''}`);
      }
      console.log(`imported ${records.length} records exported by ${header.terminalId} at ${new Date(header.exportedAtMs).toISOString()}`);
    });

  const review = server.command('review').description('the supervisor review queue');
  review.command('list')
    .description('records and enrolments waiting for a supervisor')
    .option('--all', 'include resolved items')
    .option('--json', 'print JSON (one object per item)')
    .action(async (opts: { all?: boolean; json?: boolean }, cmd: Command) => {
      const rows = await withCentral(g(cmd), (c) => c.reviewList(Boolean(opts.all)));
      if (opts.json) return printJson(rows);
      for (const r of rows) console.log(`#${r.id}\t${r.kind}\t${r.terminal_id ?? '-'}#${r.seq ?? '-'}\t${r.reason}${r.resolved_at ? '\t(resolved)' : ''}`);
      if (rows.length === 0) console.log('review queue is empty');
    });

  review.command('resolve <id>')
    .description('mark a review item as handled')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const ok = await withCentral(g(cmd), (c) => c.resolveReview(Number(id)));
      console.log(ok ? `review item #${id} resolved` : `review item #${id} is unknown or already resolved`);
    });

  server.command('person').command('settle <personId> <decision>')
    .description('settle a possible duplicate enrolment: confirm (a distinct person) or revoke')
    .action(async (personId: string, decision: string, _opts: unknown, cmd: Command) => {
      if (decision !== 'confirm' && decision !== 'revoke') throw new PalmPayError('BAD_ARGUMENT', 'decision must be confirm or revoke');
      await withCentral(g(cmd), (c) => c.settlePerson(personId, decision));
      console.log(`person ${personId}: ${decision === 'confirm' ? 'confirmed' : 'revoked'}`);
    });

  server.command('statement <personId>')
    .description("a person's payouts and purchases, each traced to its signed record")
    .option('--json', 'print JSON')
    .action(async (personId: string, opts: { json?: boolean }, cmd: Command) => {
      const s = await withCentral(g(cmd), (c) => c.statement(personId));
      if (opts.json) return console.log(JSON.stringify(s, null, 2));
      console.log(`statement of ${s.personId} (${s.status})`);
      for (const l of [...s.salaryCredits, ...s.payouts, ...s.purchases]) console.log(`${new Date(l.at).toISOString()}\t${l.memo}\t${l.amountMinor} ${l.currency}\t${l.record ?? l.source}`);
      for (const b of s.balances) console.log(`balance ${b.account}: ${b.balanceMinor} ${b.currency}`);
    });

  const lease = server.command('lease').description("salary vouchers' leases: which counter may pay each one offline");
  lease.command('list')
    .description('unpaid salary vouchers and the terminal holding each lease (with --moving: only the moves waiting for the holder to give the lease back)')
    .option('--moving', 'only the lease moves that wait for the holder')
    .option('--json', 'print JSON (one object per voucher)')
    .action(async (opts: { moving?: boolean; json?: boolean }, cmd: Command) => {
      const rows = await withCentral(g(cmd), (c) => c.openVouchers(opts.moving === true));
      const out = rows.map((v) => ({ voucherId: v.id, period: v.period, personId: v.person_id, amountMinor: Number(v.amount), currency: v.currency, branch: v.branch, holder: v.lease_terminal, movingTo: v.lease_pending ?? null }));
      if (opts.json) return printJson(out);
      for (const v of out) console.log(`${v.voucherId}	${v.amountMinor} ${v.currency}	branch=${v.branch}	holder=${v.holder}${v.movingTo ? `	moving to ${v.movingTo} (waits for ${v.holder} to give it back)` : ''}`);
      if (out.length === 0) console.log(opts.moving ? 'no lease moves waiting' : 'no unpaid vouchers');
    });

  lease.command('move <voucherId> <terminalId>')
    .description("move a salary voucher's lease to another terminal of its branch: withdrawn from the holder, granted to the target once the holder gives it back unpaid (at its next sync); moving it back to the holder cancels a move still waiting")
    .action(async (voucherId: string, terminalId: string, _opts: unknown, cmd: Command) => {
      const r = await withCentral(g(cmd), (c) => c.moveLease(voucherId, terminalId));
      if (r.status === 'moved') console.log(`voucher ${voucherId} leased to ${terminalId} (lease ${r.leaseId}; the former holder is not active)`);
      else if (r.status === 'cancelled') console.log(`voucher ${voucherId}: the waiting move is cancelled, ${r.holder} keeps the lease`);
      else console.log(`voucher ${voucherId}: lease withdrawn from ${r.holder}; it goes to ${terminalId} when ${r.holder} gives it back unpaid at its next sync (if ${r.holder} paid it meanwhile, the move is void)`);
    });

  registerServerBilling(server);
  registerServerSettlement(server);
  registerServerReport(server);
  registerServerReportAccess(server);

  server.command('credit <accountId> <amountMinor> <currency>')
    .description('record a deposit into a customer account (minor units)')
    .action(async (accountId: string, amount: string, currency: string, _opts: unknown, cmd: Command) => {
      if (!/^-?\d+$/.test(amount)) throw new PalmPayError('CREDIT_INVALID', `amount must be an integer in minor units, got ${JSON.stringify(amount)}`);
      await withCentral(g(cmd), (c) => c.creditAccount(accountId, Number(amount), currency));
      console.log(`credited ${amount} ${currency} to ${accountId}`);
    });
}
