// `palmpay terminal` (what `npm start` runs). The work is in src/host/terminal.ts; this parses options.
import { CommanderError, InvalidArgumentError, Option, type Command } from 'commander';
import { LANGUAGES, type Language } from '../../api/schemas.ts';

export function registerTerminal(program: Command): void {
  const terminal = program
    .command('terminal')
    .description('run the counter terminal (Electron when installed, otherwise the browser kiosk)')
    .option('--data <dir>', 'data folder (default: the platform user-data folder)')
    .option('--port <n>', 'browser-mode port on 127.0.0.1 (0 picks a free one)', parsePort, 0)
    .option('--no-open', 'browser mode, serve only: open no window (tests, a screen elsewhere)')
    .option('--browser', 'use the browser kiosk even if Electron is installed')
    .addOption(new Option('--lang <code>', 'start in this language').choices(LANGUAGES))
    .option('--demo', 'seed a demo branch (operators, employees, a customer) into an empty data folder')
    .option('--scanner <spec>', 'auto | sim | serial:PATH | hid:VID:PID (over the data folder\'s terminal-config.json; --demo: sim)')
    .option('--centre <url>', 'the centre\'s URL, or embedded (over terminal-config.json, written at provisioning; --demo: embedded)')
    .option('--printer <spec>', 'receipt printer with the cash drawer: auto | none | serial:PATH[@BAUD] | /dev/usb/lpN | usb:VID:PID | tcp:HOST:PORT (ESC/POS; over terminal-config.json; default none: receipts.log; see palmpay printer list)')
    .option('--insecure-http', 'allow plain http to a centre that is not on this machine (shown on the status bar)')
    .option('--sim-images <dir>', 'the simulated scanner shows real palm images from this folder (CASIA layout <id>_l_940_<NN>.jpg) instead of synthetic palms')
    // Tests only (script the simulated scanner, inject faults): accepted but not shown in --help.
    .addOption(new Option('--test-hooks', 'TESTS ONLY: let the API script the simulated scanner and inject faults').hideHelp())
    .action(async (opts: { data?: string; port: number; open: boolean; browser?: boolean; lang?: Language; demo?: boolean; testHooks?: boolean; simImages?: string; scanner?: string; centre?: string; insecureHttp?: boolean; printer?: string }) => {
      const { runTerminal } = await import('../../host/terminal.ts');
      const { REPO_ROOT } = await import('../../util/repo-root.ts');
      const { palmpayVersion } = await import('../main.ts');
      const version = palmpayVersion();
      const code = await runTerminal({
        root: REPO_ROOT,
        version,
        data: opts.data,
        port: opts.port,
        open: opts.open,
        browser: Boolean(opts.browser),
        lang: opts.lang,
        demo: Boolean(opts.demo),
        testHooks: Boolean(opts.testHooks),
        simImages: opts.simImages,
        config: { scanner: opts.scanner, centre: opts.centre, insecureHttp: opts.insecureHttp, printer: opts.printer },
        say: (line) => console.log(line),
      });
      // Pass Electron's exit code through: main() returns a CommanderError's exitCode without printing.
      if (code !== 0) throw new CommanderError(code, 'palmpay.terminal.exit', '');
    });
  registerTerminalStatus(terminal);
  registerTerminalProvision(terminal);
  registerEnrolOperator(terminal);
}

/** `palmpay terminal enrol-operator`: the first operator's palm, with the centre's one-time code (the terminal stopped). */
export function registerEnrolOperator(terminal: Command): void {
  terminal
    .command('enrol-operator')
    .description("enrol a granted operator's palm with nobody signed in (a new counter's first operator), with the one-time code from `palmpay server operator enrol-code`; run with the terminal stopped")
    .requiredOption('--code <code>', 'the one-time operator enrolment code')
    .requiredOption('--name-ar <name>', "the operator's name in Arabic script")
    .requiredOption('--name-latin <name>', "the operator's name in Latin script")
    .requiredOption('--id-number <digits>', "the operator's ID number")
    .requiredOption('--phone <+number>', "the operator's phone, +country code")
    .requiredOption('--employer <code>', "the operator's employer code")
    .option('--consent', 'the operator has agreed to their palm being enrolled (required)')
    .addHelpText('after', '\n--data DIR, --scanner and --insecure-http are `palmpay terminal` options; the centre is the one the counter was provisioned for.')
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ data?: string; scanner?: string; insecureHttp?: boolean; code: string; nameAr: string; nameLatin: string; idNumber: string; phone: string; employer: string; consent?: boolean }>();
      const { resolve } = await import('node:path');
      const { defaultDataDir } = await import('../../util/paths.ts');
      const { enrolOperatorWithCode } = await import('../../host/enrol-operator.ts');
      const { lockDataFolder } = await import('../../host/data-lock.ts');
      const dataDir = resolve(opts.data ?? defaultDataDir());
      const release = await lockDataFolder(dataDir, 'palmpay terminal enrol-operator');
      const r = await enrolOperatorWithCode({
        dataDir,
        code: opts.code,
        draft: { nameAr: opts.nameAr, nameLatin: opts.nameLatin, idNumber: opts.idNumber, phone: opts.phone, employer: opts.employer, accountId: '' },
        consent: Boolean(opts.consent),
        flags: { scanner: opts.scanner, insecureHttp: opts.insecureHttp },
        say: (line) => process.stderr.write(`${line}\n`),
      }).finally(() => release());
      console.log(`operator ${r.operatorId} (${r.name}, ${r.role}) enrolled with code ${r.codeId}: left ${r.captures.left}, right ${r.captures.right} captures; ${r.uploaded ? (r.confirmed ? 'confirmed by the centre' : 'sent; the centre has not confirmed it yet') : 'queued for the centre'}`);
      console.log(`start the terminal; ${r.operatorId} signs in with their palm and the PIN the centre granted`);
    });
}

/** `palmpay terminal provision`: a technician's first start of a counter for its regional centre. */
export function registerTerminalProvision(terminal: Command): void {
  terminal
    .command('provision')
    .description('register this counter with its centre (one-time code from `palmpay server terminal add`), pin the centre key, pull the first feed')
    .requiredOption('--code <code>', 'the one-time registration code')
    .requiredOption('--terminal-id <id>', 'the terminal id printed with the code')
    .addHelpText('after', "\n--centre URL (required: the centre's https URL; http only to this machine), --data DIR and --insecure-http\nare `palmpay terminal` options: `palmpay terminal provision --centre URL --code CODE --terminal-id ID`.")
    // --centre, --data and --insecure-http are the parent's options (commander parses them there).
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ data?: string; centre?: string; code: string; terminalId: string; insecureHttp?: boolean }>();
      const { PalmPayError } = await import('../../util/errors.ts');
      if (!opts.centre) throw new PalmPayError('BAD_ARGUMENT', "provisioning needs --centre URL (the centre's https address)");
      const centreUrl = opts.centre;
      const { resolve } = await import('node:path');
      const { prepareDataDir } = await import('../../util/paths.ts');
      const { provisionWithCentre } = await import('../../host/provision.ts');
      const { lockDataFolder } = await import('../../host/data-lock.ts');
      const dataDir = prepareDataDir(opts.data ? resolve(opts.data) : undefined);
      const release = await lockDataFolder(dataDir, 'palmpay terminal provision');
      let last = '';
      const r = await provisionWithCentre({
        dataDir,
        centre: centreUrl,
        code: opts.code,
        terminalId: opts.terminalId,
        insecureHttp: Boolean(opts.insecureHttp),
        onProgress: (p) => {
          const line = p.phase === 'register' ? `registering with ${centreUrl}…` : `first feed: ${p.events} event(s)`;
          if (line !== last) process.stderr.write(`${line}\n`);
          last = line;
        },
      }).finally(() => release());
      console.log(`terminal ${r.terminalId} provisioned${r.createdIdentity ? ' (new identity)' : ''}: key ${r.publicKeyFingerprint}`);
      console.log(`centre ${r.centreUrl}, key ${r.centreKeyFingerprint} pinned; first feed: ${r.feedEvents} event(s)${r.feedError ? ` (incomplete: ${r.feedError}; the terminal keeps pulling it)` : ''}`);
      console.log(`start it with: palmpay terminal${opts.data ? ` --data ${dataDir}` : ''}`);
    });
}

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  return n;
}

/** `palmpay terminal status`: read-only, safe while the terminal runs. */
export function registerTerminalStatus(terminal: Command): void {
  terminal
    .command('status')
    .description("the counter's health from its data folder: identity, key protection, queue, feed age, backups, disk")
    .option('--json', 'print JSON')
    // --data is the parent's option (`palmpay terminal status --data DIR` parses it there).
    .action(async (_opts: unknown, cmd: Command) => {
      const opts = cmd.optsWithGlobals<{ data?: string; json?: boolean }>();
      const { resolve } = await import('node:path');
      const { defaultDataDir } = await import('../../util/paths.ts');
      const { readTerminalStatus, formatTerminalStatus } = await import('../../host/terminal-status.ts');
      const s = readTerminalStatus(resolve(opts.data ?? defaultDataDir()));
      console.log(opts.json ? JSON.stringify(s, null, 2) : formatTerminalStatus(s).join('\n'));
    });
}
