// The scanner check's port (src/flows/scanner-check.ts) over the kiosk's scanner: the device's own identity
// (ScannerClient.info), and one capture test — wait for a palm, capture, judge the frame with the same extractor
// a payment uses, and hand back a small JPEG preview. Nothing is matched, recorded or kept.
import { encodeGreyJpeg } from '../../../drivers/util/image-file.ts';
import { downsample } from '../../biometrics/index.ts';
import type { ScannerCheckPort } from '../../flows/ports.ts';
import type { ScannerIdentity, ScannerTest } from '../../flows/scanner-check.ts';
import { PalmPayError } from '../../util/errors.ts';
import { templateFromFrame } from './palm.ts';
import type { KioskScanner } from './scanner.ts';

/** Longest wait for a palm in a capture test (the technician lays one after pressing the button). */
const PALM_WAIT_MS = 30_000;
/** The preview's widest side: small enough for the screen and the API socket, enough to see a hand. */
const PREVIEW_SIDE = 240;

export function scannerCheckPort(scanner: KioskScanner, now: () => number = () => performance.now()): ScannerCheckPort {
  const connected = () => {
    const c = scanner.client();
    if (!c || scanner.state() === 'disconnected') throw new PalmPayError('SCANNER_DISCONNECTED', `no scanner answers (${scanner.description()}): check its cable`);
    return c;
  };
  return {
    async identify(signal): Promise<ScannerIdentity> {
      const info = await connected().info({ signal });
      return {
        transport: scanner.kind, where: scanner.description(), model: info.model, serial: info.serial, firmware: info.firmware,
        captures: info.captures, width: info.width, height: info.height, capabilities: info.capabilities ?? [], users: info.users ?? null,
      };
    },
    async testCapture(signal): Promise<ScannerTest> {
      const c = connected();
      const info = await c.info({ signal });
      const t0 = now();
      if (info.captures === 'none') {
        // A module that matches on its own gives no image: its state is what there is to see.
        const status = await c.moduleStatus({ signal });
        return { ok: true, captureMs: Math.round(now() - t0), frame: null, moduleStatus: status };
      }
      // Scanners that report a hand wait for it; a family module without PP_STATUS captures when asked.
      if (info.captures === 'frame') await c.waitForPalm({ signal, timeoutMs: PALM_WAIT_MS }).catch((err: unknown) => {
        if ((err as { code?: string }).code !== 'CAPABILITY_MISSING') throw err;
      });
      const cap = await c.capture({ signal, want: 'frame' });
      const captureMs = Math.round(now() - t0);
      if (cap.kind !== 'frame') return { ok: false, code: 'SCANNER_NO_IMAGE', message: 'the scanner answered with a feature, not an image' };
      const frame = { width: cap.width, height: cap.height, pixels: cap.pixels };
      const read = templateFromFrame(frame, 'unknown', 'verify');
      const small = downsample(frame, Math.max(1, Math.ceil(Math.max(frame.width, frame.height) / PREVIEW_SIDE)));
      const preview = `data:image/jpeg;base64,${Buffer.from(encodeGreyJpeg(small, 80)).toString('base64')}`;
      return { ok: true, captureMs, frame: { width: cap.width, height: cap.height, verdict: read.ok ? 'ok' : read.reason, quality: Math.round((read.quality ?? 0) * 100) / 100, preview }, moduleStatus: null };
    },
  };
}
