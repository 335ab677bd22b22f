// verifyChain names the first bad record and the kind of tampering.
import { describe, expect, it } from 'vitest';
import nacl from 'tweetnacl';
import { verifyChain } from '../../src/protocol/chain.ts';
import { GENESIS_HASH, parseBody, type SignedRecord } from '../../src/protocol/record.ts';
import { recordHash, sealRecord, signerFromSecretKey } from '../../src/protocol/sign.ts';

const kp = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(7));
const signer = signerFromSecretKey(kp.secretKey);

function chain(n: number, terminalId = 'T-1'): SignedRecord[] {
  const out: SignedRecord[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body = parseBody({
      v: 1, type: 'purchase', terminalId, seq, prevHash: prev, operatorId: 'op-1', hlc: { ms: 1000 + seq, c: 0 }, serverTime: { ms: 0, ref: '' },
      purchaseId: `p-${seq}`, customerId: 'c-1', accountId: 'a-1', amountMinor: 100 * seq, currency: 'SYP', pinVerified: false, offline: true,
    });
    const rec = sealRecord(body, signer);
    out.push(rec);
    prev = rec.hash;
  }
  return out;
}

describe('verifyChain', () => {
  it('accepts an intact chain and reports its head', () => {
    const recs = chain(10);
    expect(verifyChain(recs, kp.publicKey)).toEqual({ ok: true, count: 10, lastSeq: 10, lastHash: recs[9]!.hash });
    expect(verifyChain([], kp.publicKey)).toMatchObject({ ok: true, count: 0, lastSeq: 0, lastHash: GENESIS_HASH });
  });

  it('continues from a given point (a server verifying an upload batch)', () => {
    const recs = chain(10);
    expect(verifyChain(recs.slice(4), kp.publicKey, { terminalId: 'T-1', startSeq: 5, prevHash: recs[3]!.hash })).toMatchObject({ ok: true, lastSeq: 10 });
    expect(verifyChain(recs.slice(4), kp.publicKey, { startSeq: 5, prevHash: recs[2]!.hash })).toMatchObject({ ok: false, kind: 'broken_chain', seq: 5 });
    expect(verifyChain(recs.slice(4), kp.publicKey, { terminalId: 'T-2', startSeq: 5, prevHash: recs[3]!.hash })).toMatchObject({ ok: false, kind: 'wrong_terminal', seq: 5 });
  });

  it('edited amount (hash left alone): names that record', () => {
    const recs = chain(10);
    recs[4] = { ...recs[4]!, amountMinor: 1 } as SignedRecord;
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, index: 4, seq: 5, kind: 'edited', verifiedCount: 4 });
  });

  it('edited amount with the hash recomputed: the next link betrays it', () => {
    const recs = chain(10);
    const { hash: _h, sig, ...body } = { ...recs[4]!, amountMinor: 1 } as SignedRecord;
    recs[4] = { ...body, hash: recordHash(body as never), sig } as SignedRecord;
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, seq: 5, kind: 'edited' });
  });

  it('deleted row: names the record after the gap', () => {
    const recs = chain(10);
    recs.splice(6, 1);
    const r = verifyChain(recs, kp.publicKey);
    expect(r).toMatchObject({ ok: false, index: 6, seq: 8, kind: 'deleted' });
    expect(r.ok ? '' : r.message).toContain('seq 7 is missing');
  });

  it('deleted tail is invisible to the chain alone (the caller compares with the known head)', () => {
    expect(verifyChain(chain(10).slice(0, 8), kp.publicKey)).toMatchObject({ ok: true, lastSeq: 8 });
  });

  it('reordered rows: names the first out-of-place record', () => {
    const recs = chain(10);
    [recs[3], recs[4]] = [recs[4]!, recs[3]!];
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, index: 3, seq: 5, kind: 'reordered' });
  });

  it('duplicate row', () => {
    const recs = chain(5);
    recs.splice(3, 0, recs[2]!);
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, index: 3, seq: 3, kind: 'duplicate' });
  });

  it('forged signature (content intact): names that record', () => {
    const recs = chain(10);
    const forger = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(9));
    const { hash: _h, sig: _s, ...body } = recs[7]!;
    recs[7] = sealRecord(parseBody(body), signerFromSecretKey(forger.secretKey));
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, index: 7, seq: 8, kind: 'forged_signature' });
    const flipped = chain(3);
    flipped[2] = { ...flipped[2]!, sig: '0'.repeat(128) };
    expect(verifyChain(flipped, kp.publicKey)).toMatchObject({ ok: false, seq: 3, kind: 'forged_signature' });
  });

  it('a whole chain signed by another key fails at the first record', () => {
    const other = nacl.sign.keyPair.fromSeed(new Uint8Array(32).fill(1));
    expect(verifyChain(chain(3), other.publicKey)).toMatchObject({ ok: false, index: 0, kind: 'forged_signature' });
  });

  it('a fork (validly signed, wrong prevHash) is a broken chain', () => {
    const recs = chain(4);
    const { hash: _h, sig: _s, ...body } = recs[2]!;
    recs[2] = sealRecord(parseBody({ ...body, prevHash: 'f'.repeat(64) }), signer);
    expect(verifyChain(recs.slice(0, 3), kp.publicKey)).toMatchObject({ ok: false, seq: 3, kind: 'broken_chain' });
  });

  it('malformed input and records of another terminal', () => {
    const recs: unknown[] = chain(3);
    recs[1] = { ...(recs[1] as object), amountMinor: 1.5 };
    expect(verifyChain(recs, kp.publicKey)).toMatchObject({ ok: false, index: 1, seq: 2, kind: 'malformed' });
    expect(verifyChain([null], kp.publicKey)).toMatchObject({ ok: false, index: 0, seq: null, kind: 'malformed' });
    const mixed = [...chain(2), chain(3, 'T-9')[2]!];
    expect(verifyChain(mixed, kp.publicKey)).toMatchObject({ ok: false, index: 2, kind: 'wrong_terminal' });
  });
});

describe('verifyChain, property: any single tampering is caught at the tampered record', async () => {
  const fc = (await import('fast-check')).default;
  const base = chain(12);
  it('edit / delete / swap / forge at a random position', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 }), fc.constantFrom('edit', 'delete', 'swap', 'forge'), fc.integer({ min: 1, max: 10_000 }), (i, op, x) => {
        const recs = base.map((r) => ({ ...r })) as SignedRecord[];
        const expectKind = { edit: 'edited', delete: 'deleted', swap: 'reordered', forge: 'forged_signature' }[op];
        if (op === 'edit') recs[i] = { ...recs[i]!, amountMinor: recs[i]!.type === 'purchase' && recs[i]!.amountMinor === x ? x + 1 : x } as SignedRecord;
        if (op === 'delete') recs.splice(i, 1);
        if (op === 'swap') [recs[i], recs[i + 1]] = [recs[i + 1]!, recs[i]!];
        if (op === 'forge') recs[i] = { ...recs[i]!, sig: Buffer.from(nacl.sign.detached(Buffer.from(String(x)), kp.secretKey)).toString('hex') };
        const r = verifyChain(recs, kp.publicKey);
        expect(r).toMatchObject({ ok: false, index: i, kind: expectKind });
      }),
      { numRuns: 200 },
    );
  });
});
