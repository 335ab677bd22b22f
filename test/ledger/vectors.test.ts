// The published test vectors (src/ledger/vectors.json, CANONICAL.md) must match what the code produces.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { canonicalJson } from '../../src/ledger/canonical.ts';
import { parseBody, RECORD_TYPES, type RecordBody } from '../../src/ledger/record.ts';
import { recordHash, sealRecord, signerFromSecretKey, signingMessage, verifyRecordSignature } from '../../src/ledger/sign.ts';
import { verifyChain } from '../../src/ledger/chain.ts';

interface Vector { body: RecordBody; canonical: string; hash: string; sig: string }
const vectors = JSON.parse(readFileSync(new URL('../../src/ledger/vectors.json', import.meta.url), 'utf8')) as {
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
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: true, count: 7, lastSeq: 7, lastHash: vectors.records[6]!.hash });
  });

  it('the vector printed in CANONICAL.md is the one in vectors.json', () => {
    const md = readFileSync(new URL('../../src/ledger/CANONICAL.md', import.meta.url), 'utf8');
    const v = vectors.records[1]!;
    for (const s of [v.canonical, v.hash, v.sig, vectors.seedHex, vectors.publicKeyHex]) expect(md).toContain(s);
  });
});
