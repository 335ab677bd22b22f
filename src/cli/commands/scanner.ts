// `palmpay scanner list|info|capture|enrol|verify|users|delete`: a technician's checks at the counter, on a real
// or simulated scanner. enrol/verify/users/delete work on a serial palm module's own user table (EF AA family);
// they are how a new module is tried before it goes into service (drivers/README.md).
import type { Command } from 'commander';

interface Target {
  port?: string;
  hid?: string;
  timeout: string;
}

async function open(t: Target) {
  const { createScanner } = await import('../../../drivers/index.ts');
  const { PalmPayError } = await import('../../util/errors.ts');
  if (!t.port === !t.hid) throw new PalmPayError('CONFIG_INVALID', 'give exactly one of --port PATH or --hid VID:PID');
  return createScanner(t.port ? { kind: 'serial', path: t.port } : { kind: 'hid', usbId: t.hid }, { openTimeoutMs: Number(t.timeout) });
}

export function registerScanner(program: Command): void {
  const scanner = program.command('scanner').description('check a palm scanner (serial palm module or USB HID image scanner)');
  const withModule = (c: Command) =>
    c.requiredOption('--port <path>', 'serial port of a palm module (e.g. /dev/ttyACM0, or the path `palmpay sim serial` printed)').option('--timeout <ms>', 'open timeout', '5000');
  const withTarget = (c: Command) =>
    c.option('--port <path>', 'serial port of a palm module (e.g. /dev/ttyACM0, or the path `palmpay sim serial` printed)').option('--hid <vid:pid>', 'USB HID image scanner, e.g. 1d50:6150').option('--timeout <ms>', 'open and call timeout', '5000');

  scanner
    .command('list')
    .description('list serial ports and HID devices, marking the ones PalmPay knows and what --scanner auto would take')
    .option('--json', 'print JSON to stdout')
    .action(async (opts: { json?: boolean }) => {
      const { listScanners } = await import('../../host/adapters/scanner.ts');
      const l = await listScanners();
      if (opts.json) return console.log(JSON.stringify(l, null, 2));
      const known = (k: boolean) => (k ? ' (known)' : '');
      for (const p of l.serial_ports) console.log(`serial ${p.path} ${p.usb_id ?? '----:----'} ${p.manufacturer ?? ''}${known(p.known_bridge)}`.trim());
      if (l.hid_error) console.error(`HID: ${l.hid_error}`);
      for (const d of l.hid_devices) console.log(`hid ${d.usb_id} ${d.product ?? ''} ${d.path ?? ''}${known(d.known_vendor)}`.trim());
      console.log(`--scanner auto would take: ${l.auto_would_pick ?? 'nothing yet (no known scanner plugged in)'}`);
    });

  withTarget(scanner.command('info').description('print what the scanner says about itself: version, capabilities, user count'))
    .option('--json <file>', 'also write the answer as JSON to this file')
    .action(async (t: Target & { json?: string }) => {
      await withScanner(t, async (s) => {
        const info = await s.client.info({ timeoutMs: Number(t.timeout) });
        if (t.json) {
          const { writeFileSync } = await import('node:fs');
          writeFileSync(t.json, JSON.stringify({ ...info, trailing_bytes: s.client.stats.trailingBytes }, null, 1) + '\n');
        }
        if (info.kind === 'serial-module') {
          console.log(`module: ${info.version}`);
          if (info.serial) console.log(`model ${info.model}, serial ${info.serial}, firmware ${info.firmware}`);
          console.log(`capabilities: ${(info.capabilities ?? []).join(', ')}`);
          console.log(`captures: ${info.captures}${info.width ? ` (${info.width}×${info.height})` : ''}`);
          console.log(`users on the module: ${info.users ?? 'unknown (GET_ALL_USERID not answered)'}`);
        } else console.log(JSON.stringify(info));
      });
    });

  withModule(scanner.command('enrol').description("enrol a palm on a serial module's own table; prints the module's user id"))
    .requiredOption('--user <id>', "the pseudonymous id stored as the module's user_name (never a person's name)")
    .option('--wait <ms>', 'how long the module waits for a palm', '10000')
    .action(async (t: Target & { user: string; wait: string }) => {
      await withScanner(t, async (s) => {
        console.error('lay a palm on the module…');
        const r = await s.client.enrol({ name: t.user, timeoutS: Math.ceil(Number(t.wait) / 1000) });
        console.log(`enrolled: module user id ${r.userId} (${t.user})${r.reconciled ? ' — the reply was lost; found in the module table' : ''}`);
        if (r.orphansDeleted.length) console.log(`deleted duplicate entries left by the lost reply: ${r.orphansDeleted.join(', ')}`);
      });
    });

  withModule(scanner.command('verify').description("identify a palm on the module: prints the module's user id and pseudonymous id, or the refusal"))
    .option('--wait <ms>', 'how long to wait for a palm', '10000')
    .action(async (t: Target & { wait: string }) => {
      await withScanner(t, async (s) => {
        console.error('lay a palm on the module…');
        const v = await s.client.verify({ palmTimeoutS: Math.ceil(Number(t.wait) / 1000) });
        console.log(`module says: user ${v.userId} (${v.name})${v.admin ? ' admin' : ''}`);
        console.log(`this is the module's claim, not a proof: ${v.evidence ? 'a capture feature was read for the host to match' : v.why}`);
      });
    });

  withModule(scanner.command('users').description("list the module's user table"))
    .option('--json', 'print JSON')
    .action(async (t: Target & { json?: boolean }) => {
      await withScanner(t, async (s) => {
        const users = await s.client.users();
        if (t.json) console.log(JSON.stringify(users.map((u) => ({ user_id: u.userId, user_name: u.name, admin: u.admin }))));
        else {
          for (const u of users) console.log(`${String(u.userId).padStart(5)}  ${u.name}${u.admin ? '  (admin)' : ''}`);
          console.log(`${users.length} user(s)`);
        }
      });
    });

  withModule(scanner.command('delete').description('delete one user (--user N) or every user (--all) from the module'))
    .option('--user <n>', "the module's user id")
    .option('--all', 'delete every user')
    .action(async (t: Target & { user?: string; all?: boolean }) => {
      const { PalmPayError } = await import('../../util/errors.ts');
      const id = Number(t.user);
      if (!t.all === (t.user === undefined)) throw new PalmPayError('CONFIG_INVALID', 'give exactly one of --user N or --all');
      if (!t.all && !(Number.isInteger(id) && id >= 0 && id <= 0xffff)) throw new PalmPayError('CONFIG_INVALID', `--user wants a module user id 0–65535, got '${t.user}'`);
      await withScanner(t, async (s) => {
        if (t.all) await s.client.deleteAll();
        else await s.client.deleteUser(id);
        console.log(t.all ? 'deleted every user' : `deleted user ${id}`);
      });
    });

  withTarget(scanner.command('capture').description('wait for a palm and capture a frame (or a module feature)'))
    .option('--out <file>', 'write the frame as PNG (a feature as raw bytes)')
    .option('--wait <ms>', 'how long to wait for a palm', '30000')
    .option('--feature', 'ask a serial module for its feature instead of the image')
    .action(async (t: Target & { out?: string; wait: string; feature?: boolean }) => {
      const { writeFileSync } = await import('node:fs');
      await withScanner(t, async (s) => {
        console.error('lay a palm on the scanner…');
        // A module without our status extension reports a palm only during a task: its snap waits itself.
        await s.client.waitForPalm({ timeoutMs: Number(t.wait) }).catch((err: unknown) => {
          if ((err as { code?: string }).code !== 'CAPABILITY_MISSING') throw err;
        });
        const t0 = performance.now();
        const cap = await s.client.capture({ timeoutMs: Number(t.timeout), want: t.feature ? 'feature' : undefined });
        const ms = Math.round(performance.now() - t0);
        if (cap.kind === 'frame') {
          console.log(`frame ${cap.width}×${cap.height} in ${ms} ms`);
          if (t.out) {
            const { PNG } = await import('pngjs');
            const png = new PNG({ width: cap.width, height: cap.height });
            for (let i = 0; i < cap.pixels.length; i++) {
              png.data[i * 4] = png.data[i * 4 + 1] = png.data[i * 4 + 2] = cap.pixels[i]!;
              png.data[i * 4 + 3] = 255;
            }
            writeFileSync(t.out, PNG.sync.write(png));
          }
        } else {
          console.log(`feature of ${cap.bytes.length} bytes in ${ms} ms`);
          if (t.out) writeFileSync(t.out, cap.bytes);
        }
        if (t.out) console.log(`wrote ${t.out}`);
      });
    });
}

/** Opens the scanner, runs `fn`, closes it; prints recovered wire faults and module notices; errors as one line. */
async function withScanner(t: Target, fn: (s: Awaited<ReturnType<typeof open>>) => Promise<void>): Promise<void> {
  const { PalmPayError } = await import('../../util/errors.ts');
  try {
    const s = await open(t);
    s.client.on('notice', (n) => console.error(`note: ${n}`));
    try {
      await fn(s);
      const faults = Object.entries(s.client.stats.faults);
      if (faults.length) console.error(`wire faults recovered: ${faults.map(([k, v]) => `${k}×${v}`).join(', ')}; retries ${s.client.stats.retries}`);
    } finally {
      await s.close();
    }
  } catch (err) {
    throw toCliError(err, PalmPayError);
  }
}

/** Driver errors carry a stable `code` but are not PalmPayErrors (drivers/ cannot import src/): convert for the one-line print. */
export function toCliError(err: unknown, PalmPayError: typeof import('../../util/errors.ts').PalmPayError): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string' && !(err instanceof PalmPayError)) return new PalmPayError(code, `${code}: ${err.message}`, { cause: err });
  return err;
}
