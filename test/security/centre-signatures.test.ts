// Attacks on the centre's signature checks (src/server/sign.ts, their one owner), on SQLite and, with
// PALMPAY_TEST_PG, on PostgreSQL:
// - a malleable twin of a record's or a request's signature (S + L: verifies in a verifier without the S < L
//   check, such as tweetnacl) is refused, whichever library verifies underneath;
// - a terminal cannot register a key of small order or a non-canonical point encoding: under the identity key a
//   constant signature (R = identity, S = 0) verifies for every message, so anyone could sign "its" records and
//   the terminal could disown them.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationHeader, newEncKeyPair } from '../../src/protocol/crypto.ts';
import { signerFromSecretKey } from '../../src/protocol/sign.ts';
import { purchaseDraft } from '../../bench/sync/loadgen.ts';
import { enrolCustomer, openCentre, registeredTerminal, type Centre, type TestTerminal } from './harness.ts';
import { PG_URL } from '../server/helpers.ts';

const L = (1n << 252n) + 27742317777372353535851937790883648493n;
const P = (1n << 255n) - 19n;
const toLe = (n: bigint) => {
  const b = Buffer.alloc(32);
  for (let i = 0; i < 32; i++, n >>= 8n) b[i] = Number(n & 255n);
  return b;
};
const fromLe = (b: Uint8Array) => b.reduceRight((n, byte) => (n << 8n) | BigInt(byte), 0n);
const malleableHex = (sigHex: string) => {
  const sig = Buffer.from(sigHex, 'hex');
  return Buffer.concat([sig.subarray(0, 32), toLe(fromLe(sig.subarray(32)) + L)]).toString('hex');
};

describe.each(PG_URL ? (['sqlite', 'postgres'] as const) : (['sqlite'] as const))('signature attacks on the centre (%s)', (kind) => {
  let c: Centre;
  let t: TestTerminal;
  beforeAll(async () => {
    c = await openCentre(kind);
    t = await registeredTerminal(c.central, 'T-SIG');
    await enrolCustomer(c.central, t, 'P-1', 'A-1');
    await c.central.creditAccount('A-1', 10_000, 'SYP');
  });
  afterAll(async () => c.close());

  it('refuses a record whose signature is the malleable twin (S + L) of its valid one; the valid one is then accepted', async () => {
    const rec = t.chain.next(purchaseDraft(t.id, 1, 'P-1', 'A-1', 100));
    const [twin] = await c.central.ingest(t.id, [{ ...rec, sig: malleableHex(rec.sig) }]);
    expect(twin).toMatchObject({ seq: rec.seq, status: 'invalid' });
    expect(twin!.reason).toMatch(/signature/);
    const [real] = await c.central.ingest(t.id, [rec]);
    expect(real!.status).toBe('accepted');
  });

  it('refuses a request header signed with the malleable twin of a valid signature (AUTH_FAILED)', async () => {
    const header = authorizationHeader(t.id, Date.now(), (m) => t.signer.sign(m), 'GET', '/v1/feed?cursor=0', '');
    const sig = header.slice(-128);
    await expect(c.central.authenticate(header.slice(0, -128) + malleableHex(sig), 'GET', '/v1/feed?cursor=0', '')).rejects.toMatchObject({ code: 'AUTH_FAILED' });
    await expect(c.central.authenticate(header, 'GET', '/v1/feed?cursor=0', '')).resolves.toMatchObject({ id: t.id });
  });

  it.each([
    ['the identity (order 1)', toLe(1n)],
    ['y = −1 (order 2)', toLe(P - 1n)],
    ['y = 0 (order 4)', Buffer.alloc(32)],
    ['the identity written non-canonically (y = p + 1)', toLe(P + 1n)],
  ])('refuses to register %s as a terminal key; the code stays usable for a real key', async (_what, key) => {
    const { code } = await c.central.addTerminal({ name: 'weak', branch: 'B1', region: 'R1' });
    await expect(c.central.registerTerminal({ code, publicKey: key.toString('hex'), encKey: newEncKeyPair().publicHex })).rejects.toMatchObject({ code: 'PUBLIC_KEY_UNUSABLE', status: 400 });
    const good = signerFromSecretKey(randomBytes(32));
    await expect(c.central.registerTerminal({ code, publicKey: Buffer.from(good.publicKey).toString('hex'), encKey: newEncKeyPair().publicHex })).resolves.toHaveProperty('certificate');
  });
});
