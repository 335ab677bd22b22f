// The sealed PIN of a report request (src/protocol/report-pin.ts): only the centre opens it, only for the request it
// was sealed for; the centre's key is derived from its signing key (stable across restarts) and believed by a
// terminal only under the pinned centre key.
import { describe, expect, it } from 'vitest';
import { newServerKeyPkcs8, sealFor, serverIdentity } from '../../src/protocol/crypto.ts';
import { openReportPin, reportPinKeyPair, sealedPinDigest, sealReportPin, signReportPinKey, verifyReportPinKey } from '../../src/protocol/report-pin.ts';

const centre = serverIdentity(newServerKeyPkcs8());
const keys = reportPinKeyPair(centre.privateKey);
const bound = { terminalId: 'T1', requestId: 'rq-1', personId: 'P1', month: '2026-11' };

describe('report PIN sealing', () => {
  it('opens at the centre for exactly the request it was sealed for', () => {
    const box = sealReportPin(keys.publicHex, bound, '4321');
    expect(openReportPin(keys.privatePkcs8b64, box, bound)).toBe('4321');
    expect(sealedPinDigest(box)).toMatch(/^[0-9a-f]{64}$/);
    for (const other of [{ requestId: 'rq-2' }, { personId: 'P2' }, { month: '2026-10' }, { terminalId: 'T2' }]) {
      expect(() => openReportPin(keys.privatePkcs8b64, box, { ...bound, ...other })).toThrow(expect.objectContaining({ code: 'REPORT_PIN_UNBOUND' }));
    }
  });

  it('another centre, a template box or a damaged box does not open', () => {
    const elsewhere = reportPinKeyPair(serverIdentity(newServerKeyPkcs8()).privateKey);
    const box = sealReportPin(keys.publicHex, bound, '4321');
    expect(() => openReportPin(elsewhere.privatePkcs8b64, box, bound)).toThrow(expect.objectContaining({ code: 'REPORT_PIN_UNBOUND' }));
    const asTemplate = sealFor(keys.publicHex, Buffer.from(JSON.stringify({ v: 1, ...bound, pin: '4321' })));
    expect(() => openReportPin(keys.privatePkcs8b64, asTemplate, bound)).toThrow(expect.objectContaining({ code: 'REPORT_PIN_UNBOUND' }));
    const damaged = Buffer.from(box, 'base64');
    damaged[damaged.length - 1]! ^= 1;
    expect(() => openReportPin(keys.privatePkcs8b64, damaged.toString('base64'), bound)).toThrow(expect.objectContaining({ code: 'REPORT_PIN_UNBOUND' }));
  });

  it('the key is the same at every start of the centre and is believed only under the pinned centre key', () => {
    expect(reportPinKeyPair(centre.privateKey).publicHex).toBe(keys.publicHex);
    const published = signReportPinKey(centre.privateKey, keys.publicHex);
    expect(verifyReportPinKey(centre.publicKeyHex, published)).toBe(keys.publicHex);
    const other = serverIdentity(newServerKeyPkcs8());
    expect(() => verifyReportPinKey(other.publicKeyHex, published)).toThrow(expect.objectContaining({ code: 'REPORT_PIN_KEY_FORGED' }));
    expect(() => verifyReportPinKey(centre.publicKeyHex, { ...published, key: reportPinKeyPair(other.privateKey).publicHex })).toThrow(expect.objectContaining({ code: 'REPORT_PIN_KEY_FORGED' }));
    expect(() => verifyReportPinKey(undefined, published)).toThrow(expect.objectContaining({ code: 'REPORT_PIN_KEY_FORGED' }));
  });
});
