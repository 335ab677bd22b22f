// `palmpay server biller|bills|mandate|subscriber|settlement|report …`: the centre's bill registry (src/server/billing),
// the daily clearing and settlement (src/server/clearing) and each person's financial report (src/server/report).
import type { Command } from 'commander';
import { PalmPayError } from '../../util/errors.ts';
import { printJson, withCentral } from './server.ts';

type Globals = { db?: string; data?: string };
const g = (cmd: Command) => cmd.optsWithGlobals<Globals>();

async function withBilling<T>(cmd: Command, fn: (b: import('../../server/billing/billing.ts').Billing) => Promise<T>): Promise<T> {
  const { Billing } = await import('../../server/billing/billing.ts');
  return withCentral(g(cmd), (c) => fn(c.billing()));
}

/** `--person P` or `--account A`, exactly one. */
function payerOf(opts: { person?: string; account?: string }): { payerKind: 'person' | 'account'; payerId: string } {
  if (Boolean(opts.person) === Boolean(opts.account)) throw new PalmPayError('BAD_ARGUMENT', 'give exactly one of --person or --account');
  return opts.person ? { payerKind: 'person', payerId: opts.person } : { payerKind: 'account', payerId: opts.account! };
}

export function registerServerBilling(server: Command): void {
  const biller = server.command('biller').description('billers (e.g. the electricity company of a region): add, list');
  biller.command('add')
    .description('register a biller; its bills go to the terminals of its region')
    .requiredOption('--id <id>', 'biller id, e.g. elec-hasakah')
    .requiredOption('--name <name>', 'name shown on receipts and statements')
    .requiredOption('--region <id>', 'region whose terminals receive its bills')
    .action(async (opts: { id: string; name: string; region: string }, cmd: Command) => {
      const b = await withBilling(cmd, (x) => x.addBiller(opts));
      console.log(`biller ${b.id} (${b.name}) registered for region ${b.region}`);
    });
  biller.command('list')
    .description('list billers')
    .option('--json', 'print JSON (one object per biller)')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const rows = await withBilling(cmd, (x) => x.listBillers());
      if (opts.json) return printJson(rows.map((b) => ({ id: b.id, name: b.name, region: b.region, created_at_ms: b.created_at })));
      for (const b of rows) console.log(`${b.id}\tregion=${b.region}\t${b.name}`);
      if (rows.length === 0) console.log('no billers');
    });

  const bills = server.command('bills').description("the billers' bills: import, list");
  bills.command('import <file>')
    .description('import a bill CSV (biller,subscriber,bill,cycle,amount,currency,due,previous_reading,current_reading; amounts in minor units), all or nothing')
    .action(async (file: string, _opts: unknown, cmd: Command) => {
      const { readFileSync } = await import('node:fs');
      const csv = readFileSync(file, 'utf8');
      const r = await withBilling(cmd, (x) => x.importBills(csv));
      console.log(`imported ${r.bills} bills (import #${r.importId}): ${Object.entries(r.byBiller).map(([b, n]) => `${b}=${n}`).join(' ')}; direct debits: ${r.debited} paid, ${r.debitsFailed} failed`);
    });
  bills.command('list')
    .description('list bills, optionally of one biller, subscriber or status')
    .option('--biller <id>', 'only this biller')
    .option('--subscriber <number>', 'only this subscriber')
    .option('--status <status>', 'open or paid')
    .option('--json', 'print JSON (one object per bill)')
    .action(async (opts: { biller?: string; subscriber?: string; status?: string; json?: boolean }, cmd: Command) => {
      if (opts.status !== undefined && opts.status !== 'open' && opts.status !== 'paid') throw new PalmPayError('BAD_ARGUMENT', '--status is open or paid');
      const rows = await withBilling(cmd, (x) => x.listBills({ billerId: opts.biller, subscriber: opts.subscriber, status: opts.status as 'open' | 'paid' | undefined }));
      if (opts.json) {
        return printJson(rows.map((b) => ({
          biller: b.biller_id, bill: b.bill_id, subscriber: b.subscriber, cycle: b.cycle, amount_minor: b.amount, currency: b.currency, due_date: b.due_date,
          previous_reading: b.previous_reading, current_reading: b.current_reading, status: b.status, paid_by: b.paid_by, paid_at_ms: b.paid_at,
        })));
      }
      for (const b of rows) console.log(`${b.biller_id}\t${b.bill_id}\tsubscriber=${b.subscriber}\tcycle=${b.cycle}\t${b.amount} ${b.currency}\tdue=${b.due_date}\treading ${b.previous_reading}→${b.current_reading}\t${b.status}${b.paid_by ? ` by ${b.paid_by}` : ''}`);
      if (rows.length === 0) console.log('no bills');
    });

  const mandate = server.command('mandate').description("direct debit: a person's account pays a subscriber's bills on import, up to a maximum per bill");
  mandate.command('add')
    .description('register a mandate signed at the centre (the person must be linked to the subscriber)')
    .requiredOption('--person <id>', 'the confirmed customer whose account pays')
    .requiredOption('--biller <id>', 'biller id')
    .requiredOption('--subscriber <number>', "the biller's subscriber number")
    .requiredOption('--max <minor>', 'largest bill paid automatically, in minor units')
    .requiredOption('--currency <code>', 'SYP or USD')
    .option('--id <id>', 'mandate id (default: generated)')
    .action(async (opts: { person: string; biller: string; subscriber: string; max: string; currency: string; id?: string }, cmd: Command) => {
      if (!/^\d+$/.test(opts.max)) throw new PalmPayError('BAD_ARGUMENT', `--max is a whole number of minor units, got ${JSON.stringify(opts.max)}`);
      const { Mandates } = await import('../../server/billing/mandates.ts');
      const m = await withCentral(g(cmd), (c) => new Mandates(c.repo).add({ personId: opts.person, billerId: opts.biller, subscriber: opts.subscriber, maxMinor: Number(opts.max), currency: opts.currency, id: opts.id }));
      console.log(`mandate ${m.id}: account ${m.account_id} pays bills of subscriber ${m.subscriber} of ${m.biller_id} up to ${m.max_minor} ${m.currency}`);
    });
  mandate.command('cancel <id>')
    .description('cancel a mandate (no automatic debit from now on)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const { Mandates } = await import('../../server/billing/mandates.ts');
      const ok = await withCentral(g(cmd), (c) => new Mandates(c.repo).cancel(id));
      console.log(ok ? `mandate ${id} cancelled` : `mandate ${id} is unknown or already cancelled`);
    });
  mandate.command('list')
    .description('list mandates')
    .option('--person <id>', 'only this person')
    .option('--json', 'print JSON (one object per mandate)')
    .action(async (opts: { person?: string; json?: boolean }, cmd: Command) => {
      const { Mandates } = await import('../../server/billing/mandates.ts');
      const rows = await withCentral(g(cmd), (c) => new Mandates(c.repo).list({ personId: opts.person }));
      if (opts.json) return printJson(rows.map((m) => ({ id: m.id, person: m.person_id, account: m.account_id, biller: m.biller_id, subscriber: m.subscriber, max_minor: m.max_minor, currency: m.currency, status: m.status })));
      for (const m of rows) console.log(`${m.id}\t${m.status}\t${m.person_id}/${m.account_id}\t${m.biller_id} ${m.subscriber}\tmax ${m.max_minor} ${m.currency}`);
      if (rows.length === 0) console.log('no mandates');
    });
  mandate.command('debits')
    .description('direct debits made and failed (with why)')
    .option('--account <id>', 'only this account')
    .option('--json', 'print JSON (one object per debit)')
    .action(async (opts: { account?: string; json?: boolean }, cmd: Command) => {
      const { Mandates } = await import('../../server/billing/mandates.ts');
      const rows = await withCentral(g(cmd), (c) => new Mandates(c.repo).debits({ accountId: opts.account }));
      if (opts.json) return printJson(rows.map((d) => ({ mandate: d.mandate_id, biller: d.biller_id, bill: d.bill_id, account: d.account_id, amount_minor: d.amount, currency: d.currency, status: d.status, reason: d.reason, at_ms: d.created_at })));
      for (const d of rows) console.log(`${new Date(d.created_at).toISOString()}\t${d.mandate_id}\t${d.biller_id} ${d.bill_id}\t${d.amount} ${d.currency}\t${d.status}${d.reason ? `\t${d.reason}` : ''}`);
      if (rows.length === 0) console.log('no direct debits');
    });

  // ---- issue 17d: meter readings typed at the counters, forwarded to their biller ----
  const readings = server.command('readings').description('meter readings typed at the counters (re-checked at the centre): list, export to the biller');
  const readingJson = (x: import('../../server/billing/readings.ts').MeterReadingRow) => ({
    biller: x.biller_id, subscriber: x.subscriber, reading: x.reading, last_reading: x.last_reading, read_at: new Date(x.read_at).toISOString(),
    record: `${x.terminal_id}#${x.seq}`, person: x.person_id, approved_by: x.approved_by, exported_at: x.exported_at === null ? null : new Date(x.exported_at).toISOString(),
  });
  readings.command('list')
    .description('accepted readings (a reading below the last one was approved by a supervisor: approved_by)')
    .option('--biller <id>', 'only this biller')
    .option('--subscriber <number>', 'only this subscriber')
    .option('--json', 'print JSON (one object per reading)')
    .action(async (opts: { biller?: string; subscriber?: string; json?: boolean }, cmd: Command) => {
      const { Readings } = await import('../../server/billing/readings.ts');
      const rows = await withCentral(g(cmd), (c) => new Readings(c.repo).list({ billerId: opts.biller, subscriber: opts.subscriber }));
      if (opts.json) return printJson(rows.map(readingJson));
      for (const x of rows) console.log(`${x.biller_id}	${x.subscriber}	${x.last_reading ?? '?'}→${x.reading}	${new Date(x.read_at).toISOString()}	${x.terminal_id}#${x.seq}	${x.person_id}${x.approved_by ? `	approved by ${x.approved_by}` : ''}	${x.exported_at === null ? 'not exported' : 'exported'}`);
      if (rows.length === 0) console.log('no readings');
    });
  readings.command('export')
    .description("the biller's readings not yet exported, as CSV (biller,subscriber,reading,last_reading,read_at,record,person,approved_by); each reading is exported once")
    .requiredOption('--biller <id>', 'biller id')
    .option('--out <file>', 'write the CSV here (default: standard output)')
    .option('--json', 'print JSON instead of CSV')
    .action(async (opts: { biller: string; out?: string; json?: boolean }, cmd: Command) => {
      const { Readings, readingsCsv } = await import('../../server/billing/readings.ts');
      const rows = await withCentral(g(cmd), (c) => new Readings(c.repo).export(opts.biller));
      if (opts.json) return printJson(rows.map(readingJson));
      if (opts.out) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(opts.out, readingsCsv(rows));
        console.log(`${rows.length} readings of ${opts.biller} written to ${opts.out}`);
      } else process.stdout.write(readingsCsv(rows));
    });

  const subscriber = server.command('subscriber').description('who may pay which subscriber number: link, unlink, list');
  const linkOptions = (c: Command) => c
    .requiredOption('--biller <id>', 'biller id')
    .requiredOption('--subscriber <number>', "the biller's subscriber number")
    .option('--person <id>', 'an enrolled person (pays by palm and PIN)')
    .option('--account <id>', 'an account (its owner pays)');
  linkOptions(subscriber.command('link').description("let a person or an account pay a subscriber's bills"))
    .action(async (opts: { biller: string; subscriber: string; person?: string; account?: string }, cmd: Command) => {
      const p = payerOf(opts);
      const added = await withBilling(cmd, (x) => x.link({ billerId: opts.biller, subscriber: opts.subscriber, ...p }));
      console.log(`${p.payerKind} ${p.payerId} ${added ? 'may now pay' : 'already pays'} subscriber ${opts.subscriber} of ${opts.biller}`);
    });
  linkOptions(subscriber.command('unlink').description('remove a link'))
    .action(async (opts: { biller: string; subscriber: string; person?: string; account?: string }, cmd: Command) => {
      const p = payerOf(opts);
      const removed = await withBilling(cmd, (x) => x.unlink({ billerId: opts.biller, subscriber: opts.subscriber, ...p }));
      console.log(removed ? `link removed` : `no such link`);
    });
  subscriber.command('list')
    .description('list subscriber links')
    .option('--biller <id>', 'only this biller')
    .option('--subscriber <number>', 'only this subscriber')
    .option('--json', 'print JSON (one object per link)')
    .action(async (opts: { biller?: string; subscriber?: string; json?: boolean }, cmd: Command) => {
      const rows = await withBilling(cmd, (x) => x.listLinks({ billerId: opts.biller, subscriber: opts.subscriber }));
      if (opts.json) return printJson(rows.map((l) => ({ biller: l.biller_id, subscriber: l.subscriber, payer_kind: l.payer_kind, payer_id: l.payer_id })));
      for (const l of rows) console.log(`${l.biller_id}\t${l.subscriber}\t${l.payer_kind}=${l.payer_id}`);
      if (rows.length === 0) console.log('no links');
    });
}

export function registerServerSettlement(server: Command): void {
  const settlement = server.command('settlement')
    .description("settle a UTC day: each participant's net position from the ledger, a signed settlement file and a CSV per participant")
    .option('--date <YYYY-MM-DD>', 'the day to settle (it must have ended; earlier days with transactions first)')
    .option('--out <dir>', 'write the signed settlement file and the participant CSVs here')
    .option('--json <file>', 'write the positions as JSON to FILE')
    .action(async (opts: { date?: string; out?: string; json?: string }, cmd: Command) => {
      if (!opts.date) throw new PalmPayError('BAD_ARGUMENT', '--date YYYY-MM-DD is required');
      const { settleDay } = await import('../../server/clearing/settlement.ts');
      const s = await withCentral(g(cmd), (c) => settleDay(c.repo, c.identity, opts.date!, Date.now()));
      const b = s.file.body;
      console.log(`settlement of ${b.date} ${s.fresh ? 'made' : 'as settled before'} (${new Date(b.settled_at_ms).toISOString()}): ${b.txns} transactions, centre key ${b.centre_key}`);
      for (const p of b.positions) console.log(`${p.participant}\t${p.kind}\t${p.currency}\tcredit=${p.credit_minor}\tdebit=${p.debit_minor}\tnet=${p.net_minor}`);
      for (const t of b.totals) console.log(`total ${t.currency}: net ${t.net_minor}`);
      for (const l of b.late) console.log(`late: txn ${l.txn} ${l.note}`);
      if (opts.out) {
        const { writeSettlement } = await import('../../server/clearing/files.ts');
        const paths = writeSettlement(opts.out, s);
        console.log(`wrote ${paths.length} files to ${opts.out}`);
      }
      if (opts.json) {
        const { writeFileSync } = await import('node:fs');
        writeFileSync(opts.json, `${JSON.stringify({ ...b, fresh: s.fresh }, null, 2)}\n`);
      }
    });
  settlement.command('verify <file>')
    .description("a participant's check: the settlement file is signed by the centre's key, and each CSV given is the one it signed")
    .requiredOption('--key <hex>', "the centre's public key, as you received it from the centre (palmpay server settlement key)")
    .option('--csv <files...>', 'participant CSV files to check against the settlement')
    .action(async (file: string, opts: { key: string; csv?: string[] }) => {
      const { readFileSync } = await import('node:fs');
      const { basename } = await import('node:path');
      const { verifySettlement } = await import('../../server/clearing/settlement.ts');
      const body = verifySettlement(readFileSync(file, 'utf8'), opts.key.toLowerCase(), (opts.csv ?? []).map((f) => ({ name: basename(f), text: readFileSync(f, 'utf8') })));
      console.log(`settlement of ${body.date}: signature valid (centre key ${opts.key.slice(0, 16)}…); ${(opts.csv ?? []).length} CSV file(s) match`);
    });
  settlement.command('key')
    .description("print the centre's public key (hex), to give to participants for `settlement verify`")
    .action(async (_opts: unknown, cmd: Command) => {
      console.log(await withCentral(g(cmd), async (c) => c.identity.publicKeyHex));
    });
}

export function registerServerReport(server: Command): void {
  server.command('report <personId>')
    .description("a person's electronic financial report for a month: opening balance, every movement signed, fees 0, closing balance")
    .requiredOption('--month <YYYY-MM>', 'the month (UTC)')
    .option('--json <file>', 'write the report as JSON to FILE')
    .option('--html <file>', 'write the printable HTML to FILE (print it, or print it to PDF in a browser)')
    .option('--pdf <file>', 'write the same printable page as a PDF to FILE (headless Chromium: PALMPAY_BROWSER or an installed one)')
    .option('--lang <lang>', 'language of the HTML and PDF: en, ar (right to left) or ku', 'en')
    .action(async (personId: string, opts: { month: string; json?: string; html?: string; pdf?: string; lang: string }, cmd: Command) => {
      const { REPORT_LANGUAGES, reportHtml, formatMinor } = await import('../../server/report/html.ts');
      if (!(REPORT_LANGUAGES as readonly string[]).includes(opts.lang)) throw new PalmPayError('BAD_ARGUMENT', `--lang is one of ${REPORT_LANGUAGES.join(', ')}`);
      const { personReport } = await import('../../server/report/report.ts');
      const rep = await withCentral(g(cmd), (c) => personReport(c.repo, personId, opts.month));
      console.log(`financial report of ${rep.person} (${rep.status}) for ${rep.month}`);
      for (const a of rep.accounts) {
        console.log(`${a.account} ${a.currency}: opening ${formatMinor(a.opening_minor)}`);
        for (const m of a.movements) console.log(`  ${new Date(m.at).toISOString()}\t${m.kind}${m.period ? ` ${m.period}` : ''}\t${formatMinor(m.amount_minor, true)}\t${m.reference}\tbalance ${formatMinor(m.balance_after_minor)}`);
        console.log(`  fees ${formatMinor(a.fees_minor)}; closing ${formatMinor(a.closing_minor)}`);
      }
      const { writeFileSync } = await import('node:fs');
      if (opts.json) writeFileSync(opts.json, `${JSON.stringify(rep, null, 2)}\n`, { mode: 0o600 });
      if (opts.html) writeFileSync(opts.html, reportHtml(rep, opts.lang as (typeof REPORT_LANGUAGES)[number]), { mode: 0o600 });
      if (opts.pdf) {
        const { htmlToPdf } = await import('../../host/html-pdf.ts');
        writeFileSync(opts.pdf, await htmlToPdf(reportHtml(rep, opts.lang as (typeof REPORT_LANGUAGES)[number])), { mode: 0o600 });
        console.log(`PDF written to ${opts.pdf}`);
      }
    });
}
