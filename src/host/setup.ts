// The technician's setup screen, host side. A counter started without a centre (not --demo, nothing in
// terminal-config.json) answers `setup.*` instead of running the kiosk flows: the screen runs the same provisioning
// as `palmpay terminal provision` (provision.ts), with its progress pushed as events. Once it succeeds the kiosk
// starts on the configuration provisioning wrote; from then on the screen is closed (re-provisioning is the
// command's job, never something anyone at the counter can start). A failure changes nothing and may be retried.
import { existsSync } from 'node:fs';
import type { SetupProgress, SetupProvisionInput, SetupResult, SetupView } from '../api/setup.ts';
import { keyFilePath, readPublicIdentity } from '../ledger/keystore.ts';
import { PalmPayError } from '../util/errors.ts';
import type { Logger } from '../util/log.ts';
import { provisionWithCentre } from './provision.ts';
import { readConfigFile, resolveConfig, type ConfigFlags, type TerminalConfig } from './terminal-config.ts';

export interface SetupPartOptions {
  dataDir: string;
  log: Logger;
  emit(progress: SetupProgress): void;
  /** The command line's flags (`--scanner`, `--insecure-http`): they still apply over what provisioning writes. */
  flags: Omit<ConfigFlags, 'demo'>;
}

export interface SetupPart {
  handlers: {
    'setup.get': () => SetupView;
    'setup.provision': (input: SetupProvisionInput) => Promise<SetupResult>;
  };
  /** Resolves with the configuration to run on once provisioning has succeeded. */
  provisioned: Promise<TerminalConfig>;
}

export function startSetupPart(o: SetupPartOptions): SetupPart {
  let busy = false;
  let done = false;
  let finish!: (c: TerminalConfig) => void;
  const provisioned = new Promise<TerminalConfig>((resolve) => (finish = resolve));
  const existingId = () => (existsSync(keyFilePath(o.dataDir)) ? readPublicIdentity(o.dataDir).terminalId : null);
  o.log.warn('SETUP: no centre configured; the technician\'s setup screen is shown until this counter is provisioned');

  return {
    handlers: {
      'setup.get': () => ({ needed: !done, terminalId: existingId(), busy }),
      'setup.provision': async (input) => {
        if (done) throw new PalmPayError('SETUP_DONE', 'this counter is already provisioned: re-provision with palmpay terminal provision');
        if (busy) throw new PalmPayError('SETUP_BUSY', 'a provisioning is already running');
        busy = true;
        o.log.info({ centre: input.centre, terminalId: input.terminalId }, 'setup: provisioning from the setup screen');
        try {
          const r = await provisionWithCentre({
            dataDir: o.dataDir,
            centre: input.centre,
            code: input.code,
            terminalId: input.terminalId,
            insecureHttp: Boolean(input.insecureHttp || o.flags.insecureHttp),
            onProgress: (p) => o.emit(p),
          });
          // The same resolution as a start: the file provisioning wrote, under the command line's flags.
          const config = resolveConfig(readConfigFile(o.dataDir), { ...o.flags, centre: undefined });
          done = true;
          o.log.info({ terminalId: r.terminalId, key: r.publicKeyFingerprint, centre: r.centreUrl, centreKey: r.centreKeyFingerprint, feedEvents: r.feedEvents }, 'setup: provisioned; starting the kiosk');
          finish(config);
          return r;
        } catch (err) {
          o.log.warn({ code: (err as PalmPayError).code, err: (err as Error).message }, 'setup: provisioning refused; nothing changed');
          throw err;
        } finally {
          busy = false;
        }
      },
    },
    provisioned,
  };
}
