// The driver against modules of the EF AA family, over a real socat pty with a man in the middle of the
// line (helpers/line-proxy.ts). Written from the family's published protocol
// (../shared/protocols/efaa-family.md), not from our simulator: the simulator is only the default module
// (helpers/module-under-test.ts; PALMPAY_MODULE_CMD swaps in another). The same tests run against the
// three dialects: family-only, palm variant with feature transfer, and PalmPay's fully extended module.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ScannerClient } from '../../drivers/client/client.ts';
import { judgeVerdict } from '../../drivers/client/verdict.ts';
import { encodeMessage, type SerialMessage } from '../../drivers/serial-module/codec.ts';
import { FAMILY, R, encodeVerifyReply } from '../../drivers/serial-module/family.ts';
import { SerialTransport } from '../../drivers/transport/serial.ts';
import { LineProxy } from './helpers/line-proxy.ts';
import { startModule, type ModuleUnderTest } from './helpers/module-under-test.ts';

const W = 320;
const H = 240;
/** A REPLY frame's data: answered mid, result, payload. */
const isReplyTo = (m: SerialMessage, mid: number) => m.mid === FAMILY.REPLY && m.data[0] === mid;
const reply = (mid: number, result: number, payload: Uint8Array = new Uint8Array(0)) => encodeMessage(FAMILY.REPLY, Uint8Array.from([mid, result, ...payload]));

/** Pearson correlation of two features (the test host's matcher for the module's features). */
function corr(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  let [ma, mb] = [0, 0];
  for (let i = 0; i < n; i++) [ma, mb] = [ma + a[i]!, mb + b[i]!];
  [ma, mb] = [ma / n, mb / n];
  let [ab, aa, bb] = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const [x, y] = [a[i]! - ma, b[i]! - mb];
    [ab, aa, bb] = [ab + x * y, aa + x * x, bb + y * y];
  }
  return ab / Math.sqrt(aa * bb || 1);
}

describe.each(['family', 'palm', 'extended'] as const)('%s module over a pty', (dialect) => {
  let mod: ModuleUnderTest;
  let proxy: LineProxy;
  let client: ScannerClient;

  beforeAll(async () => {
    mod = await startModule(dialect, { width: W, height: H });
    proxy = await LineProxy.start(mod.path);
    client = new ScannerClient(new SerialTransport({ path: proxy.hostPath }), { serial: { exchangeTimeoutMs: 300 } });
    await client.open({ timeoutMs: 5000 });
  });
  afterAll(async () => {
    await client?.close();
    await proxy?.stop();
    await mod?.stop();
  });
  beforeEach(async () => {
    proxy.rewrite = null;
    mod.remove();
    await client.deleteAll();
  });

  async function enrol(identity: string, name: string) {
    mod.present(identity);
    try {
      return await client.enrol({ name, timeoutS: 3 });
    } finally {
      mod.remove();
    }
  }
  async function verifyWith(identity: string) {
    mod.present(identity);
    try {
      return await client.verify({ palmTimeoutS: 3 });
    } finally {
      mod.remove();
    }
  }

  it('info: asks GET_VERSION first, then says which capabilities the module has', async () => {
    proxy.requests.length = 0;
    const info = await client.info();
    expect(proxy.requests[0]).toBe(FAMILY.GET_VERSION);
    expect(info.version).toBeTruthy();
    expect(info.users).toBe(0);
    expect(info.capabilities).toContain('family');
    const ours = info.capabilities!.filter((c) => c.startsWith('pp_'));
    if (dialect === 'extended') expect(ours).toEqual(expect.arrayContaining(['pp_info', 'pp_crc_images', 'pp_status', 'pp_indicator']));
    else expect(ours).toEqual([]);
    expect(info.capabilities!.includes('feature_transfer')).toBe(dialect !== 'family');
    // Asked again, the extensions are not tried again (tried once).
    const before = proxy.requests.length;
    await client.capabilities();
    expect(proxy.requests.length).toBe(before);
  });

  it('enrols, lists, verifies, deletes one user and then all', async () => {
    const a = await enrol('alice', 'pp-0001');
    const b = await enrol('bob', 'pp-0002');
    expect(a.reconciled).toBe(false);
    expect(a.userId).not.toBe(b.userId);
    const users = (await client.users()).sort((x, y) => x.userId - y.userId);
    expect(users).toEqual([
      { userId: a.userId, name: 'pp-0001', admin: false },
      { userId: b.userId, name: 'pp-0002', admin: false },
    ].sort((x, y) => x.userId - y.userId));
    await expect(verifyWith('alice')).resolves.toMatchObject({ userId: a.userId, name: 'pp-0001', verdictUnconfirmed: true });
    await client.deleteUser(a.userId);
    expect((await client.users()).map((u) => u.userId)).toEqual([b.userId]);
    await expect(verifyWith('alice')).rejects.toMatchObject({ code: 'MODULE_UNKNOWN_USER' });
    await client.deleteAll();
    expect(await client.users()).toEqual([]);
    await expect(client.verify({ palmTimeoutS: 1 })).rejects.toMatchObject({ code: 'NO_PALM' });
  });

  it("reconciles the module's table with the store's at start-up: orphans deleted, missing and adoptable listed", async () => {
    const a = await enrol('alice', 'pp-r1');
    const b = await enrol('bob', 'pp-r2');
    const c = await enrol('carol', 'pp-r4');
    const plan = await client.reconcileUsers([{ name: 'pp-r1', userId: a.userId }, { name: 'pp-r3' }, { name: 'pp-r4', userId: 999 }], { deleteOrphans: true });
    expect(plan.matched).toEqual([{ name: 'pp-r1', userId: a.userId }]);
    expect(plan.adopt).toEqual([{ name: 'pp-r4', userId: c.userId, storeHad: 999 }]);
    expect(plan.missing).toEqual([{ name: 'pp-r3' }]);
    expect(plan.orphans.map((u) => u.userId)).toEqual([b.userId]);
    expect(plan.deleted).toEqual([b.userId]);
    expect((await client.users()).map((u) => u.name).sort()).toEqual(['pp-r1', 'pp-r4']);
  });

  it('accepts a reply with extra trailing bytes, counts them and says so once', async () => {
    const a = await enrol('alice', 'pp-0003');
    proxy.rewrite = (m) => (isReplyTo(m, FAMILY.VERIFY) && m.data[1] === R.SUCCESS ? [encodeMessage(FAMILY.REPLY, Uint8Array.from([...m.data, 1, 2, 3, 4, 5]))] : undefined);
    const notices: string[] = [];
    const off = client.on('notice', (n) => notices.push(n));
    const before = client.stats.trailingBytes.VERIFY ?? 0;
    await expect(verifyWith('alice')).resolves.toMatchObject({ userId: a.userId, name: 'pp-0003' });
    await expect(verifyWith('alice')).resolves.toMatchObject({ userId: a.userId });
    off();
    expect((client.stats.trailingBytes.VERIFY ?? 0) - before).toBe(10);
    expect(notices.filter((n) => n.startsWith('VERIFY')).length).toBe(1);
  });

  it('refuses a short reply with a typed error, without asking again', async () => {
    await enrol('alice', 'pp-0004');
    proxy.rewrite = (m) => (isReplyTo(m, FAMILY.VERIFY) ? [encodeMessage(FAMILY.REPLY, m.data.subarray(0, 2 + 20))] : undefined);
    const before = proxy.count(FAMILY.VERIFY);
    await expect(verifyWith('alice')).rejects.toMatchObject({ code: 'MODULE_REPLY_SHORT' });
    expect(proxy.count(FAMILY.VERIFY) - before).toBe(1);
  });

  it('never repeats ENROLL_SINGLE after its reply is lost: reconciles with the table and adopts the id', async () => {
    let dropped = 0;
    proxy.rewrite = (m) => (isReplyTo(m, FAMILY.ENROLL_SINGLE) && dropped++ === 0 ? [] : undefined);
    const before = proxy.count(FAMILY.ENROLL_SINGLE);
    const r = await enrol('carol', 'pp-lost-1');
    expect(dropped).toBe(1);
    expect(r.reconciled).toBe(true);
    expect(proxy.count(FAMILY.ENROLL_SINGLE) - before).toBe(1);
    expect(await client.users()).toEqual([{ userId: r.userId, name: 'pp-lost-1', admin: false }]);
  });

  it('deletes the orphan a lost enrolment left when the caller gave up', async () => {
    const ac = new AbortController();
    proxy.rewrite = (m) => {
      if (!isReplyTo(m, FAMILY.ENROLL_SINGLE)) return undefined;
      ac.abort();
      return [];
    };
    mod.present('dana');
    await expect(client.enrol({ name: 'pp-gone', timeoutS: 3 }, { signal: ac.signal })).rejects.toMatchObject({ code: 'SCANNER_ABORTED' });
    mod.remove();
    proxy.rewrite = null;
    expect(await client.users()).toEqual([]);
  });

  it('a forged VERIFY reply on the line is a claim the host does not accept', async () => {
    const alice = await enrol('alice', 'pp-0005');
    const bob = await enrol('bob', 'pp-0006');
    // What the host's store would hold for each user where the module gives features.
    const stored = new Map<number, Uint8Array>();
    if (dialect !== 'family') for (const u of [alice, bob]) stored.set(u.userId, await client.getFeature(u.userId));
    const matchFeature =
      dialect === 'family'
        ? undefined
        : (feature: Uint8Array, userId: number) => {
            const scores = [...stored].map(([id, f]) => [id, corr(feature, f)] as const).sort((x, y) => y[1] - x[1]);
            return scores[0]![0] === userId && scores[0]![1] >= 0.8;
          };

    // Mallory (never enrolled) lays her palm; the man in the middle answers "alice verified".
    proxy.rewrite = (m) => (isReplyTo(m, FAMILY.VERIFY) ? [reply(FAMILY.VERIFY, R.SUCCESS, encodeVerifyReply({ userId: alice.userId, name: 'pp-0005', admin: false, unlockStatus: 1 }))] : undefined);
    const forged = await verifyWith('mallory');
    expect(forged).toMatchObject({ userId: alice.userId, verdictUnconfirmed: true }); // the line said so…
    const decision = judgeVerdict(forged, { matchFeature });
    expect(decision.accepted).toBe(false); // …and it is not accepted as proof
    if (dialect === 'family') expect(decision).toMatchObject({ code: 'VERDICT_UNCONFIRMED', askPin: true });
    else expect(decision).toMatchObject({ code: 'VERDICT_CONTRADICTED', askPin: false });
    expect(judgeVerdict(forged, { matchFeature, pinVerified: false }).accepted).toBe(false);

    // Alice herself, no forgery: accepted by the host's match where the module offers the feature, else only with her PIN.
    proxy.rewrite = null;
    const genuine = await verifyWith('alice');
    if (dialect === 'family') {
      expect(judgeVerdict(genuine, {})).toMatchObject({ accepted: false, askPin: true });
      expect(judgeVerdict(genuine, { pinVerified: true })).toMatchObject({ accepted: true, via: 'pin', userId: alice.userId });
    } else expect(judgeVerdict(genuine, { matchFeature })).toMatchObject({ accepted: true, via: 'host_match', userId: alice.userId });
  });

  it("uploads an image (the family's way where the module has no CRC upload) and decodes it; a chunk failing parity is read again", async () => {
    let images = 0;
    let size = 0;
    proxy.rewrite = (m) => {
      if (isReplyTo(m, FAMILY.GETSAVEDIMAGE) && m.data[1] === R.SUCCESS) size = Buffer.from(m.data).readUInt32BE(2);
      if (m.mid !== FAMILY.IMAGE || ++images !== 2) return undefined;
      const bad = encodeMessage(m.mid, m.data);
      bad[bad.length - 1]! ^= 0x5a; // the second chunk arrives with a wrong parity byte
      return [bad];
    };
    const before = proxy.count(FAMILY.UPLOADIMAGE);
    mod.present('bob');
    const cap = await client.capture({ want: 'frame', timeoutMs: 20_000 });
    mod.remove();
    if (cap.kind !== 'frame') throw new Error('expected a frame');
    expect([cap.width, cap.height]).toEqual(mod.sim ? [W, H] : [cap.width, cap.height]);
    expect(cap.pixels.length).toBe(cap.width * cap.height);
    let [sum, sq] = [0, 0];
    for (const p of cap.pixels) [sum, sq] = [sum + p, sq + p * p];
    const mean = sum / cap.pixels.length;
    expect(Math.sqrt(sq / cap.pixels.length - mean * mean)).toBeGreaterThan(5); // a picture, not a flat fill
    if (dialect === 'extended') {
      expect(proxy.count(FAMILY.UPLOADIMAGE) - before).toBe(0); // our CRC-checked upload instead
    } else {
      expect(size).toBeGreaterThan(4000);
      expect(proxy.count(FAMILY.UPLOADIMAGE) - before).toBe(Math.ceil(size / 4000) + 1); // one chunk read twice
      expect(client.stats.faults.PROTO_PARITY).toBeGreaterThan(0);
    }
  }, 30_000);

  it.skipIf(dialect === 'extended')('refuses an uploaded image that does not decode, typed', async () => {
    proxy.rewrite = (m) => (m.mid === FAMILY.IMAGE ? [encodeMessage(m.mid, new Uint8Array(m.data.length))] : undefined);
    mod.present('bob');
    const err = await client.capture({ want: 'frame', timeoutMs: 30_000 }).catch((e: unknown) => e);
    mod.remove();
    expect(err).toMatchObject({ code: 'SCANNER_UNRESPONSIVE', cause: { code: 'MODULE_IMAGE_INVALID' } });
  }, 40_000);
});
