import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { secretboxSealer, SEAL_FORMAT_SECRETBOX, SEAL_FORMAT_AES256GCM } from '../../src/ledger/sealer.ts';

const key = nacl.randomBytes(32);
const sealer = secretboxSealer(key);
const template = nacl.randomBytes(1536);

describe('template sealer (secretbox under the data key)', () => {
  it('round-trips, with a fresh nonce each time', () => {
    const a = sealer.seal(template, 'tpl-1');
    const b = sealer.seal(template, 'tpl-1');
    expect(a[0]).toBe(SEAL_FORMAT_SECRETBOX);
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
    expect(Buffer.from(sealer.open(a, 'tpl-1')).equals(Buffer.from(template))).toBe(true);
  });

  it.each([
    ['the wrong data key', (s: Uint8Array) => secretboxSealer(nacl.randomBytes(32)).open(s, 'tpl-1'), /wrong data key/],
    ['a flipped byte', (s: Uint8Array) => { const c = Uint8Array.from(s); c[40]! ^= 1; return sealer.open(c, 'tpl-1'); }, /wrong data key or damaged/],
    ['a row swap (bound to another id)', (s: Uint8Array) => sealer.open(s, 'tpl-2'), /another row/],
    ['truncation', (s: Uint8Array) => sealer.open(s.subarray(0, 30), 'tpl-1'), /too short/],
    ['an unknown format', (s: Uint8Array) => { const c = Uint8Array.from(s); c[0] = 9; return sealer.open(c, 'tpl-1'); }, /unknown seal format/],
  ])('refuses %s with TEMPLATE_UNSEAL_FAILED', (_n, open, why) => {
    const s = sealer.seal(template, 'tpl-1');
    expect(() => open(s)).toThrow(why);
    expect(() => open(s)).toThrow(expect.objectContaining({ code: 'TEMPLATE_UNSEAL_FAILED' }));
  });
});

describe('template sealer, AES-256-GCM format (opt-in)', () => {
  const gcm = secretboxSealer(key, 'aes-256-gcm');
  it('round-trips, and either sealer opens either format (a store may hold both)', () => {
    const g = gcm.seal(template, 'tpl-1');
    expect(g[0]).toBe(SEAL_FORMAT_AES256GCM);
    expect(Buffer.from(sealer.open(g, 'tpl-1')).equals(Buffer.from(template))).toBe(true);
    expect(Buffer.from(gcm.open(sealer.seal(template, 'tpl-1'), 'tpl-1')).equals(Buffer.from(template))).toBe(true);
  });
  it.each([
    ['the wrong data key', (s: Uint8Array) => secretboxSealer(nacl.randomBytes(32)).open(s, 'tpl-1')],
    ['a flipped byte', (s: Uint8Array) => { const c = Uint8Array.from(s); c[20]! ^= 1; return gcm.open(c, 'tpl-1'); }],
    ['a row swap', (s: Uint8Array) => gcm.open(s, 'tpl-2')],
    ['truncation', (s: Uint8Array) => gcm.open(s.subarray(0, 20), 'tpl-1')],
  ])('refuses %s with TEMPLATE_UNSEAL_FAILED', (_n, open) => {
    const s = gcm.seal(template, 'tpl-1');
    expect(() => open(s)).toThrow(expect.objectContaining({ code: 'TEMPLATE_UNSEAL_FAILED' }));
  });
});
