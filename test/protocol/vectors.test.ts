// The published test vectors (src/protocol/vectors.json, CANONICAL.md) must match what the code produces.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { canonicalJson } from '../../src/protocol/canonical.ts';
import { parseBody, RECORD_TYPES, type RecordBody } from '../../src/protocol/record.ts';
import { recordHash, sealRecord, signerFromSecretKey, signingMessage, verifyRecordSignature } from '../../src/protocol/sign.ts';
import { verifyChain } from '../../src/protocol/chain.ts';

interface Vector { body: RecordBody; canonical: string; hash: string; sig: string }
const vectors = JSON.parse(readFileSync(new URL('../../src/protocol/vectors.json', import.meta.url), 'utf8')) as {
  seedHex: string; publicKeyHex: string; signingDomainHex: string; records: Vector[];
};
const seed = Buffer.from(vectors.seedHex, 'hex');
const kp = nacl.sign.keyPair.fromSeed(seed);

describe('record v1 test vectors', () => {
  it('cover every record type', () => {
    expect(new Set(vectors.records.map((r) => r.body.type))).toEqual(new Set(RECORD_TYPES));
  });

  it('derive the published public key from the seed', () => {
    expect(Buffer.from(kp.publicKey).toString('hex')).toBe(vectors.publicKeyHex);
    expect(Buffer.from('PalmPay record v1\n').toString('hex')).toBe(vectors.signingDomainHex);
  });

  it.each(vectors.records.map((r) => [r.body.seq, r] as const))('seq %i: canonical bytes, hash and signature match', (_seq, v) => {
    const body = parseBody(v.body);
    expect(canonicalJson(body)).toBe(v.canonical);
    expect(recordHash(body)).toBe(v.hash);
    const signed = sealRecord(body, signerFromSecretKey(kp.secretKey));
    expect(signed.sig).toBe(v.sig);
    // tweetnacl (the reference implementation here) gives the same bytes, and verifies them.
    expect(Buffer.from(nacl.sign.detached(signingMessage(body), kp.secretKey)).toString('hex')).toBe(v.sig);
    expect(nacl.sign.detached.verify(signingMessage(body), Buffer.from(v.sig, 'hex'), kp.publicKey)).toBe(true);
    expect(verifyRecordSignature({ ...body, hash: v.hash, sig: v.sig }, kp.publicKey)).toBe(true);
  });

  it('form a valid chain', () => {
    const recs = vectors.records.map((v) => ({ ...v.body, hash: v.hash, sig: v.sig }));
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: true, count: vectors.records.length, lastSeq: vectors.records.length, lastHash: vectors.records.at(-1)!.hash });
  });

  it('the vector printed in CANONICAL.md is the one in vectors.json', () => {
    const md = readFileSync(new URL('../../src/protocol/CANONICAL.md', import.meta.url), 'utf8');
    const v = vectors.records[1]!;
    for (const s of [v.canonical, v.hash, v.sig, vectors.seedHex, vectors.publicKeyHex]) expect(md).toContain(s);
  });
});

// CANONICAL.md §7: a purchase a supervisor approved above the per-transaction cap. Without the two optional
// fields the body is byte-for-byte the published seq 2 vector (the chain above still verifies).
describe('purchase with a supervisor override (approvedBy + overriddenLimits)', () => {
  const base = vectors.records[1]!;
  const canonical =
    '{"accountId":"A-456","amountMinor":1250000,"approvedBy":"op-9","currency":"USD","customerId":"P-456","hlc":{"c":0,"ms":1795000101000},"offline":true,"operatorId":"op-7","overriddenLimits":["PER_TRANSACTION_CAP"],"pinVerified":false,"prevHash":"b765a72bf3afb56ebe6b40fca92a6c9598984b1daeecb3dbf0e880df457a6e38","purchaseId":"0b7e6a52-4f7d-4c1e-9d1a-2f0c5d4e3b21","seq":2,"serverTime":{"ms":1795000000000,"ref":"st-42"},"terminalId":"T-0001","type":"purchase","v":1}';
  const hash = '351f7777a1e7e6628e6644e58d19b7dd6be37883e9d46a9c4b7904facadbc7da';
  const sig = '501819eb2ac6e2a1948465c69dba011f8a8a30ad6dadd95e45ad10b523697b28e35e194a016b727c50f2435bd4003333869482cb3549a5735ac0d865d7cc240b';

  it('absent fields (or set to undefined) give the unchanged v1 bytes', () => {
    expect(base.body.type).toBe('purchase');
    expect(canonicalJson(parseBody({ ...base.body, approvedBy: undefined, overriddenLimits: undefined }))).toBe(base.canonical);
  });

  it('present: canonical bytes, hash and signature match the published vector', () => {
    const body = parseBody({ ...base.body, amountMinor: 1_250_000, approvedBy: 'op-9', overriddenLimits: ['PER_TRANSACTION_CAP'] });
    expect(canonicalJson(body)).toBe(canonical);
    expect(recordHash(body)).toBe(hash);
    expect(sealRecord(body, signerFromSecretKey(kp.secretKey)).sig).toBe(sig);
    expect(nacl.sign.detached.verify(signingMessage(body), Buffer.from(sig, 'hex'), kp.publicKey)).toBe(true);
  });
});

// CANONICAL.md §8: an enrolment where the person chose their PIN (`pinHash`, its scrypt verifier) or deferred it
// (`pinDeferred`). Without either the body is byte-for-byte the published seq 6 vector (the chain still verifies).
describe('enrolment with the PIN chosen (pinHash) or deferred (pinDeferred)', () => {
  const base = vectors.records.find((r) => r.body.type === 'enrolment')!;
  const variants = (vectors as unknown as { enrolmentPinVariants: Vector[] }).enrolmentPinVariants;

  it('absent fields give the unchanged v1 bytes', () => {
    expect(canonicalJson(parseBody({ ...base.body, pinHash: undefined, pinDeferred: undefined } as RecordBody))).toBe(base.canonical);
  });

  it.each(variants.map((v) => [Object.keys(v.body).find((k) => k.startsWith('pin'))!, v] as const))('%s: canonical bytes, hash and signature match the published vector', (_field, v) => {
    const body = parseBody(v.body);
    expect(canonicalJson(body)).toBe(v.canonical);
    expect(recordHash(body)).toBe(v.hash);
    expect(sealRecord(body, signerFromSecretKey(kp.secretKey)).sig).toBe(v.sig);
    expect(nacl.sign.detached.verify(signingMessage(body), Buffer.from(v.sig, 'hex'), kp.publicKey)).toBe(true);
  });

  it('both at once is malformed: a PIN is chosen or deferred', () => {
    const [chosen] = variants;
    expect(() => parseBody({ ...chosen!.body, pinDeferred: true })).toThrow(/not both/);
  });
});

// Issue 14 §2: an enrolment on a palm module that matches on its own pins the module feature's family and digest
// (`moduleFeature`). Without it the body is byte-for-byte the published seq 6 vector.
describe('enrolment pinning a palm module feature (moduleFeature)', () => {
  const base = vectors.records.find((r) => r.body.type === 'enrolment')!;
  const v = (vectors as unknown as { enrolmentModuleFeatureVariant: Vector }).enrolmentModuleFeatureVariant;

  it('absent gives the unchanged v1 bytes', () => {
    expect(canonicalJson(parseBody({ ...base.body, moduleFeature: undefined } as RecordBody))).toBe(base.canonical);
  });

  it('canonical bytes, hash and signature match the published vector', () => {
    const body = parseBody(v.body);
    expect(canonicalJson(body)).toBe(v.canonical);
    expect(recordHash(body)).toBe(v.hash);
    expect(sealRecord(body, signerFromSecretKey(kp.secretKey)).sig).toBe(v.sig);
    expect(nacl.sign.detached.verify(signingMessage(body), Buffer.from(v.sig, 'hex'), kp.publicKey)).toBe(true);
  });

  it('a family that is not a plain name, a digest that is not SHA-256 hex, or an extra key is malformed', () => {
    const pin = (v.body as { moduleFeature: { family: string; digest: string } }).moduleFeature;
    expect(() => parseBody({ ...v.body, moduleFeature: { ...pin, family: 'Palm Sim' } } as RecordBody)).toThrow();
    expect(() => parseBody({ ...v.body, moduleFeature: { ...pin, family: '' } } as RecordBody)).toThrow();
    expect(() => parseBody({ ...v.body, moduleFeature: { ...pin, digest: pin.digest.toUpperCase() } } as RecordBody)).toThrow();
    expect(() => parseBody({ ...v.body, moduleFeature: { ...pin, blob: 'AAAA' } } as unknown as RecordBody)).toThrow();
  });
});

// Issue 14 §2: an enrolment on a palm module that gives no image pins its feature and no templates: the same
// body with `templateDigests: []` (the centre refuses an empty list without a feature: ENROLMENT_WITHOUT_PALM).
describe('template-less enrolment on a palm module feature', () => {
  const v = (vectors as unknown as { enrolmentFeatureOnlyVariant: Vector }).enrolmentFeatureOnlyVariant;

  it('canonical bytes, hash and signature match the published vector', () => {
    const body = parseBody(v.body);
    expect((body as { templateDigests: string[] }).templateDigests).toEqual([]);
    expect(canonicalJson(body)).toBe(v.canonical);
    expect(v.canonical).toContain('"templateDigests":[]');
    expect(recordHash(body)).toBe(v.hash);
    expect(sealRecord(body, signerFromSecretKey(kp.secretKey)).sig).toBe(v.sig);
    expect(nacl.sign.detached.verify(signingMessage(body), Buffer.from(v.sig, 'hex'), kp.publicKey)).toBe(true);
  });
});
