// `palmpay scanner list|info|capture`: a technician's checks at the counter, on a real or simulated scanner.
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
  const withTarget = (c: Command) =>
    c.option('--port <path>', 'serial port of a palm module (e.g. /dev/ttyACM0, or the path `palmpay sim serial` printed)').option('--hid <vid:pid>', 'USB HID image scanner, e.g. 1d50:6150').option('--timeout <ms>', 'open and call timeout', '5000');

  scanner
    .command('list')
    .description('list serial ports and HID devices')
    .action(async () => {
      const { listSerialPorts, listHidDevices } = await import('../../../drivers/index.ts');
      const hex = (n?: number) => (n === undefined ? '----' : n.toString(16).padStart(4, '0'));
      for (const p of await listSerialPorts()) console.log(`serial ${p.path} ${hex(p.vendorId)}:${hex(p.productId)} ${p.manufacturer ?? ''}`.trim());
      const hid = await listHidDevices().catch((err: unknown) => {
        console.error(`HID: ${err instanceof Error ? err.message : String(err)}`);
        return [];
      });
      for (const d of hid) console.log(`hid ${hex(d.vendorId)}:${hex(d.productId)} ${d.product ?? ''} ${d.path ?? ''}`.trim());
    });

  withTarget(scanner.command('info').description('print what the scanner says about itself')).action(async (t: Target) => {
    const { PalmPayError } = await import('../../util/errors.ts');
    try {
      const s = await open(t);
      try {
        console.log(JSON.stringify(await s.client.info({ timeoutMs: Number(t.timeout) })));
      } finally {
        await s.close();
      }
    } catch (err) {
      throw toCliError(err, PalmPayError);
    }
  });

  withTarget(scanner.command('capture').description('wait for a palm and capture a frame (or a module feature)'))
    .option('--out <file>', 'write the frame as PNG (a feature as raw bytes)')
    .option('--wait <ms>', 'how long to wait for a palm', '30000')
    .option('--feature', 'ask a serial module for its feature instead of the image')
    .action(async (t: Target & { out?: string; wait: string; feature?: boolean }) => {
      const { PalmPayError } = await import('../../util/errors.ts');
      const { writeFileSync } = await import('node:fs');
      try {
        const s = await open(t);
        try {
          console.error('lay a palm on the scanner…');
          await s.client.waitForPalm({ timeoutMs: Number(t.wait) });
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
          const faults = Object.entries(s.client.stats.faults);
          if (faults.length) console.error(`wire faults recovered: ${faults.map(([k, v]) => `${k}×${v}`).join(', ')}; retries ${s.client.stats.retries}`);
        } finally {
          await s.close();
        }
      } catch (err) {
        throw toCliError(err, PalmPayError);
      }
    });
}

/** Driver errors carry a stable `code` but are not PalmPayErrors (drivers/ cannot import src/): convert for the one-line print. */
export function toCliError(err: unknown, PalmPayError: typeof import('../../util/errors.ts').PalmPayError): unknown {
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && typeof code === 'string' && !(err instanceof PalmPayError)) return new PalmPayError(code, `${code}: ${err.message}`, { cause: err });
  return err;
}
