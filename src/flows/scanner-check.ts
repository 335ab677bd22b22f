// The technician's scanner check (issue 14): which scanner is in use (model, firmware, transport, what it can do),
// its state, and a capture test — one frame judged by the same extractor a payment uses, shown small on screen, or
// for a module that matches on its own, the module's state. Nothing is recorded, matched or kept. Supervisor only.
import { go, stay, type Step } from './machine.ts';

/** What the scanner says it is (ScannerClient.info), for the screen. */
export interface ScannerIdentity {
  transport: 'simulated' | 'serial' | 'hid';
  /** Where: the serial path or USB id, as the status bar shows it. */
  where: string;
  model: string;
  serial: string;
  firmware: string;
  /** What a capture returns: a frame (image scanners), a feature, or nothing (a module that matches on its own). */
  captures: 'frame' | 'feature' | 'none';
  width: number;
  height: number;
  /** Serial modules: what discovery found (drivers/PROTOCOL.md table 2). */
  capabilities: string[];
  /** Serial modules: users in the module's table, when it answered. */
  users: number | null;
}

/** One capture test: how long the scanner took, what the extractor made of the frame, and a small preview. */
export type ScannerTest =
  | {
      ok: true;
      captureMs: number;
      /** A frame: its size, and the extractor's verdict on it ('ok' or the failure-to-acquire reason). */
      frame: { width: number; height: number; verdict: string; quality: number; preview: string } | null;
      /** A module without images: its GETSTATUS answer. */
      moduleStatus: string | null;
    }
  | { ok: false; code: string; message: string };

type Body =
  | { step: 'reading' }
  | { step: 'ready'; identity: ScannerIdentity; last: ScannerTest | null }
  | { step: 'testing'; identity: ScannerIdentity; last: ScannerTest | null }
  | { step: 'unavailable'; code: string; message: string }
  | { step: 'finished' };

export type ScannerCheckState = Body & { operatorId: string };

export type ScannerCheckEvent =
  | { type: 'scanner.identified'; identity: ScannerIdentity }
  | { type: 'scanner.unavailable'; code: string; message: string }
  | { type: 'scanner.tested'; result: ScannerTest }
  | { type: 'capture.test' }
  | { type: 'retry' }
  | { type: 'cancel' }
  | { type: 'done' };

export type ScannerCheckEffect = { type: 'identifyScanner' } | { type: 'testCapture' };

export function startScannerCheck(operatorId: string): Step<ScannerCheckState, ScannerCheckEffect> {
  return go({ step: 'reading', operatorId }, { type: 'identifyScanner' });
}

export function reduceScannerCheck(s: ScannerCheckState, e: ScannerCheckEvent): Step<ScannerCheckState, ScannerCheckEffect> {
  const to = (b: Body, ...fx: ScannerCheckEffect[]): Step<ScannerCheckState, ScannerCheckEffect> => go({ ...b, operatorId: s.operatorId }, ...fx);
  if (e.type === 'cancel' || e.type === 'done') return s.step === 'finished' ? stay(s) : to({ step: 'finished' });
  switch (s.step) {
    case 'reading':
      if (e.type === 'scanner.identified') return to({ step: 'ready', identity: e.identity, last: null });
      if (e.type === 'scanner.unavailable') return to({ step: 'unavailable', code: e.code, message: e.message });
      return stay(s);
    case 'ready':
      // One test at a time: a second click while testing is ignored (the state is 'testing' then).
      if (e.type === 'capture.test') return to({ step: 'testing', identity: s.identity, last: s.last }, { type: 'testCapture' });
      if (e.type === 'retry') return to({ step: 'reading' }, { type: 'identifyScanner' });
      return stay(s);
    case 'testing':
      if (e.type === 'scanner.tested') return to({ step: 'ready', identity: s.identity, last: e.result });
      return stay(s);
    case 'unavailable':
      if (e.type === 'retry') return to({ step: 'reading' }, { type: 'identifyScanner' });
      return stay(s);
    default:
      return stay(s);
  }
}
