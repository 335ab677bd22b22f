// src/server/sign.ts, the one owner of signature checks at the centre: node:crypto's native Ed25519 (which the centre
// uses for speed) agrees with tweetnacl (the reference the protocol's vectors were made with) on the RFC 8032
// vectors and on random signatures, and the strict checks on top refuse what a lax verifier would take.
import { randomBytes } from 'node:crypto';
import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import { serverIdentity, newServerKeyPkcs8, signTime } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { isCanonicalSignature, publicKeyProblem, verifyAll, verifyCentreTime, verifySignature } from '../../src/server/sign.ts';

const P = (1n << 255n) - 19n;
const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const toLe = (n: bigint) => {
  const b = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) b[i] = Number(n & 255n);
  return b;
};
const fromLe = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
/** The same signature with S + L in place of S: verifies in a verifier without the S < L check. */
const malleable = (sig: Uint8Array) => Buffer.concat([sig.subarray(0, 32), toLe(fromLe(sig.subarray(32)) + L)]);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// RFC 8032 §7.1, tests 1–3: secret key (seed), public key, message, signature.
const RFC8032 = [
  ['9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a', '',
    'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b'],
  ['4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb', '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c', '72',
    '92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00'],
  ['c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7', 'fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025', 'af82',
    '6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a'],
] as const;

describe('Ed25519 at the centre: node:crypto agrees with tweetnacl', () => {
  it.each(RFC8032.map((v, i) => [i + 1, ...v] as const))('RFC 8032 test %i: both sign the same bytes and both verify', (_n, seed, pub, msg, sig) => {
    const kp = nacl.sign.keyPair.fromSeed(Buffer.from(seed, 'hex'));
    expect(hex(kp.publicKey)).toBe(pub);
    const m = Buffer.from(msg, 'hex');
    expect(hex(nacl.sign.detached(m, kp.secretKey))).toBe(sig);
    expect(hex(signerFromSecretKey(kp.secretKey).sign(m))).toBe(sig);
    expect(nacl.sign.detached.verify(m, Buffer.from(sig, 'hex'), kp.publicKey)).toBe(true);
    expect(verifySignature(pub, m, sig)).toBe(true);
  });

  it('agree on 60 random keys and messages, valid and altered', () => {
    for (let i = 0; i < 60; i++) {
      const kp = nacl.sign.keyPair.fromSeed(randomBytes(32));
      const m = randomBytes(i % 97);
      const sig = nacl.sign.detached(m, kp.secretKey);
      expect(hex(signerFromSecretKey(kp.secretKey).sign(m))).toBe(hex(sig));
      expect(verifySignature(hex(kp.publicKey), m, sig)).toBe(true);
      const altered = Buffer.from(sig);
      altered[i % 64]! ^= 1 << (i % 8);
      expect(verifySignature(hex(kp.publicKey), m, altered)).toBe(nacl.sign.detached.verify(m, altered, kp.publicKey));
      expect(verifySignature(hex(kp.publicKey), m, altered)).toBe(false);
    }
  });
});

describe('strict checks on top of the library', () => {
  const kp = nacl.sign.keyPair.fromSeed(randomBytes(32));
  const m = Buffer.from('PalmPay record v1\n{"seq":1}');
  const sig = nacl.sign.detached(m, kp.secretKey);

  it('refuses the malleable twin (S + L) that tweetnacl accepts', () => {
    const twin = malleable(sig);
    expect(nacl.sign.detached.verify(m, twin, kp.publicKey)).toBe(true); // why the check is ours, not the library's
    expect(isCanonicalSignature(twin)).toBe(false);
    expect(verifySignature(hex(kp.publicKey), m, twin)).toBe(false);
    expect(verifySignature(hex(kp.publicKey), m, twin.toString('hex'))).toBe(false);
  });

  it('refuses a signature whose R is not a canonical encoding (y ≥ p), and malformed ones', () => {
    expect(isCanonicalSignature(Buffer.concat([toLe(P + 1n), Buffer.alloc(32)]))).toBe(false);
    expect(isCanonicalSignature(Buffer.concat([toLe(1n), Buffer.alloc(32)]))).toBe(true);
    expect(verifySignature(hex(kp.publicKey), m, sig.subarray(0, 63))).toBe(false);
    expect(verifySignature(hex(kp.publicKey), m, 'zz'.repeat(64))).toBe(false);
  });

  it('refuses keys of small order and non-canonical keys, under which a constant signature verifies for any message', () => {
    const forged = Buffer.concat([toLe(1n), Buffer.alloc(32)]); // R = identity, S = 0
    const identity = toLe(1n);
    expect(nacl.sign.detached.verify(randomBytes(20), forged, identity)).toBe(true); // both libraries take it
    expect(publicKeyProblem(identity)).toMatch(/small order/);
    expect(verifySignature(hex(identity), randomBytes(20), forged)).toBe(false);
    expect(publicKeyProblem(toLe(P + 1n))).toMatch(/canonical/); // the identity again, written as y = p + 1
    expect(publicKeyProblem(toLe(P - 1n))).toMatch(/small order/); // y = −1, order 2
    expect(publicKeyProblem(Buffer.alloc(32))).toMatch(/small order/); // y = 0, order 4
    // The two order-8 y values (libsodium's blocklist), with either sign bit.
    for (const h of ['26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', 'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85']) {
      expect(publicKeyProblem(Buffer.from(h, 'hex'))).toMatch(/small order/);
    }
    expect(publicKeyProblem(toLe(2n))).toMatch(/not a canonical encoding of a curve point/); // y = 2 is on no point
    expect(publicKeyProblem(kp.publicKey)).toBeUndefined();
    expect(publicKeyProblem(randomBytes(31))).toMatch(/32 bytes/);
  });

  it('verifyAll gives the same verdicts inline and through a worker verifier, which sees only canonical signatures', async () => {
    const items = [{ message: m, sig: hex(sig) }, { message: m, sig: malleable(sig).toString('hex') }, { message: Buffer.from('x'), sig: hex(sig) }, { message: m, sig: 'nothex' }];
    const inline = await verifyAll(hex(kp.publicKey), items);
    const seen: string[] = [];
    const pooled = await verifyAll(hex(kp.publicKey), items, async (_key, screened) => {
      seen.push(...screened.map((s) => s.signature.toString('hex')));
      return screened.map((s) => nacl.sign.detached.verify(s.message, s.signature, kp.publicKey));
    });
    expect(inline).toEqual([true, false, false, false]);
    expect(pooled).toEqual(inline);
    expect(seen).toEqual([hex(sig), hex(sig)]); // the malleable twin never reached the lax verifier
  });

  it('remembers a verified server time, and a forged one stays refused', () => {
    const id = serverIdentity(newServerKeyPkcs8());
    const t = signTime(id, 1_795_000_000_000);
    expect(verifyCentreTime(id.publicKeyHex, t)).toBe(true);
    expect(verifyCentreTime(id.publicKeyHex, t)).toBe(true);
    expect(verifyCentreTime(id.publicKeyHex, { ms: t.ms + 1, sig: t.sig })).toBe(false);
    expect(verifyCentreTime(id.publicKeyHex, { ms: t.ms, sig: malleable(Buffer.from(t.sig, 'hex')).toString('hex') })).toBe(false);
  });
});
